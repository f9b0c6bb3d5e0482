"""YAML loading that keeps where every value came from.

Every error netweave reports points at ``file:line:col``, so the loader builds plain
Python data (dicts, lists, scalars) *and* a table mapping each value's path
(``("vpcs", "vpc01", "cidr")``) to its position in the file. Duplicate keys are an
error: PyYAML would silently keep the last one, which is how a route gets lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's composer is an order of magnitude faster on 100k-prefix stacks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

try:
    from yaml_rs import AliasLimits as _AliasLimits
    from yaml_rs import DuplicateKeyPolicy as _DuplicateKeyPolicy
    from yaml_rs import loads as _fast_loads
except ImportError:  # pragma: no cover - optional accelerator
    _fast_loads = None  # type: ignore[assignment]

from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_constructor = SafeConstructor()

# --- what netweave reads at all -------------------------------------------------------
# A 100,000-prefix stack is 7 MB; anything near this is not a hand-written topology.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# Nodes that aliases may add by repeating what an anchor holds: a 'billion laughs' file
# (aliases of aliases) would otherwise expand to gigabytes.
MAX_ALIAS_NODES = 100_000
# No number in a topology has more than 10 digits (AS numbers); longer ones are refused
# before Python converts them (int() of 4,301 digits raises, repr() of them too).
MAX_NUMBER_DIGITS = 20
# yaml-rs recurses once per nesting level and overflows the C stack near 10,000 levels
# (a segfault, not an error). Block nesting needs about one column per level, so files
# whose lines are all shorter than this go to it; libyaml stops at 1,000 levels itself.
_FAST_PARSER_MAX_LINE = 1000
# Files up to this size (every hand-written stack) are read by the careful parser alone:
# one reading, positions included (~1 ms per KiB). Bigger ones are read by yaml-rs and
# located only when a finding needs it.
CAREFUL_BELOW = 64 * 1024
_BOM = "\ufeff"
# What YAML 1.2 allows in a stream (section 5.1, c-printable): no C0 controls but tab,
# LF and CR, no DEL, no C1 controls but NEL, no surrogates, no U+FFFE/U+FFFF.
_NOT_PRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "backspace", 0x0B: "vertical tab", 0x0C: "form feed",
                  0x1B: "ESC", 0x7F: "DEL"}


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column, as editors count them; the end is just past the last
    character of the value (or key) — SARIF's and LSP's convention — and 0 when unknown.
    Two positions are equal when they start at the same place."""

    line: int
    column: int
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)


class Source:
    """A loaded topology document: its data and where each part of it was written.

    Positions are only needed to report findings, and building them costs far more
    than parsing (PyYAML's node tree), so a file parsed on the fast path gets its
    position tables on first use.
    """

    def __init__(self, file: str, data: Any, text: str = "",
                 values: dict[PathKey, Position] | None = None,
                 keys: dict[PathKey, Position] | None = None) -> None:
        self.file = file
        self.data = data
        self.text = text
        self._values = values
        self._keys = keys

    # The careful parser refused what the fast one read (they disagree on a few corners
    # of YAML): findings cannot be located, and lint reports this error instead.
    position_error: LoadError | None = None

    def _locate(self) -> None:
        try:
            located = _parse_with_positions(self.text, self.file)
            self._values, self._keys = located._values, located._keys
        except LoadError as error:
            self._values, self._keys = {}, {}
            self.position_error = error

    @property
    def values(self) -> dict[PathKey, Position]:
        if self._values is None:
            self._locate()
        assert self._values is not None
        return self._values

    @property
    def keys(self) -> dict[PathKey, Position]:
        if self._keys is None:
            self._locate()
        assert self._keys is not None
        return self._keys

    def position(self, path: PathKey, *, at_key: bool = False) -> Position:
        """Position of ``path``; falls back to the nearest enclosing node that has one."""
        table = self.keys if at_key else self.values
        probe = tuple(path)
        while probe:
            pos = table.get(probe) or self.values.get(probe)
            if pos is not None:
                return pos
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))


