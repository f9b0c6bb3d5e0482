"""Names of everything one emulation run creates.

Every run gets its own short prefix, so two runs (or a kept lab and a test) never
collide, and teardown can tell our namespaces from anyone else's by name alone.
Linux limits interface names to 15 characters; namespace names are kept as short.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

IFNAMSIZ = 15  # the kernel's limit for interface names (16 with the NUL)
PREFIX_RE = re.compile(r"^nw[0-9a-f]{4}$")
STATE_ROOT_ROOT = Path("/run/netweave")


def new_prefix() -> str:
    """A fresh run prefix: ``nw`` + 4 hex digits (6 chars, leaves 9 for the rest)."""
    return "nw" + secrets.token_hex(2)


def run_dir(prefix: str) -> Path:
    """Where a run keeps its state, keys, rendered files and daemon sockets."""
    if os.geteuid() == 0:
        return STATE_ROOT_ROOT / prefix
    return Path(f"/tmp/netweave-{prefix}")


def check_name(name: str) -> str:
    if len(name) > IFNAMSIZ:
        raise ValueError(f"name {name!r} is longer than {IFNAMSIZ} characters")
    return name


@dataclass
class Names:
    """Stable short names for the nodes of one run: ``<prefix><kind><n>``.

    Kinds: ``r`` VPC router, ``h`` workload host, ``v`` vCPE, ``s`` VPN server,
    ``u`` the underlay ("the internet").
    """

    prefix: str
    _ns: dict[str, str] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def node(self, kind: str, name: str) -> str:
        key = f"{kind}:{name}"
        if key not in self._ns:
            n = self._counters.get(kind, 0)
            self._counters[kind] = n + 1
            self._ns[key] = check_name(f"{self.prefix}{kind}{n}")
        return self._ns[key]

    def router(self, vpc: str) -> str:
        return self.node("r", vpc)

    def host(self, host: str) -> str:
        return self.node("h", host)

    def vcpe(self, vcpe: str) -> str:
        return self.node("v", vcpe)

    @property
    def underlay(self) -> str:
        return check_name(f"{self.prefix}u")

    def tunnel_socket_name(self, n: int) -> str:
        """wireguard-go's control socket lives in the shared /var/run/wireguard: the
        interface is created under this run-unique name, then renamed in its namespace."""
        return check_name(f"{self.prefix}w{n}")

    def mapping(self) -> dict[str, str]:
        """topology node ("host:vm01") -> namespace name."""
        return dict(self._ns)
