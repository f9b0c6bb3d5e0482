"""Benchmark: `netweave diff` of two 10,000-prefix stacks (target: under 5 s).

The stacks are S2 plus an on-premises router behind vcpe02 that holds 10,000 /24s:
vcpe02 has a static route to each (advertised over BGP, so vcpe01 learns all 10,000)
and vpc01 pushes the aggregate (also announced, so the push is covered). HEAD withdraws
50 of them, adds 50 others and re-points one route push. Prints the time of each stage
and of the whole command.

    venv/bin/python bench/diff_bench.py [--prefixes N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netweave.diff import compare as diff  # noqa: E402
from netweave.diff import report as diff_report  # noqa: E402

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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--prefixes", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=3, help="CLI runs; the best counts (the machine is shared)")
    args = p.parse_args()
    n = args.prefixes
    with tempfile.TemporaryDirectory() as tmp:
        base, head = Path(tmp) / "base.yaml", Path(tmp) / "big.yaml"
        base.write_text(stack(list(range(n)), "192.168.128.2"))
        head.write_text(stack([*range(50, n), *range(n, n + 50)], "192.168.129.5"))
        print(f"stacks: {n} prefixes each, {base.stat().st_size // 1024} KiB")

        started = time.perf_counter()
        report = diff.compare(str(base), str(head), plans=False)
        no_plan = time.perf_counter() - started
        md = diff_report.markdown(report)
        print(f"in-process, without plans: {no_plan:.2f} s "
              f"({len(report.network)} network changes, {len(report.pairs)} pair changes, "
              f"markdown {len(md):,} chars)")

        walls = []
        for _ in range(args.runs):
            cpu_before = _children_cpu()
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "netweave", "diff", str(base), str(head),
                                   "--format", "markdown", "--out", str(Path(tmp) / "comment.md")],
                                  cwd=ROOT, capture_output=True, text=True, timeout=600)
            walls.append(time.perf_counter() - started)
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return 1
            print(f"  run {len(walls)}: {walls[-1]:.2f} s wall, {_children_cpu() - cpu_before:.2f} s CPU "
                  f"(load average {os.getloadavg()[0]:.1f})")
        best = min(walls)
        verdict = "OK" if best < 5 else "TOO SLOW"
        print(f"netweave diff (CLI, both offline plans, markdown): best of {args.runs}: {best:.2f} s "
              f"[target < 5 s: {verdict}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