class LoadError(Exception):
    """The file cannot be read as a topology at all (exit code 2)."""

    def __init__(self, file: str, line: int, column: int, code: str, rule: str, message: str,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.code = code
        self.rule = rule
        self.message = message
        self.hint = hint


# Line breaks as PyYAML counts them (its marks give every position netweave reports).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """The lines of a file, numbered as positions count them (line N is item N-1)."""
    return _LINE_BREAK.split(text)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line, line_start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, brk.end()
    return line, offset - line_start + 1


class OversizedNumber:
    """A number too long to be converted (more than :data:`MAX_NUMBER_DIGITS` digits).

    The loader keeps it as this marker instead of converting it; the schema stage
    reports it where it stands (a position needs the whole file loaded)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<a number of {self.digits} digits>"


def number_digits(value: object) -> int | None:
    """Digits of a number too long for a topology (an int from the fast parser, or the
    loader's marker); None for anything else. Never converts the int to text."""
    if isinstance(value, OversizedNumber):
        return value.digits
    if type(value) is int and not -(10 ** MAX_NUMBER_DIGITS) < value < 10 ** MAX_NUMBER_DIGITS:
        return max(MAX_NUMBER_DIGITS + 1, int(abs(value).bit_length() * 0.30103))
    return None


# --- YAML 1.2 core schema, as the fast parser reads plain scalars ----------------------
# The two parsers must read a file alike: PyYAML alone would apply YAML 1.1 (yes/on are
# booleans, 010 is octal, 1:20 is sexagesimal); yaml-rs, yaml-language-server and the
# JSON Schema read YAML 1.2. These follow yaml-rs's src/load/scalar.rs (1.2 core schema
# plus '_' separators and 0b binary); tests/test_source.py checks both agree.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False,
          "FALSE": False}
# (each pattern reads every character once: no nested quantifiers, no backtracking blow-up
# on a megabyte of digits)
_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]+)")
_FLOAT = re.compile(r"[-+]?([0-9_]*)(\.[0-9_]*)?(?:[eE][-+]?([0-9_]*))?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.[iI][nN][fF]|\.[nN][aA][nN]")
_DIGIT = re.compile(r"[0-9]")


def _is_int(text: str) -> bool:
    match = _INT.fullmatch(text)
    if match is None:
        return False
    body = match.group(1)
    digits = body[2:] if body[:2].lower() in ("0x", "0o", "0b") else body
    return digits.strip("_") != ""


def _is_float(text: str) -> bool:
    if _SPECIAL_FLOAT.fullmatch(text):
        return True
    match = _FLOAT.fullmatch(text)
    if match is None:
        return False
    whole, fraction, exponent = match.groups()
    if not _DIGIT.search(whole + (fraction or "")):
        return False
    if exponent is not None:
        return _DIGIT.search(exponent) is not None
    return fraction is not None


_STR_TAG, _INT_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int"
_FLOAT_TAG, _BOOL_TAG = "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"


def _plain_tag(text: str) -> str:
    if text == "<<":
        return _MERGE_TAG  # merge keys: not YAML 1.2 core, but what stacks use them for
    if text in _NULLS:
        return _NULL_TAG
    if text in _BOOLS:
        return _BOOL_TAG
    if _is_int(text):
        return _INT_TAG
    if _is_float(text):
        return _FLOAT_TAG
    return _STR_TAG


class _Loader12(_Loader):
    """libyaml's parser with YAML 1.2 core resolution of plain scalars."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _plain_tag(value)
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return,no-untyped-call]


def _integer(text: str) -> int | OversizedNumber | None:
    if not _is_int(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-").replace("_", "")
    base = {"x": 16, "o": 8, "b": 2}.get(body[1:2].lower(), 10) if body[:1] == "0" else 10
    digits = (body[2:] if base != 10 else body).lstrip("0") or "0"
    if len(digits) > MAX_NUMBER_DIGITS:  # checked before int() converts it
        return OversizedNumber(len(digits))
    return sign * int(digits, base)


def _float(text: str) -> float | None:
    if _SPECIAL_FLOAT.fullmatch(text):
        return float(text.replace(".", "").lower())  # '-.Inf' -> float('-inf')
    if not _is_float(text):
        return None
    return float(text.replace("_", ""))


def _scalar(node: ScalarNode) -> Any:
    """A scalar's value: YAML 1.2 core for null, bool, int and float; text otherwise."""
    tag, text = node.tag, node.value
    if tag == _STR_TAG:
        return text
    if tag == _NULL_TAG and text in _NULLS:
        return None
    if tag == _BOOL_TAG and text in _BOOLS:
        return _BOOLS[text]
    if tag == _INT_TAG:
        number = _integer(text)
        if number is not None:
            return number
    if tag == _FLOAT_TAG:
        real = _float(text)
        if real is not None:
            return real
    if tag == "tag:yaml.org,2002:timestamp":
        return text  # keep text: dates are never topology values
    ctor = SafeConstructor.yaml_constructors.get(tag)
    if ctor is None:
        return text
    return ctor(_constructor, node)  # an explicit tag (!!binary, !!bool yes, ...)


