"""Vultr-specific lint: a Vultr VPC has no route tables and no route push.

Its workload VMs learn routes only from the cloud-init snippet netweave renders from the
VPC's ``route_push`` (``<vpc>/workload-routes.yaml``). A remote prefix the vCPEs of the
VPC carry (what their BGP peers declare, their static routes elsewhere) but that no push
covers is unreachable from the workloads: R314, a warning because a workload may still
use the vCPE as its default gateway, which the topology cannot express.

Linear after sorting: tunnels are indexed by vCPE once, and coverage is one sweep over
prefixes and push destinations sorted by their first address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import netaddr

from netweave.design.declared import Span
from netweave.lint import Context
from netweave.lint.findings import Finding, finding


def _peers(ctx: Context) -> dict[str, list[str]]:
    """vCPE -> its BGP peers over tunnels (both ends speak BGP)."""
    topo = ctx.topology
    peers: dict[str, list[str]] = defaultdict(list)
    for tunnel in topo.tunnels:
        ends = [e.node for e in tunnel.ends]
        if len(ends) != 2 or not all((r := topo.router(e)) is not None and r.bgp for e in ends):
            continue
        peers[ends[0]].append(ends[1])
        peers[ends[1]].append(ends[0])
    return peers


def _remote_prefixes(ctx: Context, vpc: str, vcpes: list[str],
                     peers: dict[str, list[str]]) -> list[tuple[netaddr.IPNetwork, str]]:
    """Remote prefixes (each once, as first seen) and the vCPE of this VPC that carries
    each. Keyed by span while collecting: netaddr's own hashing and ``in`` cost ~1 us."""
    topo = ctx.topology
    cidr = topo.vpcs[vpc].cidr
    version, low, high = cidr.version, cidr.first, cidr.last
    found: dict[Span, tuple[netaddr.IPNetwork, str]] = {}
    for name in vcpes:
        for peer in peers.get(name, []):
            for prefix in ctx.design.announces(peer):
                span = (prefix.version, prefix.first, prefix.last)
                if span not in found:
                    found[span] = (prefix, name)
        for route in topo.vcpes[name].static_routes:
            if route.next_hop is not None:
                net = route.destination
                found.setdefault((net.version, net.first, net.last), (net, name))
    # neither inside the VPC's CIDR nor covering it (networks of the same IP version nest
    # exactly when their address ranges do)
    return [(prefix, vcpe) for (v, first, last), (prefix, vcpe) in found.items()
            if v != version or not ((low <= first and last <= high)
                                    or (first <= low and high <= last))]


def _uncovered(prefixes: Iterable[netaddr.IPNetwork],
               pushes: Iterable[netaddr.IPNetwork]) -> list[netaddr.IPNetwork]:
    """Prefixes no push destination contains: sweep by first address, tracking the
    furthest last address of the pushes that start at or before the prefix."""
    spans = sorted((int(p.first), int(p.last)) for p in pushes)
    out: list[netaddr.IPNetwork] = []
    reach, i = -1, 0
    for prefix in sorted(prefixes, key=lambda p: (p.first, -p.last)):
        while i < len(spans) and spans[i][0] <= prefix.first:
            reach = max(reach, spans[i][1])
            i += 1
        if reach < prefix.last:
            out.append(prefix)
    return out


def check(ctx: Context) -> Iterable[Finding]:
    topo, index = ctx.topology, ctx.index
    vultr_vpcs = {v for v in topo.vpcs if index.cloud_of_vpc(v)[1].provider == "vultr"}
    if not vultr_vpcs:
        return
    by_vpc: dict[str, list[str]] = defaultdict(list)
    for name, node in sorted(topo.vcpes.items()):
        for home in sorted({index.vpc_of(nic.vxnet) for nic in node.nics} & vultr_vpcs):
            by_vpc[home].append(name)
    peers = _peers(ctx)
    for vpc_name in sorted(by_vpc):
        vpc = topo.vpcs[vpc_name]
        # point at route_push when there is one, else at the VPC's name
        path = ("vpcs", vpc_name, "route_push") if vpc.route_push else ("vpcs", vpc_name)
        remote = _remote_prefixes(ctx, vpc_name, by_vpc[vpc_name], peers)
        carrier = {id(prefix): vcpe for prefix, vcpe in remote}  # the prefixes are distinct
        for prefix in _uncovered([p for p, _ in remote], (p.destination for p in vpc.route_push)):
            vcpe = carrier[id(prefix)]
            nic = next(n for n in topo.vcpes[vcpe].nics if index.vpc_of(n.vxnet) == vpc_name)
            yield finding(
                "R314",
                f"workloads of Vultr VPC {vpc_name} get no route to {prefix}, which {vcpe} "
                "carries: Vultr has no route push, so their packets follow the default route "
                "out of the public NIC",
                path, at_key=not vpc.route_push,
                hint=f"add to vpcs.{vpc_name}.route_push: {{destination: {prefix}, "
                     f"next_hop: {nic.address}}} (delivered by the rendered cloud-init snippet)")
