"""Bring S2's QingCloud resources up against the emulator with realistic job durations.

Prints API calls per resource, the wall time of the bring-up driven like the engine drives
it (every resource starts as soon as its dependencies exist), the critical path through
the dependency graph, and how close the wall time comes to it.

    venv/bin/python bench/qingcloud_bringup.py [--scale 0.1] [--workers 16] [--stack s2-many-to-many]

``--scale`` multiplies the emulator's realistic job durations (1.0 = console-like: a
router 10 s, an instance 15 s); polling is scaled alike (QingCloud's 2 s poll x scale).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netweave.providers.qingcloud import client  # noqa: E402
from netweave.qingcloud_emulator import Emulator  # noqa: E402
from netweave.qingcloud_emulator import server as emulator_server  # noqa: E402
from netweave.qingcloud_emulator.profiles import REALISTIC_SECONDS  # noqa: E402

from tests.support.qingcloud_engine import LocalHost, MiniEngine  # noqa: E402
from tests.support.qingcloud_program import run_program  # noqa: E402
from tests.support.qingcloud_workloads import Workloads  # noqa: E402

emulator_server._Handler.disable_nagle_algorithm = True  # see tests/support/qingcloud_cloud.py


def critical_path(engine: MiniEngine, weight: dict[str, float]) -> tuple[float, list[str]]:
    """Longest path through the dependency DAG, node weights in seconds."""
    best: dict[str, tuple[float, list[str]]] = {}

    def longest(urn: str) -> tuple[float, list[str]]:
        if urn not in best:
            before = max((longest(d) for d in engine.deps[urn]), default=(0.0, []), key=lambda x: x[0])
            best[urn] = (before[0] + weight[urn], [*before[1], urn])
        return best[urn]

    return max((longest(u) for u in engine.deps), key=lambda x: x[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=16, help="engine parallelism (pulumi --parallel)")
    parser.add_argument("--stack", default="s2-many-to-many")
    args = parser.parse_args()

    run = run_program(args.stack, {"qingcloudLoginKeypair": "kp-bench"})
    with Emulator(profile="realistic", scale=args.scale, seed=1) as emu:
        os.environ.update(emu.env())
        os.environ.update(QY_POLL_INTERVAL=str(2.0 * args.scale), QY_RETRY_BASE=str(args.scale))
        client.configure({})
        # S2's per-instance pushes go to the user's VMs vm01 and vm03: launched just before
        # their push, outside the measured provider calls (they are not netweave's)
        workloads = Workloads(emu)
        engine = MiniEngine(run, workers=args.workers, before_create=workloads)
        host = LocalHost()
        client.CALLS_BY_LABEL.clear()
        start = time.monotonic()
        engine.up(host)
        wall = time.monotonic() - start
        measured = {u: engine.timings[u][1] - engine.timings[u][0] for u in engine.deps}
        jobs = {u: sum(REALISTIC_SECONDS.get(a, 0.0) * args.scale * n
                       for a, n in client.CALLS_BY_LABEL.get(u, Counter()).items()) for u in engine.deps}
        workloads.terminate()
        t0 = time.monotonic()
        engine.destroy(host)
        destroy_wall = time.monotonic() - t0

    print(f"QingCloud bring-up of {args.stack}: {len(engine.deps)} resources, job durations x{args.scale}, "
          f"parallelism {args.workers}\n")
    print(f"{'resource':38} {'type':15} {'calls':>5} {'of which Describe*':>18} {'time s':>7} {'jobs s':>7}")
    total = Counter[str]()
    for r in sorted(engine.custom, key=lambda r: engine.timings[r.urn][0]):
        calls = client.CALLS_BY_LABEL.get(r.urn, Counter())
        total.update(calls)
        describes = sum(n for a, n in calls.items() if a.startswith("Describe"))
        print(f"{r.name:38} {r.short_type:15} {sum(calls.values()):5} {describes:18} "
              f"{measured[r.urn]:7.2f} {jobs[r.urn]:7.2f}")
    length, path = critical_path(engine, measured)
    ideal, ideal_path = critical_path(engine, jobs)
    print(f"\nAPI calls: {sum(total.values())} "
          f"({sum(n for a, n in total.items() if a.startswith('Describe'))} Describe*, "
          f"{total['DescribeJobs']} DescribeJobs); per resource: "
          f"{sum(total.values()) / len(engine.deps):.1f}")
    print(f"wall time (up): {wall:.2f} s; destroy: {destroy_wall:.2f} s")
    print("critical path (measured durations): " + " -> ".join(engine.by_urn[u].name for u in path)
          + f" = {length:.2f} s")
    print(f"  wall time / critical path = {wall / length:.2f} "
          "(1.00 = every independent resource in parallel)")
    print("critical path (job durations only): " + " -> ".join(engine.by_urn[u].name for u in ideal_path)
          + f" = {ideal:.2f} s")
    print(f"  wall time / job-only critical path = {wall / ideal:.2f} "
          f"(the rest: polling every {2.0 * args.scale:.2f} s, waits for running/active, API round trips)")
    serial = sum(measured.values())
    print(f"serial sum of resource times: {serial:.2f} s (parallel speed-up {serial / wall:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
