"""Processes of a run: started here, remembered by PID (and start time, so a recycled
PID is never mistaken for ours), and ended only by that PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from netweave.emulate.shell import in_ns


@dataclass(frozen=True)
class Tracked:
    pid: int
    ns: str
    role: str        # "zebra@vcpe01", "dnsmasq@vpc01", ...
    comm: str        # /proc/PID/comm when started
    start: int       # /proc/PID/stat start time (clock ticks since boot)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tracked:
        return cls(**data)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Starting a daemon and recording its PID is one step: a Ctrl-C in between would
    leave a process nobody knows about. Signals that arrive meanwhile are re-raised after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {s: signal.signal(s, lambda signum, _f: caught.append(signum)) for s in watched}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
        if caught:
            raise KeyboardInterrupt(f"signal {caught[0]}")


def strays(run_dir: Path, namespaces: Sequence[str] = ()) -> list[int]:
    """PIDs named in the run's pid files whose command line names the run directory, or
    (pid files of daemons the apply script's lab hooks started) that live in one of the
    run's namespaces: daemons of this run that were never recorded."""
    found = []
    ours = set()
    for ns in namespaces:
        with contextlib.suppress(OSError):
            ours.add(os.stat(f"/run/netns/{ns}").st_ino)
    for pidfile in run_dir.rglob("*.pid"):
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            in_ours = os.stat(f"/proc/{pid}/ns/net").st_ino in ours
        except (OSError, ValueError):
            continue
        if (str(run_dir) in cmdline or in_ours) and not _zombie(pid):
            found.append(pid)
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return comm, int(fields[19])  # field 22 of stat; two fields precede after ')'


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None if there is none."""
    found = _stat(pid)
    return found[1] if found is not None else None


def alive(proc: Tracked) -> bool:
    """Is this still the very process we started (same PID, same start time)?"""
    found = _stat(proc.pid)
    return found is not None and found[1] == proc.start


def pss_kib(pid: int) -> int:
    """Proportional set size of one process (its fair share of shared pages)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Processes:
    """Everything the run started. ``on_change`` persists the list (for ``--down``)."""

    def __init__(self, on_change: Any = None) -> None:
        self.tracked: list[Tracked] = []
        self._lock = threading.Lock()
        self._popen: dict[int, subprocess.Popen[bytes]] = {}
        self._on_change = on_change

    def _track(self, pid: int, ns: str, role: str) -> Tracked:
        found = _stat(pid)
        if found is None:
            raise RuntimeError(f"{role} (pid {pid}) exited right after it started")
        proc = Tracked(pid, ns, role, found[0], found[1])
        with self._lock:
            self.tracked.append(proc)
        if self._on_change:
            self._on_change()
        return proc

    def start(self, ns: str, argv: Sequence[str], role: str, log: Path,
              env: dict[str, str] | None = None) -> Tracked:
        """A process that stays in the foreground; ``ip netns exec`` execs it, so the
        PID we get is the daemon's own."""
        with signals_deferred(), open(log, "ab") as out:
            popen = subprocess.Popen(in_ns(ns, argv), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env={**os.environ, **(env or {})})
            self._popen[popen.pid] = popen
            # exec of `ip netns exec` into the daemon takes a moment: wait until comm changes
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                found = _stat(popen.pid)
                if found is None or found[0] != "ip":
                    break
                time.sleep(0.002)
            return self._track(popen.pid, ns, role)

    def adopt_pidfile(self, ns: str, pidfile: Path, role: str, timeout: float = 5.0) -> Tracked:
        """A daemon that forked into the background (FRR ``-d``) and wrote a pid file."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = pidfile.read_text().strip()
                if text:
                    return self._track(int(text), ns, role)
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{role} wrote no pid file {pidfile} within {timeout:.0f} s")

    def stop_role(self, role: str, grace: float = 2.0, hard: bool = False) -> list[str]:
        """End the processes of one role (a DHCP server restarted with new options).
        ``hard``: SIGKILL at once (a DHCP client killed runs no release/stop script, so
        the VM keeps its address and routes while a new one renews the lease)."""
        with self._lock:
            chosen = [p for p in self.tracked if p.role == role]
            self.tracked = [p for p in self.tracked if p.role != role]
        if hard:
            for proc in chosen:
                if alive(proc):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGKILL)
        problems = stop(chosen, grace)
        for proc in chosen:
            popen = self._popen.pop(proc.pid, None)
            if popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=0.5)
        if self._on_change:
            self._on_change()
        return problems

    def interrupt(self, pid: int, timeout: float = 3.0) -> None:
        """SIGINT one of our processes (ping prints its summary on it), bounded wait."""
        proc = next((p for p in self.tracked if p.pid == pid), None)
        if proc is None or not alive(proc):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        popen = self._popen.get(pid)
        if popen is not None:
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop([proc], 0.1)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=1.0)

    def stop_all(self, grace: float = 2.0) -> list[str]:
        problems = stop(self.tracked, grace)
        for popen in self._popen.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=0.5)
        self._popen.clear()
        self.tracked = []
        if self._on_change:
            self._on_change()
        return problems


def stop(procs: Sequence[Tracked], grace: float = 2.0) -> list[str]:
    """SIGTERM each process that is still ours, wait (bounded), then SIGKILL."""
    problems: list[str] = []
    live = [p for p in procs if alive(p)]
    for proc in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline:
        live = [p for p in live if alive(p) and not _zombie(p.pid)]
        if live:
            time.sleep(0.02)
    for proc in live:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        problems.append(f"{proc.role} (pid {proc.pid}) ignored SIGTERM; killed")
    return problems


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
