"""What a vCPE declares over BGP — the one definition lint, render and the Vultr rule share.

``bgp.advertise`` plus the static routes marked ``advertise: true``; prefix-lists send
exactly this and a peer accepts exactly this. Kept free of heavy imports: lint uses it.
"""

from __future__ import annotations

import netaddr

from netweave.model.topology import Topology

Span = tuple[int, int, int]  # (IP version, first address, last address): netaddr's equality


def declared_spans(topology: Topology, vcpe: str) -> list[tuple[Span, netaddr.IPNetwork]]:
    """The declared prefixes with their spans, deduplicated, by first address and then
    longest first. Lint runs this for every vCPE: the span of each network is computed
    once (netaddr's own hashing and sorting recompute it on every comparison)."""
    node = topology.router(vcpe)
    if node is None or node.bgp is None:  # no BGP speaker, no announcement: the flag alone does nothing
        return []
    found: dict[Span, netaddr.IPNetwork] = {}
    for net in node.bgp.advertise:
        found.setdefault((net.version, net.first, net.last), net)
    for route in node.static_routes:
        if route.advertise:
            net = route.destination
            found.setdefault((net.version, net.first, net.last), net)
    # (version, first, -last) orders networks as (version, first, prefix length) does
    return sorted(found.items(), key=lambda item: (item[0][0], item[0][1], -item[0][2]))


def declared_prefixes(topology: Topology, vcpe: str) -> list[netaddr.IPNetwork]:
    return [net for _span, net in declared_spans(topology, vcpe)]
