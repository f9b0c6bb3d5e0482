"""`netweave reach` against `netweave lint` of the same stack, at 1k, 10k and 100k prefixes.

Stacks from bench/generate.py (at 100k: 1,332 hosts, 1.77 M ordered host pairs). Each
command runs as a user runs it, a fresh process from start-up to exit, the two in turn;
figures are medians, and the ratio is the median of the ratios of runs taken side by
side. Targets at 100k prefixes: reach <= 2x lint, peak memory <= 500 MB.

    venv/bin/python bench/reach_bench.py [--sizes 1000,10000,100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import measure  # noqa: E402
from bench.generate import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="prefix counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    netweave = [sys.executable, "-m", "netweave"]
    print(f"whole processes, medians of {args.runs} runs in turn (reach, lint, reach, ...):")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            stack = Path(tmp) / f"synthetic-{size}.yaml"
            stack.write_text(generate(size))
            reach, lint, ratio = measure.paired([*netweave, "reach", str(stack)],
                                                [*netweave, "lint", str(stack)], args.runs)
            hosts = stack.read_text().count("\n  h-p")
            print(f"  {size:>7} prefixes, {hosts:>5} hosts, {hosts * (hosts - 1):>9,} pairs")
            print(f"    netweave reach FILE  {reach.line()}  exit {reach.runs[0].exit}")
            print(f"    baseline: lint FILE  {lint.line()}")
            print(f"    reach / lint (wall, paired) x{ratio:.2f}"
                  + (f"  ({measure.verdict(ratio, 2.0)}); reach peak "
                     f"{reach.median('peak_mib'):.0f} MiB "
                     f"({measure.verdict(reach.median('peak_mib'), 500)})"
                     if size >= 100_000 else ""))


if __name__ == "__main__":
    main()
