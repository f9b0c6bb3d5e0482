"""Interface names on the hosts: stable, readable, and at most 15 characters (IFNAMSIZ).

Tunnel interfaces are named after the peer (``wg-vcpe02``); only a name that is too long,
or that two tunnels of the same host would share, falls back to a short hash of the tunnel
end. Names depend on the host's own tunnels alone: a tunnel added elsewhere never renames
an interface here — that would change the host's boot configuration and replace its VM.
(The emulator, whose wireguard-go sockets share one directory, starts each under a
run-unique name and renames it inside its namespace.)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

IFNAMSIZ = 15

# How each cloud's image names the NICs we configure. QingCloud: eth0, eth1... in attach
# order. Vultr: none — its names follow the PCI slot (enp6s0; ens7 in older images), so
# its VPC NIC is found by MAC on the VM (render/vpc_nic.py) and never named here.
_NIC_NAMES = {"qingcloud": ("eth", 0, "")}
# The NIC a host's internet traffic leaves by: QingCloud's primary NIC (the EIP is
# translated to its address). Vultr: not named (its public NIC is Vultr's own, named by
# PCI slot); what needs it finds it by the route to the peer, or does without.
PUBLIC_NIC: dict[str, str | None] = {"qingcloud": "eth0", "vultr": None}

TUNNEL_PREFIX = {"wireguard": "wg-", "openvpn": "ovpn-", "ipsec": "xfrm-"}


def nic_name(cloud: str, index: int) -> str:
    prefix, first, suffix = _NIC_NAMES[cloud]
    return f"{prefix}{first + index}{suffix}"


def short_name(prefix: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{prefix}{digest[: IFNAMSIZ - len(prefix)]}"[:IFNAMSIZ]


def tunnel_names(ends: Iterable[tuple[str, str, str, str]]) -> dict[tuple[str, str], str]:
    """(tunnel label, local vCPE, peer vCPE, type) -> {(label, local): interface name}."""
    ends = list(ends)
    wanted = {(label, local): f"{TUNNEL_PREFIX[kind]}{peer}" for label, local, peer, kind in ends}
    counts = Counter((local, name) for (_, local), name in wanted.items())
    names: dict[tuple[str, str], str] = {}
    for (label, local), name in wanted.items():
        kind = next(k for lb, lo, _, k in ends if (lb, lo) == (label, local))
        if len(name) > IFNAMSIZ or counts[(local, name)] > 1:
            name = short_name(TUNNEL_PREFIX[kind], f"{label}/{local}")
        names[(label, local)] = name
    return names
