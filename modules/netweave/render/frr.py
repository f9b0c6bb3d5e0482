"""FRR: router-id, ASN, one eBGP session per tunnel with explicit policies both ways,
and the static routes the topology declares.

eBGP sessions carry routes only through route-maps: FRR's ``ebgp-requires-policy``
stays on, and the policies say exactly what the topology declares — out: what this
vCPE announces; in: what the peer announces. Nothing else passes in either direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import netaddr

from netweave.design.declared import declared_prefixes
from netweave.model.index import Index
from netweave.model.topology import Topology
from netweave.render.names import nic_name
from netweave.render.templating import render
from netweave.render.tunnels import TunnelEnd

CONFIG = "/etc/frr/frr.conf"
DAEMONS = ("zebra", "bgpd", "staticd")


@dataclass(frozen=True, slots=True)
class Timers:
    """Production BGP timers: keepalive 10 s / hold 30 s (FRR's datacenter profile), a
    10 s connect retry. The emulator speeds these up only through ``lab_overrides``."""

    keepalive: int = 10
    hold: int = 30
    connect: int = 10


PRODUCTION = Timers()


def _entries(prefixes: list[netaddr.IPNetwork]) -> list[dict[str, str]]:
    # An empty prefix-list matches nothing only if it exists: deny everything explicitly.
    if not prefixes:
        return [{"action": "deny", "prefix": "any"}]
    return [{"action": "permit", "prefix": str(p)} for p in prefixes]


def _safe(name: str) -> str:
    return name.replace(".", "_")


def bgp_context(topology: Topology, vcpe: str, tunnels: list[TunnelEnd]) -> dict[str, Any] | None:
    node = topology.vcpes[vcpe]
    if node.bgp is None:
        return None
    own = declared_prefixes(topology, vcpe)
    peers = []
    for t in tunnels:
        peer_bgp = topology.vcpes[t.peer].bgp
        if peer_bgp is None:
            continue
        tag = _safe(t.interface)
        peers.append({
            "name": t.peer, "tunnel": t.label, "address": str(t.peer_address.ip),
            "asn": peer_bgp.asn,
            "in_list": f"PL-IN-{tag}", "out_list": f"PL-OUT-{tag}",
            "in_map": f"RM-IN-{tag}", "out_map": f"RM-OUT-{tag}",
            "in_": _entries(list(t.peer_prefixes)), "out": _entries(own),
        })
    router_id = node.bgp.router_id or node.nics[0].address
    return {"asn": node.bgp.asn, "router_id": str(router_id), "peers": peers,
            "networks": [str(p) for p in own]}


def static_routes(topology: Topology, index: Index, vcpe: str, cloud: str) -> list[dict[str, str]]:
    node = topology.vcpes[vcpe]
    routes = []
    for route in node.static_routes:
        if route.next_hop is not None:
            via = str(route.next_hop)
        else:  # a connected destination: route it out of the NIC whose vxnet holds it
            via = next((nic_name(cloud, i) for i, nic in enumerate(node.nics)
                        if route.destination in index.vxnets[nic.vxnet].cidr
                        or index.vxnets[nic.vxnet].cidr in route.destination),
                       nic_name(cloud, 0))
        routes.append({"destination": str(route.destination), "via": via})
    return routes


def lab_overrides(bgp: dict[str, Any] | None) -> dict[str, Any] | None:
    """The only sanctioned change the emulator makes: fast timers, same policies.

    Apply with ``vtysh -c 'configure terminal' -c '<router>' -c '<line>'...`` after
    bgpd read ``/etc/frr/frr.conf``, or by appending ``router`` + ``lines`` to it.
    """
    if not bgp:
        return None
    lines = ["timers bgp 1 3", "coalesce-time 10"]
    for p in bgp["peers"]:
        lines += [f"neighbor {p['address']} timers 1 3",
                  f"neighbor {p['address']} timers connect 1",
                  f"neighbor {p['address']} advertisement-interval 0"]
    return {"router": f"router bgp {bgp['asn']}", "lines": lines}


def render_frr(host: str, bgp: dict[str, Any] | None, statics: list[dict[str, str]],
               timers: Timers = PRODUCTION) -> str:
    return render("frr.conf.j2", host=host, bgp=bgp, static_routes=statics, timers=timers)
