"""Why a vCPE's user data changed: its rendered boot files, compared file by file.

A vCPE whose user data changes is replaced (cloud-init and QingCloud user data are only
read at first boot), so a reviewer needs to know *which* configuration moved: an FRR
prefix list, a WireGuard peer, a tunnel interface renamed. Both topologies are rendered
with the renderer's placeholder keys and addresses, so only topology changes show.
Files holding key material are named, never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from netweave.model.index import Index
from netweave.model.topology import Topology

MAX_DIFF_LINES = 80  # per host: enough to see what moved, not a wall of text


@dataclass(frozen=True)
class FileChange:
    path: str
    op: str  # "added" | "removed" | "changed"
    added: int = 0  # lines
    removed: int = 0
    secret: bool = False


@dataclass
class BootChanges:
    host: str
    files: list[FileChange] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)  # unified diff of the non-secret files (capped)
    truncated: bool = False

    def summary(self) -> str:
        parts = []
        for f in self.files:
            if f.secret:
                parts.append(f"{f.path} ({f.op}, key material: not shown)")
            elif f.op == "changed":
                parts.append(f"{f.path} (+{f.added} −{f.removed})")
            else:
                parts.append(f"{f.path} ({f.op})")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "files": [f.__dict__ for f in self.files], "diff": self.diff,
                "truncated": self.truncated}


def _files(topology: Topology, index: Index, hosts: set[str]) -> dict[str, dict[str, Any]]:
    from netweave.render import render_topology  # the renderer, only when a vCPE changed

    rendered = render_topology(topology, index)
    return {name: {f.path: f for f in host.files} for name, host in rendered.hosts.items()
            if name in hosts}


def boot_changes(base: Topology, head: Topology, hosts: Iterable[str]) -> list[BootChanges]:
    wanted = set(hosts)
    if not wanted:
        return []
    before = _files(base, Index.build(base), wanted)
    after = _files(head, Index.build(head), wanted)
    out = []
    for host in sorted(wanted):
        old, new = before.get(host, {}), after.get(host, {})
        change = BootChanges(host)
        for path in sorted(old.keys() | new.keys()):
            a, b = old.get(path), new.get(path)
            if a is not None and b is not None and a.content == b.content and a.mode == b.mode:
                continue
            secret = bool((a and a.secret) or (b and b.secret))
            op = "added" if a is None else "removed" if b is None else "changed"
            lines = list(difflib.unified_diff(
                (a.content if a else "").splitlines(), (b.content if b else "").splitlines(),
                f"a{path}", f"b{path}", n=1, lineterm=""))
            plus = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
            minus = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
            change.files.append(FileChange(path, op, plus, minus, secret))
            if not secret:
                room = MAX_DIFF_LINES - len(change.diff)
                change.diff += lines[:max(room, 0)]
                change.truncated |= len(lines) > room
        if change.files:
            out.append(change)
    return out
