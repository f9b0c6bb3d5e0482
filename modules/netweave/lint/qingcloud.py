"""Lint rules: how a QingCloud route push is delivered (R320-R323).

The two mechanisms (design/qingcloud_pushes.py; README "Deploying with Pulumi"):
``instance`` (default) gives the route to each declared host that names its ``instance``
— VMs netweave does not know, and VMs created later, get nothing; ``route-table`` routes
every VM of every vxnet bound to the VPC's route table, later ones included, but one table
holds one next hop per destination for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from netweave.design.qingcloud_pushes import INSTANCE, ROUTE_TABLE, mechanism_of, on_link, receiving_vxnets
from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.model.source import PathKey
from netweave.model.topology import Host, QingCloud, RoutePush

DIFFERENCE = ("instance, the default, reaches the declared hosts that name their instance; "
              "route-table reaches every VM of the VPC, later ones too")


def check(ctx: Context) -> Iterator[Finding]:
    topology, index = ctx.topology, ctx.index
    hosts_in: dict[str, list[str]] = {}
    for name, host in topology.hosts.items():
        hosts_in.setdefault(host.vxnet, []).append(name)
    for vpc_name, vpc in topology.vpcs.items():
        qingcloud = isinstance(index.cloud_of_vpc(vpc_name)[1], QingCloud)
        table: dict[str, tuple[str, int]] = {}  # destination -> (next hop, push position)
        for i, push in enumerate(vpc.route_push):
            path = ("vpcs", vpc_name, "route_push", i)
            if not qingcloud:
                if push.mechanism is not None:
                    yield finding("R323", f"route push {push.destination} in {vpc_name} sets mechanism "
                                  f"{push.mechanism}, a QingCloud setting; {vpc_name} is not on QingCloud",
                                  (*path, "mechanism"), "remove it: these workloads take the push from "
                                  "the rendered cloud-init snippet")
                continue
            if mechanism_of(push) == ROUTE_TABLE:
                yield from _route_table(vpc_name, path, push, table, i, on_link(vpc, push))
            else:
                yield from _per_instance(topology.hosts, vpc_name, path, push,
                                         receiving_vxnets(vpc, push), hosts_in)
    for name, host in topology.hosts.items():
        if host.instance is not None and host.vxnet in index.vxnets and \
                not isinstance(index.cloud_of_vxnet(host.vxnet)[1], QingCloud):
            yield finding("R323", f"host {name} names a QingCloud instance, but its vxnet "
                          f"{host.vxnet} is not on QingCloud", ("hosts", name, "instance"),
                          "remove instance: only QingCloud route pushes use it")


def _per_instance(hosts: dict[str, Host], vpc: str, path: PathKey, push: RoutePush,
                  vxnets: tuple[str, ...], hosts_in: dict[str, list[str]]) -> Iterator[Finding]:
    if not vxnets:
        return  # no receiving vxnet: R301 (next hop in no vxnet) or an explicit empty list
    dest = push.destination
    receivers = [h for vx in vxnets for h in hosts_in.get(vx, [])]
    unnamed = [h for h in receivers if hosts[h].instance is None]
    where = ", ".join(vxnets)
    if unnamed:
        yield finding("R320", f"route push {dest} in {vpc} is delivered per instance, but "
                      f"{', '.join(f'hosts.{h}' for h in unnamed)} in {where} "
                      f"{'names' if len(unnamed) == 1 else 'name'} no instance: "
                      "on QingCloud they receive nothing", (*path, "destination"),
                      f"add instance: i-xxxxxxxx, {{name: ...}} or {{lookup: address}} to "
                      f"{', '.join(unnamed)}, or set mechanism: route-table ({DIFFERENCE})")
    elif not receivers:
        yield finding("R320", f"route push {dest} in {vpc} is delivered per instance, but no host is "
                      f"declared in {where}: on QingCloud no VM receives it", (*path, "destination"),
                      f"declare the VMs under hosts with their instance, or set mechanism: "
                      f"route-table ({DIFFERENCE})")


def _route_table(vpc: str, path: PathKey, push: RoutePush, table: dict[str, tuple[str, int]],
                 i: int, anchors: tuple[str, ...]) -> Iterator[Finding]:
    dest, hop, listed = push.destination, push.next_hop, push.vxnets
    if listed is not None:
        yield finding("R321", f"route push {dest} in {vpc} uses the route table, which routes every "
                      "vxnet bound to it (the VPC's default table: all of them); vxnets does not "
                      "narrow it", (*path, "vxnets"),
                      f"remove vxnets, or set mechanism: {INSTANCE} to push to chosen VMs ({DIFFERENCE})")
    if not anchors:
        return  # R301 already says the next hop is in no vxnet of the VPC
    before = table.setdefault(str(dest), (str(hop), i))
    if before[0] != str(hop):
        yield finding("R322", f"route push {dest} in {vpc} goes via {hop} in the route table that "
                      f"route_push[{before[1]}] already sends via {before[0]}: one table has one "
                      "next hop per destination, for every vxnet bound to it", (*path, "next_hop"),
                      f"use mechanism: {INSTANCE} for pushes that differ per vxnet ({DIFFERENCE})")
