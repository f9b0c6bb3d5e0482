"""QingCloud route pushes by mechanism: what each push becomes on the cloud, read from the
design's fan-out (:mod:`netweave.design.pushes`).

- ``instance`` (the default, as the console's 路由推送 → 添加云服务器路由): every declared
  host of the receiving vxnets that names its ``instance`` gets one DHCP option with all
  the routes it receives. Hosts that name no instance get nothing (lint R320).
- ``route-table``: a rule in the route table bound to the next hop's vxnet. QingCloud binds
  the VPC's default table to every vxnet of the VPC, so the rule routes the VMs of all of
  them, later ones included; ``vxnets`` cannot narrow it (lint R321), and one table holds
  one next hop per destination (lint R322).

Imports no Pulumi: the deploy (deploy/qingcloud.py) and lint read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from netweave.design.pushes import PushedRoute, PushMechanism
from netweave.model.topology import InstanceRef, Topology

INSTANCE = PushMechanism.INSTANCE.value
ROUTE_TABLE = PushMechanism.ROUTE_TABLE.value
MECHANISMS = (INSTANCE, ROUTE_TABLE)

Route = tuple[str, str]  # (destination CIDR, next-hop address)


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


def vpc_pushes(topology: Topology, pushes: tuple[PushedRoute, ...]) -> VpcPushes:
    """The QingCloud resources of one VPC's pushes (``Design.pushes_of(vpc)``)."""
    by_host: dict[str, list[Route]] = {}
    by_anchor: dict[str, list[Route]] = {}
    for push in pushes:
        route = (str(push.destination), push.via)
        if push.mechanism is PushMechanism.ROUTE_TABLE:
            if push.anchor is not None:
                routes = by_anchor.setdefault(push.anchor, [])
                if route not in routes:
                    routes.append(route)
            continue
        for host in push.instances:
            routes = by_host.setdefault(host, [])
            if route not in routes:
                routes.append(route)
    instance = tuple(InstancePush(h, topology.hosts[h].vxnet or "", str(topology.hosts[h].address),
                                  topology.hosts[h].instance, tuple(r))  # type: ignore[arg-type]
                     for h, r in by_host.items())
    table = tuple(TablePush(vx, tuple(r)) for vx, r in by_anchor.items())
    return VpcPushes(instance, table)
