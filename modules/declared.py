"""What a vCPE declares over BGP — the one definition lint, render and the Vultr rule share.

``bgp.advertise`` plus the static routes marked ``advertise: true``; prefix-lists send
exactly this and a peer accepts exactly this. Kept free of heavy imports: lint uses it.
"""

from __future__ import annotations

import netaddr

from modules.model import Topology


def declared_prefixes(topology: Topology, vcpe: str) -> list[netaddr.IPNetwork]:
    node = topology.vcpes[vcpe]
    found: list[netaddr.IPNetwork] = []
    if node.bgp:
        found.extend(node.bgp.advertise)
    found.extend(r.destination for r in node.static_routes if r.advertise)
    return sorted(set(found), key=lambda n: (n.version, n.first, n.prefixlen))
