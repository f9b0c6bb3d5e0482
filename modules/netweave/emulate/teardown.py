"""Removing a run: its processes (by PID), its namespaces (by the names it recorded),
the ``/etc/netns`` files it wrote, and its run directory. Idempotent: safe to call
twice, from a signal handler, from atexit, or from ``--down``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path

from netweave.emulate import shell
from netweave.emulate.naming import STATE_ROOT_ROOT
from netweave.emulate.processes import alive, stop, strays
from netweave.emulate.state import RunState, orphaned_runs
from netweave.emulate.vcpe import WG_SOCKET_DIR


def teardown(state: RunState, *, remove_dir: bool = True) -> list[str]:
    problems = stop(state.processes)
    state.processes = []
    if state.dir.is_dir():
        for pid in strays(state.dir, state.namespaces):
            problems.append(f"pid {pid} of this run was not recorded; ended")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    # wireguard-go removes its control socket when it ends, but not when it is killed:
    # the run's sockets carry its prefix (Names.tunnel_socket_name), nobody else's do
    for sock in WG_SOCKET_DIR.glob(f"{state.prefix}w*.sock"):
        with contextlib.suppress(OSError):
            sock.unlink()
    ours = [ns for ns in state.namespaces if ns.startswith(state.prefix)]
    if ours:
        existing = set(list_namespaces())
        lines = [f"netns del {ns}" for ns in ours if ns in existing]
        if lines:
            proc = shell.run(["ip", "-force", "-batch", "-"], input="\n".join(lines) + "\n",
                             check=False)
            if proc.returncode != 0:
                problems.append(f"deleting namespaces: {proc.stderr.strip()}")
    state.namespaces = []
    for ns in state.etc_netns:
        path = Path("/etc/netns") / ns
        if ns.startswith(state.prefix) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    state.etc_netns = []
    if state.created_etc_netns:
        with contextlib.suppress(OSError):  # only when empty: another run may use it
            Path("/etc/netns").rmdir()
    if state.created_privsep:
        with contextlib.suppress(OSError):  # only when empty: sshd may be used otherwise
            Path("/run/sshd").rmdir()
    if state.created_wg_dir:
        with contextlib.suppress(OSError):  # only when empty: another run may use it
            Path("/var/run/wireguard").rmdir()
    if remove_dir:
        shutil.rmtree(state.dir, ignore_errors=True)
        if state.dir.parent == STATE_ROOT_ROOT:
            with contextlib.suppress(OSError):
                STATE_ROOT_ROOT.rmdir()
    elif state.dir.is_dir():
        state.save()
    return problems


def remove_orphaned_runs() -> list[str]:
    """Find the labs of runs that were killed (owner process gone, not kept), remove them,
    and say what was removed. Kept labs and running labs are left alone."""
    said = []
    for state in orphaned_runs():
        existing = set(list_namespaces())
        namespaces = [ns for ns in state.namespaces if ns in existing]
        sockets = list(WG_SOCKET_DIR.glob(f"{state.prefix}w*.sock"))
        processes = sum(alive(p) for p in state.processes)
        what = (f"{len(namespaces)} namespaces, {processes} processes, "
                f"{len(state.etc_netns)} /etc/netns entries, {len(sockets)} WireGuard sockets")
        problems = teardown(state)
        said.append(f"removed lab {state.prefix} left by a killed run"
                    f"{' of ' + state.file if state.file else ''} (its netweave process "
                    f"{state.owner_pid} is gone): {what}"
                    + "".join(f"; {p}" for p in problems))
    return said


def list_namespaces() -> list[str]:
    proc = shell.run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
