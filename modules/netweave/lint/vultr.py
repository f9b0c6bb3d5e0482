"""Vultr-specific lint: addresses Vultr assigns, and a VPC without route tables.

Vultr assigns a VM's VPC address when the VM attaches (the attach call's body is only
``{"vpc_id"}``: govultr ``instanceVPCReq``), publishes it in the VM's metadata, where
cloud-init applies it by MAC with the MTU the metadata gives (``cloudinit/sources/helpers/
vultr.py``), and reports it as the instance's one ``internal_ip``. So a Vultr NIC names
no address (A212) and no MTU (A213), a Vultr instance sits in one Vultr VPC (A214), and
what needs the address before deploy cannot have it: a static route out of the VPC NIC by
interface name (R330), a tunnel whose endpoint is a VPC address (R331).

A Vultr VPC has no route tables and no route push.

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
from typing import Any

import netaddr

from netweave.design.addresses import assigns_addresses
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
    yield from _assigned_addresses(ctx)
    yield from _one_vpc(ctx)
    yield from _static_routes(ctx)
    yield from _private_transport(ctx, vultr_vpcs)
    yield from _workload_routes(ctx, vultr_vpcs)


def _vultr_legs(ctx: Context) -> Iterable[tuple[str, str, str | None, int | None, Any, Any]]:
    """(router, vxnet, address-or-None, nic index, mtu, path) of every leg in a Vultr VPC."""
    topo, index = ctx.topology, ctx.index
    for name, node in topo.vcpes.items():
        for i, nic in enumerate(node.nics):
            if nic.vxnet in index.vxnets and assigns_addresses(index.cloud_of_vxnet(nic.vxnet)[1].provider):
                yield name, nic.vxnet, nic.address, i, nic.mtu, ("vcpes", name, "nics", i)
    for name, server in topo.vpn_servers.items():
        if server.vxnet in index.vxnets and assigns_addresses(index.cloud_of_vxnet(server.vxnet)[1].provider):
            yield name, server.vxnet, server.address, None, server.mtu, ("vpn_servers", name)


def _assigned_addresses(ctx: Context) -> Iterable[Finding]:
    """A212/A213: the address and MTU of a Vultr VPC NIC are Vultr's to give."""
    topo, index = ctx.topology, ctx.index
    for name, vxnet, address, nic, mtu, path in _vultr_legs(ctx):
        what = f"{name} NIC {nic}" if nic is not None else f"VPN server {name}"
        vpc = index.vpc_of(vxnet)
        if address is not None:
            pushes = [f"vpcs.{vpc}.route_push[{i}]" for i, p in enumerate(topo.vpcs[vpc].route_push)
                      if p.next_hop == address]
            also = (f"; point {', '.join(pushes)} at it by name: next_hop: {name}" if pushes
                    else f"; where a route push needs it, write next_hop: {name}")
            yield finding("A212", f"{what} gives the address {address} in Vultr VPC {vpc}, but "
                          "Vultr assigns VPC addresses itself when the instance attaches (the "
                          "attach call takes only the VPC id): the VM would get another address, "
                          f"and whatever points at {address} would send its traffic nowhere",
                          (*path, "address"),
                          f"delete 'address: {address}'" + also + " (after deploy, `pulumi stack "
                          "output vultr` shows the address Vultr gave)")
        if nic is not None and mtu is not None:
            yield finding("A213", f"{what} sets mtu {mtu} on its Vultr VPC NIC, but the VPC's MTU "
                          "is Vultr's: its metadata gives it and cloud-init applies it; netweave "
                          "does not override the NIC", (*path, "mtu"),
                          f"delete 'mtu: {mtu}' (tunnels take theirs from the underlay's, "
                          f"clouds.{index.cloud_of_vxnet(vxnet)[0]}.mtu)")


