"""QingCloud route pushes by mechanism: what each push becomes on the cloud.

- ``instance`` (the default, as the console's 路由推送 → 添加云服务器路由): the push's receiving
  vxnets are the ones it lists, else the vxnet of its VPC that holds the next hop (an
  explicit ``vxnets: []`` receives nothing); every declared host of those vxnets that
  names its ``instance`` gets one DHCP option with all the routes it receives. Hosts that
  name no instance get nothing (lint R320).
- ``route-table``: a rule in the route table bound to the next hop's vxnet. QingCloud binds
  the VPC's default table to every vxnet of the VPC, so the rule routes the VMs of all of
  them, later ones included; ``vxnets`` cannot narrow it (lint R321), and one table holds
  one next hop per destination (lint R322).

Imports no Pulumi: the deploy (deploy/qingcloud.py) and lint read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from netweave.model.topology import InstanceRef, RoutePush, Topology, Vpc

INSTANCE = "instance"
ROUTE_TABLE = "route-table"
MECHANISMS = (INSTANCE, ROUTE_TABLE)

Route = tuple[str, str]  # (destination CIDR, next-hop address)


def mechanism_of(push: RoutePush) -> str:
    return push.mechanism or INSTANCE


def on_link(vpc: Vpc, push: RoutePush) -> tuple[str, ...]:
    """The vxnets of the VPC that hold the push's next hop."""
    return tuple(n for n, vx in vpc.vxnets.items()
                 if vx.cidr.version == push.next_hop.version and push.next_hop in vx.cidr)


def receiving_vxnets(vpc: Vpc, push: RoutePush) -> tuple[str, ...]:
    """Per-instance pushes: the listed vxnets (an empty list: none), else the next hop's."""
    return tuple(push.vxnets) if push.vxnets is not None else on_link(vpc, push)


@dataclass(frozen=True)
class InstancePush:
    """One DHCP option: the routes one existing instance receives."""

    host: str
    vxnet: str
    address: str
    instance: InstanceRef
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class TablePush:
    """Rules in the route table bound to ``vxnet`` (the anchor: the next hop's vxnet)."""

    vxnet: str
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class VpcPushes:
    instance: tuple[InstancePush, ...]
    route_table: tuple[TablePush, ...]


def vpc_pushes(topology: Topology, vpc_name: str) -> VpcPushes:
    vpc = topology.vpcs[vpc_name]
    by_host: dict[str, list[Route]] = {}
    by_anchor: dict[str, list[Route]] = {}
    hosts_in: dict[str, list[str]] = {}
    for host_name, declared in topology.hosts.items():
        if declared.vxnet in vpc.vxnets:
            hosts_in.setdefault(declared.vxnet, []).append(host_name)
    for push in vpc.route_push:
        route = (str(push.destination), str(push.next_hop))
        if mechanism_of(push) == ROUTE_TABLE:
            anchors = on_link(vpc, push)
            if anchors:
                routes = by_anchor.setdefault(anchors[0], [])
                if route not in routes:
                    routes.append(route)
            continue
        for vx in receiving_vxnets(vpc, push):
            for host in hosts_in.get(vx, []):
                if topology.hosts[host].instance is not None:
                    routes = by_host.setdefault(host, [])
                    if route not in routes:
                        routes.append(route)
    instance = tuple(InstancePush(h, topology.hosts[h].vxnet, str(topology.hosts[h].address),
                                  topology.hosts[h].instance, tuple(r))  # type: ignore[arg-type]
                     for h, r in by_host.items())
    table = tuple(TablePush(vx, tuple(r)) for vx, r in by_anchor.items())
    return VpcPushes(instance, table)
