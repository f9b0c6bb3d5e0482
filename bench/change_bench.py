"""Rehearsal benchmark: ``netweave emulate S1 --change S2`` — the whole rehearsal's time,
its phases, and per pair the probes lost and the longest gap, next to a baseline measured
in the same run: a plain ``netweave emulate S2`` (boot, converge, matrix, teardown).

Run as root (under the emulation lock on shared machines):
    flock /tmp/netweave-emulation.lock venv/bin/python bench/change_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netweave.emulate import emulate, emulate_change
from netweave.lint import lint_file

ROOT = Path(__file__).resolve().parent.parent
S1, S2 = ROOT / "stacks" / "s1-one-to-one.yaml", ROOT / "stacks" / "s2-many-to-many.yaml"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    base, head = lint_file(str(S1)), lint_file(str(S2))
    assert base.topology is not None and head.topology is not None
    plain, rehearsal = [], []
    for run in range(args.runs):
        started = time.perf_counter()
        result = emulate(head.topology, head.index, file=str(S2))
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        change = emulate_change(base.topology, base.index, head.topology, head.index,
                                file=str(S1), head_file=str(S2))
        rehearsal.append(time.perf_counter() - started)
        assert change.change is not None
        print(f"run {run + 1}: emulate S2 {plain[-1]:.2f} s ({'ok' if result.ok else 'FAILED'}); "
              f"rehearsal S1 -> S2 {rehearsal[-1]:.2f} s ({'ok' if change.ok else 'FAILED'}), "
              f"applied in place in {change.change['apply_seconds']} s")
        for pair in change.change["pairs"]:
            print(f"  {pair['from']} -> {pair['to']} ({pair['kind']}): lost {pair['lost']} of "
                  f"{pair['sent']}, longest gap {pair['longest_gap_ms']} ms")
        phases = ", ".join(f"{name} {t:.2f}" for name, t in change.timings
                           if name.startswith(("change", "probes", "BGP")))
        print(f"  phases (s): {phases}")
    print(f"baseline (emulate S2):      median {statistics.median(plain):.2f} s")
    print(f"rehearsal (S1 --change S2): median {statistics.median(rehearsal):.2f} s "
          f"(x{statistics.median(rehearsal) / statistics.median(plain):.1f} the baseline: it boots S1, "
          "probes 1 s before and after, applies, checks S2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
