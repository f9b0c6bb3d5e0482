"""Route pushes: who receives which route, towards which next hop, by which mechanism.

A push goes to the vxnets it lists; without ``vxnets`` it goes to the vxnet of its VPC
that holds its next hop (the next hop must be on-link for the VMs that receive it; for
``next_hop: <router>``, the vxnets the router has a leg in — on Vultr its address there
is assigned at deploy and the push carries the router's name). An explicit empty list,
``vxnets: []``, means exactly that: no vxnet receives the push (lint warns, R315). A
QingCloud ``route-table`` push is different: its rule sits in the route table bound to
the next hop's vxnet — the VPC's default table, bound to every vxnet — so the VPC router
forwards the packets of every VM of the VPC (``vxnets`` cannot narrow it, R321); the VMs
themselves hold no route. Every consumer — the forwarding model, the Pulumi program, the
emulator, the graph, the rendered Vultr snippet — reads this fan-out; none works it out
again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

import netaddr

from netweave.design.addresses import AssignedAtDeploy, named_on_link, push_next_hop
from netweave.model.index import Index
from netweave.model.source import PathKey
from netweave.model.topology import Topology


class PushMechanism(StrEnum):
    """How a cloud delivers a route push to the VMs of a vxnet."""

    # QingCloud, ``mechanism: instance`` (the default): a DHCP option per declared instance
    # (providers/qingcloud/instance_routes.py; design/qingcloud_pushes.py has the resources).
    INSTANCE = "instance"
    # QingCloud, ``mechanism: route-table``: rules in the route table bound to the next hop's
    # vxnet — the VPC's default table, bound to all its vxnets (providers/qingcloud/route_table.py).
    ROUTE_TABLE = "route-table"
    # Vultr has no route push: the VPC's workloads apply the rendered cloud-init snippet
    # (``<vpc>/workload-routes.yaml``, lint R314).
    CLOUD_INIT = "cloud-init"


MECHANISM = {"qingcloud": PushMechanism.INSTANCE, "vultr": PushMechanism.CLOUD_INIT}


@dataclass(frozen=True, slots=True)
class PushedRoute:
    """One ``route_push`` entry and where it lands."""

    vpc: str
    position: int                 # index in vpcs.<vpc>.route_push
    destination: netaddr.IPNetwork
    # None: the cloud assigns the next hop's address at deploy (``next_hop: <router>`` on
    # Vultr), or the named router has no leg in the VPC (lint R301)
    next_hop: netaddr.IPAddress | None
    via: str                      # the next hop as text: its address, else the router's name
    vxnets: tuple[str, ...]       # receiving vxnets: whose VMs' packets follow the route
    hosts: tuple[str, ...]        # the workload VMs in them (topology ``hosts``)
    explicit: bool                # the file lists ``vxnets`` (possibly empty)
    mechanism: PushMechanism
    on_link: tuple[str, ...]      # the vxnet of the VPC holding the next hop (or none)
    instances: tuple[str, ...] = ()  # ``instance``: the receiving hosts that name their instance
    router: str | None = None     # the router ``next_hop`` names, if it names one

    @property
    def path(self) -> PathKey:
        return ("vpcs", self.vpc, "route_push", self.position)

    @property
    def assigned_at_deploy(self) -> bool:
        """The next hop is a router whose address here the cloud assigns at deploy."""
        return self.next_hop is None and self.router is not None

    @property
    def by_router(self) -> bool:
        """The VPC router forwards it (a route table); the VMs hold no route themselves."""
        return self.mechanism is PushMechanism.ROUTE_TABLE

    @property
    def anchor(self) -> str | None:
        """``route-table``: the vxnet whose bound route table holds the rule."""
        return self.on_link[0] if self.by_router and self.on_link else None


@dataclass(frozen=True, slots=True)
class VxnetPushes:
    """The pushes that route the VMs of one vxnet, in push order."""

    vxnet: str
    vpc: str
    pushes: tuple[PushedRoute, ...]
    hosts: tuple[str, ...]        # workload VMs of the vxnet

    @property
    def held(self) -> tuple[PushedRoute, ...]:
        """The pushes the VMs hold themselves (DHCP option, cloud-init), not a route table."""
        return tuple(p for p in self.pushes if not p.by_router)

    def routes(self) -> list[tuple[netaddr.IPNetwork, netaddr.IPAddress]]:
        """(destination, next hop) the VMs hold, first occurrence kept (what DHCP or the
        snippet hands out)."""
        return unique_routes(self.held)


def unique_routes(pushes: Iterable[PushedRoute]) -> list[tuple[netaddr.IPNetwork, netaddr.IPAddress]]:
    """(destination, next hop), first occurrence kept; a next hop assigned at deploy has
    no address to hand out yet (Vultr: the snippet gets it from the deploy)."""
    seen: dict[tuple[int, int, int, int], tuple[netaddr.IPNetwork, netaddr.IPAddress]] = {}
    for p in pushes:
        if p.next_hop is None:
            continue
        key = (p.destination.first, p.destination.last, p.destination.version, int(p.next_hop))
        seen.setdefault(key, (p.destination, p.next_hop))
    return list(seen.values())


def hosts_by_vxnet(topology: Topology) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, host in topology.hosts.items():
        if host.vxnet is not None:  # hosts at sites receive no route push
            out.setdefault(host.vxnet, []).append(name)
    return {vx: tuple(names) for vx, names in out.items()}


def build_pushes(topology: Topology, index: Index, hosts: Mapping[str, tuple[str, ...]],
                 named: frozenset[str] = frozenset()
                 ) -> tuple[tuple[PushedRoute, ...], dict[str, VxnetPushes]]:
    """Every push with its receivers, and per receiving vxnet its pushes. Linear in the
    pushes (plus a sort of each VPC's vxnets): next hops are resolved once each."""
    every: list[PushedRoute] = []
    by_vxnet: dict[str, list[PushedRoute]] = {}
    text: dict[int, str] = {}
    for vpc_name, vpc in topology.vpcs.items():
        if not vpc.route_push:
            continue
        cloud_default = MECHANISM[index.cloud_of_vpc(vpc_name)[1].provider]
        spans = sorted((vx.cidr.first, vx.cidr.last, n) for n, vx in vpc.vxnets.items())
        starts = [first for first, _last, _n in spans]
        disjoint = all(a[1] < b[0] for a, b in pairwise(spans))
        every_vxnet = tuple(vpc.vxnets)
        # Pushes share few next hops: resolve each once (parsed addresses are shared objects).
        resolved: dict[int, tuple[str, tuple[str, ...], netaddr.IPAddress | None]] = {}
        for i, push in enumerate(vpc.route_push):
            hop = push.next_hop
            found = resolved.get(id(hop))
            if found is None:
                if isinstance(hop, str):  # a router's name: on-link where it has a leg
                    address = push_next_hop(topology, vpc_name, push)
                    known = None if address is None or isinstance(address, AssignedAtDeploy) else address
                    found = resolved[id(hop)] = (str(known) if known is not None else hop,
                                                 named_on_link(topology, vpc_name, hop), known)
                else:
                    on_link: tuple[str, ...]
                    if disjoint:
                        at = bisect_right(starts, hop.value) - 1
                        on_link = (spans[at][2],) if at >= 0 and hop.value <= spans[at][1] \
                            and hop.version == vpc.vxnets[spans[at][2]].cidr.version else ()
                    else:  # overlapping vxnets (lint A202): every one holding it, in file order
                        on_link = tuple(n for n, vx in vpc.vxnets.items()
                                        if vx.cidr.version == hop.version and hop in vx.cidr)
                    via = text.get(hop.value)
                    if via is None:
                        via = text[hop.value] = str(hop)
                    found = resolved[id(hop)] = (via, on_link, hop)
            mechanism = (PushMechanism(push.mechanism)
                         if push.mechanism and cloud_default is PushMechanism.INSTANCE else cloud_default)
            if mechanism is PushMechanism.ROUTE_TABLE:  # the default table routes every vxnet
                receivers = every_vxnet if found[1] else ()
            else:
                receivers = tuple(push.vxnets) if push.vxnets is not None else found[1]
            if len(receivers) == 1:
                receiving = hosts.get(receivers[0], ())
            else:
                receiving = tuple(h for vx in receivers for h in hosts.get(vx, ()))
            instances = (tuple(h for h in receiving if h in named)
                         if mechanism is PushMechanism.INSTANCE else ())
            route = PushedRoute(vpc_name, i, push.destination, found[2], found[0], receivers,
                                receiving, push.vxnets is not None, mechanism, found[1], instances,
                                hop if isinstance(hop, str) else None)
            every.append(route)
            for vx in receivers:
                by_vxnet.setdefault(vx, []).append(route)
    per_vxnet = {vx: VxnetPushes(vx, index.vpc_of(vx), tuple(routes), hosts.get(vx, ()))
                 for vx, routes in by_vxnet.items()}
    return tuple(every), per_vxnet
