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

from netweave.design import BgpSpeaker, ResolvedStaticRoute
from netweave.render.templating import render

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


def bgp_context(speaker: BgpSpeaker | None) -> dict[str, Any] | None:
    """The design's BGP speaker and its sessions, as ``frr.conf.j2`` reads them.

    Peers that are sent exactly the same prefixes share one outbound prefix-list and
    route-map (a hub announces the same to each spoke): bgpd loads prefix-lists in time
    that grows with their total length, and 49 copies of a 50-entry list kept a hub's
    bgpd busy for ~13 s before its first session came up."""
    if speaker is None:
        return None
    peers: list[dict[str, Any]] = []
    for session in speaker.sessions:
        local, remote = session.local(speaker.vcpe), session.remote(speaker.vcpe)
        tag = _safe(local.interface)
        peers.append({
            "name": remote.vcpe, "tunnel": session.tunnel, "address": str(remote.address),
            "asn": remote.asn,
            "in_list": f"PL-IN-{tag}", "out_list": f"PL-OUT-{tag}",
            "in_map": f"RM-IN-{tag}", "out_map": f"RM-OUT-{tag}",
            "in_": _entries(list(local.accepts)), "out": _entries(list(local.announces)),
            "out_first": True, "out_to": remote.vcpe,
        })
    groups: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
    for peer in peers:
        groups.setdefault(tuple((e["action"], e["prefix"]) for e in peer["out"]), []).append(peer)
    shared = 0
    for group in groups.values():
        if len(group) < 2:
            continue
        shared += 1
        names = [p["name"] for p in group]
        for i, peer in enumerate(group):
            peer["out_list"], peer["out_map"] = f"PL-OUT-SHARED-{shared}", f"RM-OUT-SHARED-{shared}"
            peer["out_first"] = i == 0
            peer["out_to"] = ", ".join(names[:-1]) + f" and {names[-1]}"
    router_id = str(speaker.router_id) if speaker.router_id is not None else None  # None: FRR's
    return {"asn": speaker.asn, "router_id": router_id, "peers": peers,
            "networks": [str(p) for p in speaker.announces]}


def static_routes(routes: tuple[ResolvedStaticRoute, ...]) -> list[dict[str, str]]:
    return [{"destination": str(r.destination), "via": r.via} for r in routes]


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
