"""netweave verify FILE: the main job, every stage in order on one stack.

Stops at the first stage that fails, so a lint error is never followed by a deploy
plan of the broken design. What each stage printed is shown when it failed (or with
--verbose); a passing stage is one line — except emulate, whose matrix and verdict are
what verify is run for.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

SHOWN = ("emulate",)  # stages whose output is shown even when they pass

HELP = "run the whole pipeline on a stack: lint, reach, render, plan, graph, emulate"
DESCRIPTION = (HELP + ". Stops at the first stage that fails and exits with its code "
               "(0 when every stage passed).")
ORDER = 5


def stages(file: str, out: str) -> list[tuple[str, list[str]]]:
    """(stage name, netweave arguments) in the order they run."""
    return [
        ("lint", ["lint", file]),
        ("reach", ["reach", file]),
        ("render", ["render", file, "--out", out]),
        ("plan", ["plan", file]),
        ("graph", ["graph", file, "--format", "svg", "--out", str(Path(out) / "topology.svg")]),
        ("emulate", ["emulate", file]),
    ]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="topology YAML file")
    p.add_argument("--skip", action="append", default=[], metavar="STAGE",
                   help="leave out a stage (repeatable), e.g. --skip emulate without root")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory for rendered files (default: out/<stack file name>)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show every stage's output (and emulate's notes), not only the failing one's")


def run(args: argparse.Namespace, main: Callable[[list[str]], int] | None = None) -> int:
    if main is None:
        from netweave.cli import main as cli_main
        main = cli_main
    out = args.out or str(Path("out") / Path(args.file).stem)
    known = [name for name, _ in stages(args.file, out)]
    unknown = sorted(set(args.skip) - set(known))
    if unknown:
        print(f"netweave verify: no stage named {', '.join(unknown)}; stages: {', '.join(known)}",
              file=sys.stderr)
        return 2
    verbose = getattr(args, "verbose", False)
    for name, argv in stages(args.file, out):
        if name in args.skip:
            print(f"== {name}: skipped", flush=True)
            continue
        if verbose and name == "emulate":
            argv = [*argv, "--verbose"]
        print(f"== {name}: netweave {' '.join(argv)}", flush=True)
        started = time.monotonic()
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = main(argv)
        if code != 0 or verbose or name in SHOWN:
            print(captured.getvalue(), end="", flush=True)
        print(f"== {name}: {'ok' if code == 0 else f'failed (exit {code})'} "
              f"in {time.monotonic() - started:.2f} s", flush=True)
        if code != 0:
            print(f"verify: stopped at {name}; later stages not run", flush=True)
            return code
    ran = [name for name in known if name not in args.skip]
    print(f"verify: {len(ran)} stages ok ({', '.join(ran)})"
          + (f"; skipped: {', '.join(args.skip)}" if args.skip else ""), flush=True)
    return 0