def _pos(node: Node) -> Position:
    start, end = node.start_mark, _end(node)
    return Position(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _end(node: Node) -> Mark:
    """A block collection's end mark is the next token (the indentation of the next key):
    it ends where its last value does."""
    while isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node.end_mark


def _merged_pairs(file: str, node: MappingNode) -> Iterator[tuple[Node, Node]]:
    """The pairs a ``<<: *anchor`` merge brings in, outermost first."""
    for key, value in node.value:
        if key.tag != _MERGE_TAG:
            continue
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for src in sources:
            if not isinstance(src, MappingNode):
                p = _pos(src)
                raise LoadError(file, p.line, p.column, "S002", "yaml-merge",
                                "a '<<' merge key must refer to a mapping")
            yield from _merged_pairs(file, src)
            yield from ((k, v) for k, v in src.value if k.tag != _MERGE_TAG)


class _Builder:
    def __init__(self, source: Source, *, aliases: bool = True) -> None:
        self.source = source
        self.values: dict[PathKey, Position] = {}
        self.keys: dict[PathKey, Position] = {}
        # Aliases need both '&' and '*' in the text: only then track what was built.
        self._built: set[int] | None = set() if aliases else None
        self._replaying = 0
        self._replayed = 0

    def build(self, node: Node, path: PathKey) -> Any:
        self.values[path] = _pos(node)
        if self._replaying:
            self._replayed += 1
            if self._replayed > MAX_ALIAS_NODES:
                p = _pos(node)
                raise LoadError(
                    self.source.file, p.line, p.column, "S005", "limit-exceeded",
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} values (an alias of "
                    "an alias of ... repeats what this anchor holds)",
                    hint="write the values out, or use fewer levels of aliases")
        if isinstance(node, ScalarNode):
            try:
                return _scalar(node)
            except (yaml.YAMLError, ValueError, TypeError) as exc:
                p = _pos(node)
                raise LoadError(self.source.file, p.line, p.column, "S001", "yaml-syntax",
                                f"invalid YAML value: {exc}") from None
        seen = self._built is not None and id(node) in self._built
        if self._built is not None:
            self._built.add(id(node))
        self._replaying += seen
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._replaying -= seen
        raise LoadError(self.source.file, *_pos_tuple(node), "S001", "yaml-syntax",
                        f"unsupported YAML node {node.tag}")

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in _merged_pairs(self.source.file, node):
            key = self._key(key_node)
            out[key] = self.build(value_node, (*path, key))
            self.keys[(*path, key)] = _pos(key_node)
        own: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            if key in own:
                first = own[key]
                p = _pos(key_node)
                raise LoadError(
                    self.source.file, p.line, p.column, "S003", "duplicate-key",
                    f"duplicate key '{key}' (first defined at line {first.line}, "
                    f"column {first.column}); YAML would silently keep only the last one",
                    hint=f"merge the two '{key}' entries or rename one of them",
                )
            own[key] = _pos(key_node)
            self.keys[(*path, key)] = own[key]
            out[key] = self.build(value_node, (*path, key))
        return out

    def _key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            p = _pos(node)
            raise LoadError(self.source.file, p.line, p.column, "S001", "yaml-syntax",
                            "mapping keys must be plain names, not lists or mappings")
        # Keys are names: keep their text, so 'on', 'no' or '010' stay what was written.
        return str(node.value)


def _pos_tuple(node: Node) -> tuple[int, int]:
    p = _pos(node)
    return p.line, p.column


def _too_large(file: str, size: int, unit: str) -> LoadError:
    return LoadError(file, 1, 1, "S005", "limit-exceeded",
                     f"the file is {size:,} {unit}: netweave reads topology files of at most "
                     f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
                     hint="split the stack into several files, or check this is a topology file")


def _checked(text: str, file: str) -> str:
    """The text without a byte order mark; LoadError for what no topology contains."""
    if text.startswith(_BOM):
        text = text[1:]  # editors on Windows write one; YAML allows it at the start
    if len(text) > MAX_DOCUMENT_BYTES:
        raise _too_large(file, len(text), "characters")
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        char = bad.group()
        line, column = _line_column(text, bad.start())
        code = ord(char)
        name = _CONTROL_NAMES.get(code, "control character" if code < 0xA0 else "character")
        raise LoadError(
            file, line, column, "S001", "yaml-syntax",
            f"{name} U+{code:04X} at line {line}, column {column}: YAML does not allow it "
            "in a file (the YAML parser would stop reading there)",
            hint="remove it; a NUL byte usually means the file was cut or is not text "
                 "(inside double quotes write escapes such as \\t instead)")
    return text


def decode(data: bytes, file: str = "<string>") -> str:
    """UTF-8 text of a topology file; LoadError with the line and column of a bad byte."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large(file, len(data), "bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].decode("utf-8", errors="replace")
        line, column = _line_column(before, len(before))
        raise LoadError(
            file, line, column, "S004", "not-utf8",
            f"byte 0x{data[exc.start]:02X} at line {line}, column {column} is not UTF-8 "
            f"({exc.reason})",
            hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8), or check it is "
                 "a topology file and not a binary one") from None


def parse_bytes(data: bytes, file: str = "<string>") -> Source:
    """:func:`parse` for a file's raw bytes (from disk or ``git show``)."""
    return parse(decode(data, file), file)


def _fast_parser_can_read(text: str) -> bool:
    if len(text) <= _FAST_PARSER_MAX_LINE:
        return True
    return max(map(len, text.split("\n"))) <= _FAST_PARSER_MAX_LINE


def parse(text: str, file: str = "<string>") -> Source:
    """Parse one YAML document into a :class:`Source`; raise :class:`LoadError`.

    Files up to :data:`CAREFUL_BELOW` are read by PyYAML (libyaml) with positions. For
    bigger ones the fast path (yaml-rs, a Rust parser that refuses duplicate keys itself)
    reads the data; PyYAML builds positions when a finding needs one, and is the reference
    for every error: whenever the fast parser objects, or a document uses merge keys it
    does not support, PyYAML parses it and says exactly what and where (and when it
    refuses what yaml-rs read, :attr:`Source.position_error` says why). Both read plain
    scalars as YAML 1.2 does. Control characters, oversized files and alias bombs are
    refused before either parser sees them (or, for aliases, as they expand).
    """
    text = _checked(text, file)
    if len(text) <= CAREFUL_BELOW:
        return _parse_with_positions(text, file)
    if _fast_loads is not None and "<<" not in text and _fast_parser_can_read(text):
        try:
            data = _fast_loads(text, parse_datetime=False,
                               alias_limits=_AliasLimits(max_total_replayed_events=MAX_ALIAS_NODES),
                               duplicate_key_policy=_DuplicateKeyPolicy.Error)
        except Exception:
            data = None
        if isinstance(data, dict):
            return Source(file=file, data=data, text=text)
    return _parse_with_positions(text, file)


def _parse_with_positions(text: str, file: str) -> Source:
    source = Source(file=file, data=None, text=text, values={}, keys={})
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader12))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadError(file, line, col, "S001", "yaml-syntax",
                        f"YAML syntax error: {problem}",
                        hint="check indentation and that every 'key: value' has a space "
                             "after the colon") from None
    except yaml.YAMLError as exc:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax", f"YAML error: {exc}") from None
    except ValueError as exc:  # e.g. NUL characters rejected by the reader
        raise LoadError(file, 1, 1, "S001", "yaml-syntax", f"unreadable YAML: {exc}") from None
    if len(documents) > 1:
        p = _pos(documents[1])
        raise LoadError(file, p.line, p.column, "S001", "yaml-syntax",
                        "a topology file holds exactly one YAML document; found a second one",
                        hint="remove the '---' separator or split the stacks into two files")
    if not documents or documents[0] is None:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax", "the topology file is empty",
                        hint="start from one of the examples in stacks/")
    builder = _Builder(source, aliases="&" in text and "*" in text)
    try:
        source.data = builder.build(documents[0], ())
    except RecursionError:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax",
                        "the YAML is nested too deeply (or refers to itself)") from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax", f"invalid YAML value: {exc}") from None
    source._values, source._keys = builder.values, builder.keys
    return source


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes, at most one more than :data:`MAX_DOCUMENT_BYTES` (so a huge or
    endless file, /dev/zero, is refused without being read whole)."""
    with open(path, "rb") as handle:
        return handle.read(MAX_DOCUMENT_BYTES + 1)


def load(path: str | Path) -> Source:
    """Read and parse a topology file; unreadable files are a :class:`LoadError` too."""
    name = str(path)
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        raise LoadError(name, 0, 0, "S000", "file-not-found", f"no such file: {name}") from None
    except IsADirectoryError:
        raise LoadError(name, 0, 0, "S000", "file-not-found",
                        f"{name} is a directory, not a topology file",
                        hint=f"try {name.rstrip('/')}/<stack>.yaml") from None
    except OSError as exc:
        raise LoadError(name, 0, 0, "S000", "file-unreadable", f"cannot read {name}: {exc}") from None
    return parse_bytes(data, name)
