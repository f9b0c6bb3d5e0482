"""Which runs are orphaned (their netweave process killed): decided by PID and start time,
without root, so a recycled PID or a kept lab is never taken for a killed run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from netweave.emulate.processes import process_start
from netweave.emulate.state import RunState


def _state(tmp_path: Path, **kw: object) -> RunState:
    return RunState("nw0a0b", tmp_path, **kw)  # type: ignore[arg-type]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_owner_is_running_is_not_orphaned(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.claim()
    assert state.owner_pid == os.getpid() and not state.orphaned


def test_a_run_whose_owner_is_gone_is_orphaned(tmp_path: Path) -> None:
    assert _state(tmp_path, owner_pid=_dead_pid(), owner_start=1).orphaned


def test_a_recycled_pid_is_not_the_owner(tmp_path: Path) -> None:
    start = process_start(os.getpid())
    assert start is not None
    assert _state(tmp_path, owner_pid=os.getpid(), owner_start=start - 1).orphaned


def test_a_kept_lab_is_never_orphaned(tmp_path: Path) -> None:
    assert not _state(tmp_path, owner_pid=_dead_pid(), owner_start=1, kept=True).orphaned


def test_a_run_without_a_recorded_owner_is_left_alone(tmp_path: Path) -> None:
    assert not _state(tmp_path).orphaned


def test_the_owner_survives_a_save_and_load(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.claim()
    state.save()
    loaded = RunState.load(tmp_path)
    assert (loaded.owner_pid, loaded.owner_start) == (state.owner_pid, state.owner_start)