def _one_vpc(ctx: Context) -> Iterable[Finding]:
    """A214: Pulumi (ediri_vultr) reports one ``internal_ip`` per instance, and the
    provider blanks it when the instance has more than one private network
    (terraform-provider-vultr issue #173)."""
    first: dict[str, str] = {}
    for name, vxnet, _address, nic, _mtu, path in _vultr_legs(ctx):
        vpc = ctx.index.vpc_of(vxnet)
        if name not in first:
            first[name] = vpc
            continue
        yield finding("A214", f"{name} NIC {nic} joins Vultr VPC {vpc}, but {name} is already in "
                      f"Vultr VPC {first[name]}: Vultr reports one internal address per instance "
                      "(blank with more than one private network), so netweave could not tell "
                      "which address it has where", (*path, "vxnet"),
                      f"give {vpc} a vCPE of its own and join the two with a tunnel")


def _static_routes(ctx: Context) -> Iterable[Finding]:
    """R330: a static route without next hop leaves by an interface, named in frr.conf;
    a Vultr VPC NIC's name is only known on the VM (it is found by its MAC)."""
    topo, index = ctx.topology, ctx.index
    for name, node in topo.vcpes.items():
        vultr = [index.vxnets[n.vxnet].cidr for n in node.nics
                 if n.vxnet in index.vxnets and assigns_addresses(index.cloud_of_vxnet(n.vxnet)[1].provider)]
        for i, route in enumerate(node.static_routes):
            dest = route.destination
            if route.next_hop is not None:
                continue
            for cidr in vultr:
                if dest.version != cidr.version or dest == cidr:
                    continue  # the VPC itself: the kernel's connected route already has it
                if dest in cidr or cidr in dest:
                    yield finding("R330", f"{name} static route {dest} has no next hop and would "
                                  f"leave by its Vultr VPC NIC ({cidr}), whose interface name is "
                                  "only known on the VM (netweave finds the NIC by its MAC)",
                                  ("vcpes", name, "static_routes", i, "destination"),
                                  f"give it a next_hop in {cidr}, or advertise the whole VPC "
                                  f"({cidr}, connected)")
                    break


def _private_transport(ctx: Context, vultr_vpcs: set[str]) -> Iterable[Finding]:
    """R331: a private tunnel's endpoint is the peer's VPC address, rendered into this
    end's boot configuration — an input of the instance, so it cannot wait for an address
    Vultr assigns when the peer is created."""
    topo, index = ctx.topology, ctx.index
    for i, tunnel in enumerate(topo.tunnels):
        if tunnel.transport != "private" or len(tunnel.ends) != 2:
            continue
        ends = [e.vcpe for e in tunnel.ends if e.vcpe is not None and e.vcpe in topo.vcpes]
        if len(ends) != 2:
            continue
        vpcs = [{index.vpc_of(n.vxnet) for n in topo.vcpes[e].nics if n.vxnet in index.vxnets}
                for e in ends]
        shared = sorted((vpcs[0] & vpcs[1]) & vultr_vpcs)
        if shared:
            yield finding("R331", f"tunnel {tunnel.label(i)} runs over Vultr VPC {shared[0]}, but "
                          "its endpoints would be the vCPEs' VPC addresses, which Vultr assigns "
                          "at deploy, after the boot configuration is written",
                          ("tunnels", i, "transport"),
                          "two vCPEs in one Vultr VPC route to each other directly; a tunnel "
                          "between them uses transport: internet (their reserved IPs)")


def _workload_routes(ctx: Context, vultr_vpcs: set[str]) -> Iterable[Finding]:
    topo, index = ctx.topology, ctx.index
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
            yield finding(
                "R314",
                f"workloads of Vultr VPC {vpc_name} get no route to {prefix}, which {vcpe} "
                "carries: Vultr has no route push, so their packets follow the default route "
                "out of the public NIC",
                path, at_key=not vpc.route_push,
                hint=f"add to vpcs.{vpc_name}.route_push: {{destination: {prefix}, "
                     f"next_hop: {vcpe}}} (delivered by the rendered cloud-init snippet, with "
                     f"the address Vultr gave {vcpe})")
