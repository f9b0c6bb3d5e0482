"""BGP: one eBGP session per tunnel whose two vCPEs both speak BGP, and exactly what each
side announces and accepts.

A vCPE announces what it declares (``bgp.advertise`` plus static routes marked
``advertise``, :mod:`netweave.design.declared`) and accepts exactly what its peer
declares: the rendered prefix-lists say this and nothing else, in both directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import netaddr

from netweave.design.addresses import router_id
from netweave.design.tunnels import TunnelLink
from netweave.model.topology import Topology


@dataclass(frozen=True, slots=True)
class SessionEnd:
    vcpe: str
    asn: int
    address: netaddr.IPAddress        # its tunnel address: where the peer connects
    interface: str                    # its tunnel interface
    announces: tuple[netaddr.IPNetwork, ...]
    accepts: tuple[netaddr.IPNetwork, ...]  # what the other end announces


@dataclass(frozen=True, slots=True)
class BgpSession:
    tunnel: str
    index: int  # position of the tunnel in topology.tunnels
    ends: tuple[SessionEnd, SessionEnd]

    def local(self, vcpe: str) -> SessionEnd:
        return self.ends[0] if self.ends[0].vcpe == vcpe else self.ends[1]

    def remote(self, vcpe: str) -> SessionEnd:
        return self.ends[1] if self.ends[0].vcpe == vcpe else self.ends[0]


@dataclass(frozen=True, slots=True)
class BgpSpeaker:
    vcpe: str
    asn: int
    # bgp.router_id, else the primary NIC address, else (Vultr) the lowest tunnel address;
    # None: FRR picks one (design/addresses.py router_id)
    router_id: netaddr.IPAddress | None
    announces: tuple[netaddr.IPNetwork, ...]
    sessions: tuple[BgpSession, ...]  # in tunnel order


def build_bgp(topology: Topology, links: Sequence[TunnelLink],
              declared: Mapping[str, tuple[netaddr.IPNetwork, ...]]
              ) -> tuple[tuple[BgpSession, ...], dict[str, BgpSpeaker]]:
    sessions: list[BgpSession] = []
    by_vcpe: dict[str, list[BgpSession]] = {}
    for link in links:
        a, b = link.sides
        router_a, router_b = topology.router(a.local), topology.router(b.local)
        bgp_a = router_a.bgp if router_a is not None else None
        bgp_b = router_b.bgp if router_b is not None else None
        if bgp_a is None or bgp_b is None:
            continue
        own_a, own_b = declared.get(a.local, ()), declared.get(b.local, ())
        session = BgpSession(link.label, link.index, (
            SessionEnd(a.local, bgp_a.asn, a.local_address.ip, a.interface, own_a, own_b),
            SessionEnd(b.local, bgp_b.asn, b.local_address.ip, b.interface, own_b, own_a)))
        sessions.append(session)
        for side in (a, b):
            by_vcpe.setdefault(side.local, []).append(session)
    speakers = {}
    for name, vcpe in topology.vcpes.items():
        if vcpe.bgp is None:
            continue
        speakers[name] = BgpSpeaker(name, vcpe.bgp.asn, router_id(topology, name),
                                    declared.get(name, ()), tuple(by_vcpe.get(name, ())))
    for name, site in topology.sites.items():  # a site's gateway: its LAN address by default
        if site.bgp is None:
            continue
        speakers[name] = BgpSpeaker(name, site.bgp.asn, site.bgp.router_id or site.gateway,
                                    declared.get(name, ()), tuple(by_vcpe.get(name, ())))
    return tuple(sessions), speakers
