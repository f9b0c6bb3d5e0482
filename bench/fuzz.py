"""Fuzz every command with mutated topologies: no crash, no hang, no finding without a place.

Seeded and reproducible: ``--seed S --count N`` makes the same N inputs on every machine.
Each input is a bundled stack or a test case (``stacks/``, ``tests/cases/``,
``tests/emulate/``) changed the ways files get broken, one kind per input:

- byte: bytes flipped to awkward values (NUL, ESC, DEL, CR, 0xFF, half a UTF-8
  sequence, a byte order mark, YAML indicators), inserted, deleted, repeated, or the
  file cut short;
- token: plain values replaced by troublemakers (true for a number, '65001' quoted,
  1e400, .nan, 0x10, 4,301 digits, anchors and aliases, merge keys, tags, a key or a
  long string, addresses one digit off, networks with host bits, other names of the file);
- type: the value at a random place replaced by one of another type (list, mapping,
  number, boolean, null, deep nesting, a thousand items, a subtree of the file);
- structure: keys deleted, renamed or repeated, list items duplicated or dropped,
  subtrees swapped or copied under a new name, unknown keys, small alias bombs;
- value: values changed within their type (an address or a network moved, a name
  swapped for another name of the file, a number or a switch changed), so that most
  inputs stay usable topologies and reach, render, graph and diff run on them too.

One input in five is padded with comment lines past 64 KiB, so that big files take the
fast parser (yaml-rs) and small ones libyaml, as in real use.

Each input runs in this process through the command line's own entry point
(``netweave.cli.main``): ``lint`` in text, json and github formats, ``reach`` (text and
json), ``graph`` (mermaid and dot), ``render`` and ``diff --no-plan`` against the file it
was made from. Counted:

- crashes: a command exits 70 (the internal-error path: an exception we did not handle),
  or any exception escapes;
- hangs: a command running longer than ``--hang-seconds`` (10), stopped by SIGALRM;
- positionless findings: a lint finding without a line and column, or findings of a file
  whose positions could not be built (they would all point at line 1, column 1).

    venv/bin/python bench/fuzz.py [--seed 1] [--count 10000] [--save DIR]

Prints the counts (0/0/0 is the target), per mutation kind, and the first examples;
``--save DIR`` writes each failing input and its traceback there to replay.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netweave import cli  # noqa: E402
from netweave.lint import lint_bytes, report  # noqa: E402
from netweave.model.source import CAREFUL_BELOW  # noqa: E402

KINDS = ("byte", "token", "type", "structure", "value")
HANG_SECONDS = 10.0
# This share of inputs is padded with comment lines past CAREFUL_BELOW, so that both
# parsers are exercised: the fast one (yaml-rs) for big files, libyaml for small ones.
BIG_SHARE = 0.2
PADDING_LINE = b"# padding: a big file takes the fast parser's path\n"


def seed_files() -> list[Path]:
    found = sorted((ROOT / "stacks").glob("*.yaml"))
    found += sorted((ROOT / "tests" / "cases").rglob("*.yaml"))
    found += sorted((ROOT / "tests" / "emulate").glob("*.yaml"))
    return found


# --- mutations ------------------------------------------------------------------------

AWKWARD_BYTES = [b"\x00", b"\x01", b"\t", b"\n", b"\r", b"\x1b", b"\x7f", b"\x80", b"\xc3",
                 b"\xff", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b'"', b"'", b":", b"-", b"[", b"{",
                 b"]", b"}", b"&", b"*", b"!", b"#", b"|", b">", b"%", b"@", b"`", b" ", b",",
                 b"?", b"\\", b"0", b"9", b".", b"/"]


def _mutate_bytes(rng: random.Random, data: bytes, _doc: Any) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += rng.choice(AWKWARD_BYTES)
            continue
        at = rng.randrange(len(out))
        op = rng.randrange(6)
        if op == 0:
            out[at:at + 1] = rng.choice(AWKWARD_BYTES)
        elif op == 1:
            out[at:at] = rng.choice(AWKWARD_BYTES)
        elif op == 2:
            del out[at:at + rng.randint(1, 16)]
        elif op == 3:
            chunk = out[at:at + rng.randint(1, 64)]
            out[at:at] = chunk * rng.randint(1, 8)
        elif op == 4:
            del out[at:]
        else:
            out[at] = rng.randrange(256)
    return bytes(out)


def _names(doc: Any) -> list[str]:
    names: list[str] = []
    if isinstance(doc, dict):
        for key in ("clouds", "vpcs", "hosts", "vcpes", "vpn_servers", "security_groups"):
            part = doc.get(key)
            if isinstance(part, dict):
                names.extend(str(k) for k in part)
        for vpc in (doc.get("vpcs") or {}).values() if isinstance(doc.get("vpcs"), dict) else ():
            if isinstance(vpc, dict) and isinstance(vpc.get("vxnets"), dict):
                names.extend(str(k) for k in vpc["vxnets"])
    return names or ["vpc01"]


def _troublemakers(rng: random.Random, doc: Any) -> list[str]:
    return [
        "true", "false", "null", "~", "yes", "on", "0", "-1", "65536", "4294967296",
        "1e400", "-.inf", ".nan", "0x10", "0o17", "010", "1_000", "65001.0", "65001.5",
        "'65001'", '"1400"', "'", '"', '"\\x00"', '"\\u2028"', "&a", "*a", "*undefined",
        "&a [1, 2]", "<<", "!!binary aGk=", "!!python/object:os.system", "!!str", "!!int x",
        "!!set {a, b}", "!!omap [a: 1]", "9" * 4301, "9" * 25, "x" * rng.choice([64, 5000]),
        "AKIAIOSFODNN7EXAMPLE", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=",
        "192.168.128.256", "192.168.1290.0/24", "192.168.128.5/24", "10.0.0.0/33",
        "::1", "fd00::/8", "fd00::1/129", "0.0.0.0/0", "255.255.255.255", "١٩٢.١٦٨.١.١",
        "a b", "é", "😀", "-", "- x", "{}", "[]", "[a, b]", "{a: 1}", "[[[[[]]]]]",
        "2024-01-01", "12:30:00", "|", ">", "? x", "%YAML 1.2", "---", "...",
        rng.choice(_names(doc)), rng.choice(_names(doc)) + "x",
    ]


_SCALAR = re.compile(rb"(?<=: )[^\s#{}\[\],][^\n#,{}\[\]]*|(?<=- )[^\s#{}\[\],-][^\n#,{}\[\]]*")


def _mutate_tokens(rng: random.Random, data: bytes, doc: Any) -> bytes:
    spots = [m.span() for m in _SCALAR.finditer(data)]
    if not spots:
        return _mutate_bytes(rng, data, doc)
    pool = _troublemakers(rng, doc)
    out = data
    for start, end in sorted(rng.sample(spots, min(len(spots), rng.randint(1, 3))), reverse=True):
        out = out[:start] + rng.choice(pool).encode() + out[end:]
    return out


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*path, i))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _random_value(rng: random.Random, doc: Any) -> Any:
    choice = rng.randrange(14)
    if choice == 0:
        return rng.choice([0, 1, -1, 65001, 2**32, 2**63, 10**25, 1400])
    if choice == 1:
        return rng.choice([0.5, 1e300, float("inf"), -0.0, 1400.0])
    if choice == 2:
        return rng.choice([True, False])
    if choice == 3:
        return None
    if choice == 4:
        return rng.choice(["", "x", "vpc01", "192.168.128.2", "10.0.0.0/8", "wireguard", "é" * 3,
                           "\x00", "line\nbreak", "AKIAIOSFODNN7EXAMPLE"])
    if choice == 5:
        return [_random_value(rng, doc) for _ in range(rng.randint(0, 3))]
    if choice == 6:
        return {rng.choice(["a", "cidr", "vxnet", "next_hop", "asn", "1"]): _random_value(rng, doc)}
    if choice == 7:  # nested lists, written out by _dump (the dumpers recurse)
        return f"DEEPNEST{rng.choice([50, 200, 900, 5000])}"
    if choice == 8:
        return ["10.0.0.0/24"] * rng.choice([100, 1000])
    if choice == 9:
        return copy.deepcopy(_at(doc, rng.choice(list(_places(doc)))))
    if choice == 10:
        return {rng.choice(_names(doc)): {}}
    if choice == 11:
        return rng.choice(_names(doc))
    if choice == 12:
        return f"{rng.randrange(256)}.{rng.randrange(300)}.{rng.randrange(256)}.0/{rng.randrange(34)}"
    return {"provider": rng.choice(["qingcloud", "vultr", "aws"]), "zone": "pek3a", "region": "ams"}


_DEEP = re.compile(r'"?DEEPNEST(\d+)"?')


def _dump(rng: random.Random, doc: Any) -> bytes:
    if rng.random() < 0.3:
        text = json.dumps(doc, allow_nan=True)  # JSON is YAML too
    else:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    text = _DEEP.sub(lambda m: "[" * int(m.group(1)) + "x" + "]" * int(m.group(1)), text)
    return text.encode()


def _mutate_type(rng: random.Random, data: bytes, doc: Any) -> bytes:
    if not isinstance(doc, dict):
        return _mutate_bytes(rng, data, doc)
    doc = copy.deepcopy(doc)
    places = [p for p in _places(doc) if p]
    if not places:
        return _mutate_bytes(rng, data, doc)
    for _ in range(rng.randint(1, 2)):
        path = rng.choice(places)
        try:
            _at(doc, path[:-1])[path[-1]] = _random_value(rng, doc)
        except (KeyError, IndexError, TypeError):
            continue
        places = [p for p in _places(doc) if p]
    return _dump(rng, doc)


def _mutate_structure(rng: random.Random, data: bytes, doc: Any) -> bytes:
    if not isinstance(doc, dict):
        return _mutate_bytes(rng, data, doc)
    doc = copy.deepcopy(doc)
    op = rng.randrange(8)
    containers = [p for p in _places(doc) if isinstance(_at(doc, p), dict | list) and _at(doc, p)]
    path = rng.choice(containers) if containers else ()
    node = _at(doc, path)
    if op == 7:  # small alias bombs and merges, in text
        text = data.decode("utf-8", errors="replace")
        bomb = "x0: &x0 [a, b, c, d, e, f, g, h]\n" + "".join(
            f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 8) + "]\n" for i in range(1, rng.randint(2, 8)))
        merge = "m: &m {cidr: 10.9.0.0/16}\nn: {<<: *m, cidr: 10.8.0.0/16}\n"
        return (text + "\n" + rng.choice([bomb, merge])).encode()
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        if op == 0:
            del node[key]
        elif op == 1:
            node[str(key) + rng.choice(["x", "_", "s", ""]) + "2"] = copy.deepcopy(node[key])
        elif op == 2:
            node[rng.choice(["unknown", "cdir", "nexthop", "vxnet", "psk", "password", "key"])] = \
                copy.deepcopy(node[key])
        elif op == 3:
            node[str(key)[::-1] or "k"] = node.pop(key)
        elif op == 4:
            other = rng.choice(list(node))
            node[key], node[other] = node[other], node[key]
        elif op == 5:
            node[key] = [node[key]]
        else:
            for k in list(node)[: rng.randint(1, len(node))]:
                del node[k]
    elif isinstance(node, list) and node:
        i = rng.randrange(len(node))
        if op in (0, 6):
            del node[i]
        elif op in (1, 2):
            node.insert(i, copy.deepcopy(node[i]))
        elif op == 3:
            node.reverse()
        else:
            node[i] = {"unexpected": node[i]}
    return _dump(rng, doc)


_ADDRESS = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(/\d{1,2})?$")


def _similar(rng: random.Random, value: Any, doc: Any) -> Any:
    """Another value of the same type, close to this one."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([value + 1, value - 1, value * 2, 0, 65001, 65002, 1500, 1420, 51820])
    if isinstance(value, str):
        m = _ADDRESS.match(value)
        if m:
            octets = [int(x) for x in m.groups()[:4]]
            octets[rng.randrange(4)] = rng.choice([0, 1, 2, 3, 5, 128, 129, 254, 255])
            plen = m.group(5)
            if plen and rng.random() < 0.3:
                plen = f"/{rng.choice([8, 16, 23, 24, 25, 30, 32])}"
            return ".".join(map(str, octets)) + (plen or "")
        names = _names(doc)
        if value in names:
            return rng.choice(names)
    return value


