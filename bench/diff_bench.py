"""Benchmark: `netweave diff` of two stacks at 10,000 and 100,000 prefixes, offline plans
included (target at 10k: under 2 s), next to its baseline measured in the same run:
`netweave lint` of the same two files.

The stacks are S2 plus an on-premises router behind vcpe02 that holds N /24s: vcpe02
has a static route to each (advertised over BGP, so vcpe01 learns all of them) and vpc01
pushes the aggregate (also announced, so the push is covered). HEAD withdraws 50 of
them, adds 50 others and re-points one route push. Each command runs as a user runs it,
a fresh process from start-up to exit, the two in turn; figures are medians.

    venv/bin/python bench/diff_bench.py [--sizes 10000,100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import measure  # noqa: E402

S2 = ROOT / "stacks" / "s2-many-to-many.yaml"


def prefix(i: int) -> str:
    if i < 0:
        return "10.0.0.0/8"  # the aggregate vpc01 pushes: vcpe01 must learn it too (R302)
    return f"10.{i // 256 % 256}.{i % 256}.0/24" if i < 65536 else f"11.{i // 256 % 256}.{i % 256}.0/24"


def stack(prefixes: list[int], push_next_hop: str) -> str:
    text = S2.read_text()
    routes = "".join(f"      - {{destination: {prefix(i)}, next_hop: 172.17.0.9, advertise: true}}\n"
                     for i in [*prefixes, -1])
    text = text.replace("      advertise: [172.17.0.0/24]\n",
                        "      advertise: [172.17.0.0/24]\n    static_routes:\n" + routes, 1)
    text = text.replace("hosts:\n", "hosts:\n  onprem: {vxnet: vxnet02, address: 172.17.0.9}\n", 1)
    return text.replace(
        "        next_hop: 192.168.128.2         # vcpe01, primary NIC\n",
        "        next_hop: 192.168.128.2         # vcpe01, primary NIC\n"
        f"      - destination: 10.0.0.0/8\n        next_hop: {push_next_hop}\n", 1)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000", help="prefix counts, comma-separated")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    netweave = [sys.executable, "-m", "netweave"]
    print(f"whole processes, medians of {args.runs} runs in turn (diff, lint, diff, ...):")
    for n in (int(size) for size in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            base, head = Path(tmp) / "base.yaml", Path(tmp) / "big.yaml"
            base.write_text(stack(list(range(n)), "192.168.128.2"))
            head.write_text(stack([*range(50, n), *range(n, n + 50)], "192.168.129.5"))
            comment = Path(tmp) / "comment.md"
            diff, lint, ratio = measure.paired(
                [*netweave, "diff", str(base), str(head), "--format", "markdown",
                 "--out", str(comment)],
                [*netweave, "lint", str(base), str(head)], args.runs)
            print(f"  {n:>7} prefixes each ({base.stat().st_size // 1024} KiB), "
                  f"markdown comment of {len(comment.read_text()):,} characters")
            target = (f"  (wall, {measure.verdict(diff.median('wall'), 2.0)} s)"
                      if n <= 10_000 else "")
            print(f"    netweave diff (both offline plans)  {diff.line()}  exit "
                  f"{diff.runs[0].exit}{target}")
            print(f"    baseline: lint of both files        {lint.line()}")
            print(f"    diff / lint (wall, paired) x{ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
