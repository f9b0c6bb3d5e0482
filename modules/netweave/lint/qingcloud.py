"""Lint rules: how a QingCloud route push is delivered (R320-R323).

The two mechanisms (design/qingcloud_pushes.py; README "Deploying with Pulumi"):
``instance`` (default) gives the route to each declared host that names its ``instance``
— VMs netweave does not know, and VMs created later, get nothing; ``route-table`` routes
every VM of every vxnet bound to the VPC's route table, later ones included, but one table
holds one next hop per destination for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from netweave.design.pushes import PushedRoute
from netweave.design.qingcloud_pushes import INSTANCE
from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.model.topology import Host, QingCloud

DIFFERENCE = ("instance, the default, reaches the declared hosts that name their instance; "
              "route-table reaches every VM of the VPC, later ones too")


def check(ctx: Context) -> Iterator[Finding]:
    topology, index = ctx.topology, ctx.index
    tables: dict[str, dict[str, tuple[str, int]]] = {}  # VPC -> destination -> (next hop, position)
    for pushed in ctx.design.route_pushes:
        push = topology.vpcs[pushed.vpc].route_push[pushed.position]
        if not isinstance(index.cloud_of_vpc(pushed.vpc)[1], QingCloud):
            if push.mechanism is not None:
                yield finding("R323", f"route push {push.destination} in {pushed.vpc} sets mechanism "
                              f"{push.mechanism}, a QingCloud setting; {pushed.vpc} is not on QingCloud",
                              (*pushed.path, "mechanism"), "remove it: these workloads take the push "
                              "from the rendered cloud-init snippet")
        elif pushed.by_router:
            yield from _route_table(pushed, tables.setdefault(pushed.vpc, {}))
        else:
            yield from _per_instance(topology.hosts, pushed)
    for name, host in topology.hosts.items():
        if host.instance is not None and host.vxnet in index.vxnets and \
                not isinstance(index.cloud_of_vxnet(host.vxnet)[1], QingCloud):
            yield finding("R323", f"host {name} names a QingCloud instance, but its vxnet "
                          f"{host.vxnet} is not on QingCloud", ("hosts", name, "instance"),
                          "remove instance: only QingCloud route pushes use it")


def _per_instance(hosts: dict[str, Host], pushed: PushedRoute) -> Iterator[Finding]:
    vxnets, vpc, path = pushed.vxnets, pushed.vpc, pushed.path
    if not vxnets:
        return  # no receiving vxnet: R301 (next hop in no vxnet) or an explicit empty list
    dest = pushed.destination
    receivers = pushed.hosts
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


def _route_table(pushed: PushedRoute, table: dict[str, tuple[str, int]]) -> Iterator[Finding]:
    vpc, path, i = pushed.vpc, pushed.path, pushed.position
    dest, hop = pushed.destination, pushed.via  # a router's name stands for its address
    if pushed.explicit:
        yield finding("R321", f"route push {dest} in {vpc} uses the route table, which routes every "
                      "vxnet bound to it (the VPC's default table: all of them); vxnets does not "
                      "narrow it", (*path, "vxnets"),
                      f"remove vxnets, or set mechanism: {INSTANCE} to push to chosen VMs ({DIFFERENCE})")
    if pushed.anchor is None:
        return  # R301 already says the next hop is in no vxnet of the VPC
    before = table.setdefault(str(dest), (str(hop), i))
    if before[0] != str(hop):
        yield finding("R322", f"route push {dest} in {vpc} goes via {hop} in the route table that "
                      f"route_push[{before[1]}] already sends via {before[0]}: one table has one "
                      "next hop per destination, for every vxnet bound to it", (*path, "next_hop"),
                      f"use mechanism: {INSTANCE} for pushes that differ per vxnet ({DIFFERENCE})")