def _mutate_values(rng: random.Random, data: bytes, doc: Any) -> bytes:
    if not isinstance(doc, dict):
        return _mutate_bytes(rng, data, doc)
    doc = copy.deepcopy(doc)
    leaves = [p for p in _places(doc) if p and not isinstance(_at(doc, p), dict | list)]
    for path in rng.sample(leaves, min(len(leaves), rng.randint(1, 3))):
        parent = _at(doc, path[:-1])
        parent[path[-1]] = _similar(rng, parent[path[-1]], doc)
    return _dump(rng, doc)


MUTATORS: dict[str, Callable[[random.Random, bytes, Any], bytes]] = {
    "byte": _mutate_bytes, "token": _mutate_tokens, "type": _mutate_type,
    "structure": _mutate_structure, "value": _mutate_values,
}


def inputs(seed: int, count: int) -> Iterator[tuple[int, str, Path, bytes]]:
    """The ``count`` inputs of ``seed``: (number, kind, file made from, bytes)."""
    files = seed_files()
    texts = {f: f.read_bytes() for f in files}
    docs: dict[Path, Any] = {}
    for f in files:
        try:
            docs[f] = yaml.safe_load(texts[f])
        except yaml.YAMLError:
            docs[f] = None
    for n in range(count):
        rng = random.Random(f"{seed}:{n}")  # each input on its own: replay one with --only
        base = rng.choice(files)
        kind = KINDS[n % len(KINDS)]
        data = MUTATORS[kind](rng, texts[base], docs[base])
        if rng.random() < BIG_SHARE:  # past CAREFUL_BELOW: yaml-rs reads it, libyaml locates
            data += b"\n" + PADDING_LINE * (CAREFUL_BELOW // len(PADDING_LINE) + 1)
        yield n, kind, base, data


# --- running the commands -------------------------------------------------------------

class Hang(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def _alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Failure:
    number: int
    kind: str
    base: str
    what: str          # crash, hang or positionless
    command: str
    detail: str
    data: bytes = b""


@dataclass
class Tally:
    inputs: int = 0
    commands: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    usable: int = 0
    failures: list[Failure] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")

    def count(self, what: str) -> int:
        return sum(f.what == what for f in self.failures)


_captured: list[BaseException] = []


def _record_internal_error(exc: BaseException) -> int:
    _captured.append(exc)
    return cli.EXIT_INTERNAL


def _commands(path: Path, base: Path, out: Path) -> list[list[str]]:
    return [["reach", str(path)], ["reach", "--format", "json", str(path)],
            ["graph", str(path)], ["graph", "--format", "dot", str(path)],
            ["render", "--out", str(out / "render"), str(path)],
            ["diff", "--no-plan", str(base), str(path)]]


def run_input(number: int, kind: str, base: Path, data: bytes, work: Path, tally: Tally,
              hang_seconds: float = HANG_SECONDS) -> None:
    path = work / "input.yaml"
    path.write_bytes(data)
    tally.inputs += 1
    tally.by_kind[kind] += 1

    def failed(what: str, command: str, detail: str) -> None:
        tally.failures.append(Failure(number, kind, str(base.relative_to(ROOT)), what, command,
                                      detail, data))

    started = time.perf_counter()
    try:
        with _deadline(hang_seconds):
            result = lint_bytes(data, str(path))
            for fmt in report.FORMATS:
                report.render([result], fmt)
    except Hang as exc:
        failed("hang", "lint", str(exc))
        return
    except Exception:
        failed("crash", "lint", traceback.format_exc())
        return
    tally.commands += 1
    for f in result.findings:
        if f.line < 1 or f.column < 1:
            failed("positionless", "lint", f"{f.code} {f.message}")
    if result.findings and result.source is not None and not result.source.values:
        # the fast parser read what the positions parser refuses: every finding would
        # fall back to line 1, column 1
        failed("positionless", "lint", f"no positions for {len(result.findings)} findings")
    if result.topology is None:
        return
    tally.usable += 1
    for argv in _commands(path, base, work):
        shutil.rmtree(work / "render", ignore_errors=True)
        _captured.clear()
        t = time.perf_counter()
        try:
            with _deadline(hang_seconds), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                code = cli.main(argv)
        except Hang as exc:
            failed("hang", " ".join(argv[:2]), str(exc))
            continue
        except BaseException:  # SystemExit included: the command line must return a code
            failed("crash", " ".join(argv[:2]), traceback.format_exc())
            continue
        tally.commands += 1
        took = time.perf_counter() - t
        if took > tally.slowest[0]:
            tally.slowest = (took, f"input {number} {argv[0]}")
        if code == cli.EXIT_INTERNAL or _captured:
            detail = "".join(traceback.format_exception(_captured[0])) if _captured else f"exit {code}"
            failed("crash", " ".join(argv[:2]), detail)
    took = time.perf_counter() - started
    if took > tally.slowest[0]:
        tally.slowest = (took, f"input {number} (all commands)")


def run(seed: int = 1, count: int = 10_000, hang_seconds: float = HANG_SECONDS,
        progress: Callable[[Tally], None] | None = None, only: int | None = None) -> Tally:
    tally = Tally()
    original = cli._internal_error
    cli._internal_error = _record_internal_error  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(prefix="netweave-fuzz-") as tmp:
            for number, kind, base, data in inputs(seed, count):
                if only is not None and number != only:
                    continue
                run_input(number, kind, base, data, Path(tmp), tally, hang_seconds)
                if progress is not None and tally.inputs % 500 == 0:
                    progress(tally)
    finally:
        cli._internal_error = original  # type: ignore[assignment]
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--hang-seconds", type=float, default=HANG_SECONDS)
    parser.add_argument("--only", type=int, help="replay one input of the seed by its number")
    parser.add_argument("--save", type=Path, help="write failing inputs and tracebacks here")
    args = parser.parse_args()
    started = time.perf_counter()

    def progress(t: Tally) -> None:
        print(f"  ... {t.inputs} inputs, {t.count('crash')} crashes, {t.count('hang')} hangs, "
              f"{t.count('positionless')} positionless ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)

    tally = run(args.seed, args.count, args.hang_seconds, progress, args.only)
    took = time.perf_counter() - started
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(tally.by_kind.items()))
    print(f"fuzz seed {args.seed}: {tally.inputs} inputs ({kinds}), {tally.usable} usable "
          f"topologies, {tally.commands} command runs in {took:.0f} s")
    print(f"crashes {tally.count('crash')}, hangs {tally.count('hang')} (> {args.hang_seconds:g} s), "
          f"positionless findings {tally.count('positionless')}")
    print(f"slowest: {tally.slowest[0]:.2f} s ({tally.slowest[1]})")
    for f in tally.failures[:20]:
        last = f.detail.strip().splitlines()[-1] if f.detail.strip() else ""
        print(f"  {f.what}: input {f.number} ({f.kind} of {f.base}) {f.command}: {last}")
    if args.save and tally.failures:
        args.save.mkdir(parents=True, exist_ok=True)
        for f in tally.failures:
            stem = args.save / f"{f.what}-{f.number}"
            stem.with_suffix(".yaml").write_bytes(f.data)
            stem.with_suffix(".txt").write_text(f"{f.kind} of {f.base}; {f.command}\n{f.detail}")
        print(f"failing inputs written to {args.save}")
    sys.exit(1 if tally.failures else 0)


if __name__ == "__main__":
    main()
