"""Vultr-specific lint: a Vultr VPC has no route tables and no route push.

Its workload VMs learn routes only from the cloud-init snippet netweave renders from the
VPC's ``route_push`` (``<vpc>/workload-routes.yaml``). A remote prefix the vCPEs of the
VPC carry (what their BGP peers declare, their static routes elsewhere) but that no push
covers is unreachable from the workloads: R314, a warning because a workload may still
use the vCPE as its default gateway, which the topology cannot express.
"""

from __future__ import annotations

from collections.abc import Iterable

import netaddr

from modules.findings import Finding, finding
from modules.lint import Context
from modules.render.tunnels import declared_prefixes


def _remote_prefixes(ctx: Context, vpc: str) -> dict[netaddr.IPNetwork, str]:
    """Remote prefix -> the vCPE of this VPC that carries it."""
    topo, index = ctx.topology, ctx.index
    cidr = topo.vpcs[vpc].cidr
    found: dict[netaddr.IPNetwork, str] = {}
    local = sorted(n for n, v in topo.vcpes.items() if any(index.vpc_of(nic.vxnet) == vpc for nic in v.nics))
    for name in local:
        node = topo.vcpes[name]
        for tunnel in topo.tunnels:
            ends = [e.vcpe for e in tunnel.ends]
            if name not in ends or len(ends) != 2 or node.bgp is None:
                continue
            peer = ends[1] if ends[0] == name else ends[0]
            if peer not in topo.vcpes or topo.vcpes[peer].bgp is None:
                continue
            for prefix in declared_prefixes(topo, peer):
                found.setdefault(prefix, name)
        for route in node.static_routes:
            if route.next_hop is not None:
                found.setdefault(route.destination, name)
    return {p: v for p, v in found.items() if p not in cidr and cidr not in p}


def _covered(prefix: netaddr.IPNetwork, pushes: list[netaddr.IPNetwork]) -> bool:
    return any(prefix in dest for dest in pushes)


def check(ctx: Context) -> Iterable[Finding]:
    topo, index = ctx.topology, ctx.index
    for vpc_name in sorted(topo.vpcs):
        if index.cloud_of_vpc(vpc_name)[1].provider != "vultr":
            continue
        vpc = topo.vpcs[vpc_name]
        pushes = sorted(p.destination for p in vpc.route_push)
        # point at route_push when there is one, else at the VPC's name
        path = ("vpcs", vpc_name, "route_push") if vpc.route_push else ("vpcs", vpc_name)
        at_key = not vpc.route_push
        for prefix, vcpe in sorted(_remote_prefixes(ctx, vpc_name).items(),
                                   key=lambda item: (item[0].first, item[0].prefixlen)):
            if _covered(prefix, pushes):
                continue
            nic = next(n for n in topo.vcpes[vcpe].nics if index.vpc_of(n.vxnet) == vpc_name)
            yield finding(
                "R314",
                f"workloads of Vultr VPC {vpc_name} get no route to {prefix}, which {vcpe} "
                "carries: Vultr has no route push, so their packets follow the default route "
                "out of the public NIC",
                path, at_key=at_key,
                hint=f"add to vpcs.{vpc_name}.route_push: {{destination: {prefix}, "
                     f"next_hop: {nic.address}}} (delivered by the rendered cloud-init snippet)")
