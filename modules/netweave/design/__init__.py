"""The derived design: everything the topology implies, computed once after lint's schema
and reference stages, as typed frozen data that every output reads.

    model -> lint -> design -> forwarding / render / deploy / emulate / graph / diff

``Design.build(topology, index)`` works out who receives which route push and how, each
deployed host's interfaces, tunnels (both ends, ports, endpoints, MTUs), BGP sessions and
what each side announces and accepts, the firewall in front of every host, the keys, and
the cloud resource names. No consumer derives any of these again. Imports no Pulumi and
no renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import netaddr

from netweave.design.bgp import BgpSession, BgpSpeaker, SessionEnd, build_bgp
from netweave.design.declared import declared_prefixes
from netweave.design.errors import DesignError
from netweave.design.firewall import CloudFirewall, FirewallRule, build_firewalls, group_rules
from netweave.design.hosts import NicInterface, ResolvedStaticRoute, VcpeDesign, VpnServerDesign, build_hosts
from netweave.design.keys import KeySpec, key_specs
from netweave.design.pushes import PushedRoute, PushMechanism, VxnetPushes, build_pushes, hosts_by_vxnet
from netweave.design.resources import HostResources, host_resources
from netweave.design.tunnels import Endpoint, TunnelLink, TunnelSide, build_tunnels
from netweave.model.index import Index
from netweave.model.topology import Topology

__all__ = [
    "BgpSession",
    "BgpSpeaker",
    "CloudFirewall",
    "Design",
    "DesignError",
    "Endpoint",
    "FirewallRule",
    "HostResources",
    "KeySpec",
    "NicInterface",
    "PushMechanism",
    "PushedRoute",
    "ResolvedStaticRoute",
    "SessionEnd",
    "SiteDesign",
    "TunnelLink",
    "TunnelSide",
    "VcpeDesign",
    "VpnServerDesign",
    "VxnetPushes",
]


@dataclass(frozen=True, slots=True)
class SiteDesign:
    """A site's gateway as netweave configures it: its tunnels, BGP, static routes with a
    next hop (its LAN is connected on the box already; netweave owns none of its NICs)."""

    name: str
    tunnels: tuple[TunnelSide, ...]
    bgp: BgpSpeaker | None
    static_routes: tuple[ResolvedStaticRoute, ...]


@dataclass(frozen=True)
class Design:
    topology: Topology
    route_pushes: tuple[PushedRoute, ...]      # every push, in file order
    vxnet_pushes: Mapping[str, VxnetPushes]    # receiving vxnet -> what it receives
    tunnels: tuple[TunnelLink, ...]            # usable tunnels, in file order
    unusable_tunnels: tuple[str, ...]          # labels of tunnels without two distinct ends
    bgp_sessions: tuple[BgpSession, ...]
    vcpes: Mapping[str, VcpeDesign]
    vpn_servers: Mapping[str, VpnServerDesign]
    firewalls: Mapping[str, CloudFirewall]     # vCPE / VPN server -> its cloud's firewall
    security_groups: Mapping[str, tuple[FirewallRule, ...]]  # the topology's own groups
    keys: tuple[KeySpec, ...]
    resources: Mapping[str, HostResources]     # vCPE / VPN server -> its resource names
    sites: Mapping[str, SiteDesign]            # site -> its gateway's tunnels and BGP

    @classmethod
    def build(cls, topology: Topology, index: Index) -> Design:
        declared = {name: tuple(declared_prefixes(topology, name))
                    for name in [*topology.vcpes, *topology.sites]}
        named = frozenset(n for n, h in topology.hosts.items() if h.instance is not None)
        pushes, per_vxnet = build_pushes(topology, index, hosts_by_vxnet(topology), named)
        links, unusable = build_tunnels(topology, index, declared)
        sessions, speakers = build_bgp(topology, links, declared)
        sides: dict[str, list[TunnelSide]] = {}
        for link in links:
            for side in link.sides:
                sides.setdefault(side.local, []).append(side)
        vcpes, servers = build_hosts(topology, index, sides, speakers)
        groups = group_rules(topology)
        resources = {name: host_resources(name, v.cloud, v.public_ip, len(v.nics))
                     for name, v in vcpes.items()}
        resources.update({name: host_resources(name, s.cloud, s.public_ip, 1)
                          for name, s in servers.items()})
        sites = {name: SiteDesign(name, tuple(sides.get(name, ())), speakers.get(name),
                                  tuple(ResolvedStaticRoute(r.destination, r.next_hop, None)
                                        for r in site.static_routes if r.next_hop is not None))
                 for name, site in topology.sites.items()}
        return cls(topology, pushes, per_vxnet, links, unusable, sessions, vcpes, servers,
                   build_firewalls(topology, vcpes, servers, groups), groups,
                   key_specs(topology), resources, sites)

    # --- questions every consumer asks ------------------------------------------------

    def pushes_to(self, vxnet: str) -> tuple[PushedRoute, ...]:
        """The route pushes the VMs of ``vxnet`` receive, in file order."""
        found = self.vxnet_pushes.get(vxnet)
        return found.pushes if found is not None else ()

    def pushes_of(self, vpc: str) -> tuple[PushedRoute, ...]:
        return tuple(p for p in self.route_pushes if p.vpc == vpc)

    def router_pushes(self) -> dict[str, tuple[PushedRoute, ...]]:
        """VPC -> the pushes its VPC router forwards (QingCloud ``route-table``)."""
        out: dict[str, list[PushedRoute]] = {}
        for p in self.route_pushes:
            if p.by_router and p.vxnets:
                out.setdefault(p.vpc, []).append(p)
        return {vpc: tuple(found) for vpc, found in out.items()}

    def tunnels_of(self, vcpe: str) -> tuple[TunnelSide, ...]:
        return self.vcpes[vcpe].tunnels

    def announces(self, vcpe: str) -> tuple[netaddr.IPNetwork, ...]:
        """What a vCPE (or a site's gateway) announces over BGP (nothing without BGP)."""
        speaker = self.vcpes[vcpe].bgp if vcpe in self.vcpes else self.sites[vcpe].bgp
        return speaker.announces if speaker is not None else ()

    def cloud_of(self, host: str) -> str:
        """qingcloud | vultr, for a vCPE or a VPN server."""
        return self.vcpes[host].cloud if host in self.vcpes else self.vpn_servers[host].cloud

    def hosts_in(self, cloud: str) -> list[str]:
        """vCPEs, then VPN servers, of one cloud: each kind sorted by name."""
        return ([n for n in sorted(self.vcpes) if self.vcpes[n].cloud == cloud]
                + [n for n in sorted(self.vpn_servers) if self.vpn_servers[n].cloud == cloud])


