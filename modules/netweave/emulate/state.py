"""The record of one run on disk (``RUN_DIR/state.json``): what it created, so that
teardown — in this process, or later from ``netweave emulate --down`` — removes
exactly that and nothing else."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netweave.emulate.naming import PREFIX_RE, STATE_ROOT_ROOT
from netweave.emulate.processes import Tracked, process_start

STATE_FILE = "state.json"


@dataclass
class RunState:
    prefix: str
    dir: Path
    file: str = ""
    namespaces: list[str] = field(default_factory=list)
    etc_netns: list[str] = field(default_factory=list)   # /etc/netns/NS dirs we created
    processes: list[Tracked] = field(default_factory=list)
    nodes: dict[str, str] = field(default_factory=dict)   # "vcpe:vcpe01" -> namespace
    vty: dict[str, str] = field(default_factory=dict)     # vCPE -> vty socket dir
    wg_sockets: dict[str, str] = field(default_factory=dict)  # rendered ifname@vcpe -> socket name
    kept: bool = False
    created_etc_netns: bool = False  # /etc/netns did not exist before this run
    created_wg_dir: bool = False     # nor /var/run/wireguard (wireguard-go makes it)
    created_privsep: bool = False    # nor /run/sshd (--change: sshd in the vCPEs)
    # The netweave process that runs the lab (PID and start time): when it is gone and the
    # lab was not kept on purpose, the run was killed (SIGKILL, OOM, power) and its
    # leftovers are removed by the next run.
    owner_pid: int | None = None
    owner_start: int | None = None

    def claim(self) -> None:
        """Record this process as the run's owner."""
        self.owner_pid = os.getpid()
        self.owner_start = process_start(self.owner_pid)

    @property
    def orphaned(self) -> bool:
        """Not kept, and its owner is no longer running (a recycled PID is not it)."""
        if self.kept or self.owner_pid is None:
            return False
        return process_start(self.owner_pid) != self.owner_start

    def save(self) -> None:
        data: dict[str, Any] = {
            "prefix": self.prefix, "file": self.file, "namespaces": self.namespaces,
            "etc_netns": self.etc_netns, "processes": [p.to_json() for p in self.processes],
            "nodes": self.nodes, "vty": self.vty, "wg_sockets": self.wg_sockets,
            "kept": self.kept, "created_etc_netns": self.created_etc_netns,
            "created_wg_dir": self.created_wg_dir,
            "owner_pid": self.owner_pid, "owner_start": self.owner_start,
            "created_privsep": self.created_privsep,
        }
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.dir / STATE_FILE)

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        data = json.loads((run_dir / STATE_FILE).read_text())
        if not PREFIX_RE.match(data.get("prefix", "")):
            raise ValueError(f"{run_dir}: not a netweave emulation run")
        return cls(prefix=data["prefix"], dir=run_dir, file=data.get("file", ""),
                   namespaces=list(data["namespaces"]), etc_netns=list(data["etc_netns"]),
                   processes=[Tracked.from_json(p) for p in data["processes"]],
                   nodes=dict(data.get("nodes", {})), vty=dict(data.get("vty", {})),
                   wg_sockets=dict(data.get("wg_sockets", {})), kept=bool(data.get("kept")),
                   created_etc_netns=bool(data.get("created_etc_netns")),
                   created_wg_dir=bool(data.get("created_wg_dir")),
                   owner_pid=data.get("owner_pid"), owner_start=data.get("owner_start"),
                   created_privsep=bool(data.get("created_privsep")))


def orphaned_runs() -> list[RunState]:
    """Runs of this machine whose netweave process died without tearing them down."""
    found = []
    for d in run_dirs():
        try:
            state = RunState.load(d)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: --down names it, nothing is removed on a guess
        if state.orphaned:
            found.append(state)
    return found


def run_dirs() -> list[Path]:
    """Run directories of this machine (kept labs, or runs killed with SIGKILL)."""
    found: list[Path] = []
    if STATE_ROOT_ROOT.is_dir():
        found += [p for p in STATE_ROOT_ROOT.iterdir() if PREFIX_RE.match(p.name)]
    found += [p for p in Path("/tmp").glob("netweave-nw*") if PREFIX_RE.match(p.name[9:])]
    return sorted(p for p in found if (p / STATE_FILE).is_file())
