"""Whole-process figures for benchmarks: wall and CPU time from start-up to exit, and peak
memory, of a command run as a user runs it; two commands in turn, with their ratio.

Peak memory is the kernel's own account (``wait4``'s ``ru_maxrss``). Linux carries the
high-water mark of the process that spawned a command into the command's figure, so
every command is started by a small launcher process, never by the benchmark itself
(which may hold a generated 100,000-prefix stack in memory).

The machine may be shared: commands run in turn (A B A B ...), each figure is the median
of the runs, and a ratio is the median of the ratios of runs taken side by side.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

# Runs in a fresh interpreter of its own: starts the command, waits for it, reports.
_LAUNCHER = """
import json, os, subprocess, sys, time
out = open(sys.argv[1], "wb") if sys.argv[1] != "-" else subprocess.DEVNULL
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
err = child.stderr.read()
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mib": usage.ru_maxrss / 1024, "exit": os.waitstatus_to_exitcode(status),
                  "stderr": err.decode(errors="replace")[-2000:]}))
"""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, start-up to exit
    cpu: float  # user + system seconds
    peak_mib: float  # the process's largest resident set
    exit: int
    stderr: str


def run(argv: Sequence[str], stdout: str = "-") -> Run:
    """One fresh process of ``argv``; its output goes to the file ``stdout`` (or nowhere)."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, stdout, *argv],
                          capture_output=True, text=True, check=True)
    return Run(**json.loads(done.stdout))


@dataclass(frozen=True)
class Figures:
    runs: list[Run]

    def median(self, what: str) -> float:
        return statistics.median(getattr(r, what) for r in self.runs)

    def spread(self, what: str) -> str:
        values = [getattr(r, what) for r in self.runs]
        return f"{min(values):.2f}-{max(values):.2f}"

    def line(self) -> str:
        return (f"{self.median('wall'):6.2f} s wall ({self.spread('wall')}), "
                f"{self.median('cpu'):6.2f} s CPU, {self.median('peak_mib'):6.0f} MiB peak")


def paired(a: Sequence[str], b: Sequence[str], runs: int,
           warmup: int = 1) -> tuple[Figures, Figures, float]:
    """``a`` and ``b`` in turn, ``runs`` times each after ``warmup`` uncounted pairs;
    returns both figures and the median of the per-pair ratios of wall time a/b."""
    pairs: list[tuple[Run, Run]] = []
    for i in range(warmup + runs):
        ra, rb = run(a), run(b)
        for r, argv in ((ra, a), (rb, b)):
            if r.exit not in (0, 1):  # 1: findings, still a finished run
                raise SystemExit(f"{' '.join(argv)} exited {r.exit}: {r.stderr}")
        if i >= warmup:
            pairs.append((ra, rb))
    ratio = statistics.median(ra.wall / rb.wall for ra, rb in pairs)
    return Figures([p[0] for p in pairs]), Figures([p[1] for p in pairs]), ratio


def repeated(argv: Sequence[str], runs: int, warmup: int = 1) -> Figures:
    out = []
    for i in range(warmup + runs):
        r = run(argv)
        if r.exit not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} exited {r.exit}: {r.stderr}")
        if i >= warmup:
            out.append(r)
    return Figures(out)


def verdict(value: float, target: float) -> str:
    """``target <= 2: met`` (the unit follows where a caller needs one)."""
    return f"target <= {target:g}: {'met' if value <= target else 'NOT MET'}"
