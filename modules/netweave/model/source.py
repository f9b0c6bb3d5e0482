"""YAML loading that keeps where every value came from.

Every error netweave reports points at ``file:line:col``, so the loader builds plain
Python data (dicts, lists, scalars) *and* a table mapping each value's path
(``("vpcs", "vpc01", "cidr")``) to its position in the file. Duplicate keys are an
error: PyYAML would silently keep the last one, which is how a route gets lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's composer is an order of magnitude faster on 100k-prefix stacks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

try:
    from yaml_rs import DuplicateKeyPolicy as _DuplicateKeyPolicy
    from yaml_rs import loads as _fast_loads
except ImportError:  # pragma: no cover - optional accelerator
    _fast_loads = None  # type: ignore[assignment]

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_constructor = SafeConstructor()


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column, as editors count them."""

    line: int
    column: int


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

    def _locate(self) -> None:
        try:
            located = _parse_with_positions(self.text, self.file)
            self._values, self._keys = located._values, located._keys
        except LoadError:  # the fast parser accepted what PyYAML refuses: no positions
            self._values, self._keys = {}, {}

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


def _pos(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


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
    def __init__(self, source: Source) -> None:
        self.source = source
        self.values: dict[PathKey, Position] = {}
        self.keys: dict[PathKey, Position] = {}

    def build(self, node: Node, path: PathKey) -> Any:
        self.values[path] = _pos(node)
        if isinstance(node, ScalarNode):
            ctor = SafeConstructor.yaml_constructors.get(node.tag)
            if ctor is None:
                return node.value
            value = ctor(_constructor, node)
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # keep text: dates are never topology values
            return value
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
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


def parse(text: str, file: str = "<string>") -> Source:
    """Parse one YAML document into a :class:`Source`; raise :class:`LoadError`.

    The fast path (yaml-rs, a Rust parser that refuses duplicate keys itself) reads the
    data; PyYAML builds positions when a finding needs one, and is the reference for
    every error: whenever the fast parser objects, or a document uses merge keys it does
    not support, PyYAML parses it and says exactly what and where.
    """
    if _fast_loads is not None and "<<" not in text:
        try:
            data = _fast_loads(text, parse_datetime=False,
                               duplicate_key_policy=_DuplicateKeyPolicy.Error)
        except Exception:
            data = None
        if isinstance(data, dict):
            return Source(file=file, data=data, text=text)
    return _parse_with_positions(text, file)


def _parse_with_positions(text: str, file: str) -> Source:
    source = Source(file=file, data=None, text=text, values={}, keys={})
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
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
    builder = _Builder(source)
    try:
        source.data = builder.build(documents[0], ())
    except RecursionError:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax",
                        "the YAML is nested too deeply (or refers to itself)") from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise LoadError(file, 1, 1, "S001", "yaml-syntax", f"invalid YAML value: {exc}") from None
    source._values, source._keys = builder.values, builder.keys
    return source


def load(path: str | Path) -> Source:
    """Read and parse a topology file; unreadable files are a :class:`LoadError` too."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError(name, 0, 0, "S000", "file-not-found", f"no such file: {name}") from None
    except IsADirectoryError:
        raise LoadError(name, 0, 0, "S000", "file-not-found",
                        f"{name} is a directory, not a topology file",
                        hint=f"try {name.rstrip('/')}/<stack>.yaml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(name, 0, 0, "S000", "file-unreadable", f"cannot read {name}: {exc}") from None
    return parse(text, name)
