"""Lint rules: addressing (A2xx).

Vxnets inside their VPC and disjoint (A201, A202), interconnected networks disjoint
(A203/A204, see :mod:`netweave.lint.overlaps`), the clouds' own range rules (A205),
reserved, duplicate and misplaced addresses (A206-A208) and NIC placement (A209,
A210). Every check is a dictionary lookup or a sort per VPC: O(n log n) overall.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

import netaddr

from netweave.design.addresses import PROVIDER_NAMES, assigns_addresses
from netweave.lint import Context
from netweave.lint.cloud import cloud_range_findings
from netweave.lint.findings import Finding, finding
from netweave.lint.forwarding import shared
from netweave.lint.overlaps import overlap_findings
from netweave.lint.prefixes import point, span
from netweave.model.index import AddressOwner, VxnetInfo
from netweave.model.source import PathKey

FREE_SEARCH = 64  # how far a "free address nearby" hint looks


def check(ctx: Context) -> Iterator[Finding]:
    yield from _vxnets_in_vpc(ctx)
    yield from _vxnets_disjoint(ctx)
    yield from (f for f in overlap_findings(ctx) if f.code in ("A203", "A204"))
    yield from cloud_range_findings(ctx)
    yield from _owner_addresses(ctx)
    yield from _duplicates(ctx)
    yield from _tunnel_end_addresses(ctx)
    yield from _nic_placement(ctx)
    yield from _site_addresses(ctx)
    yield from _site_overlaps(ctx)
    yield from _missing_addresses(ctx)


def _site_overlaps(ctx: Context) -> Iterator[Finding]:
    """A203 for sites: a site's LAN joins the clouds through its tunnels, so a LAN prefix
    that overlaps a VPC, a VPN client pool or another site's LAN is one network in two
    places — traffic for it cannot tell them apart. Sorted sweep: O(n log n)."""
    topo = ctx.topology
    spans: list[tuple[int, int, int, str, tuple[str | int, ...]]] = []
    for name, vpc in topo.vpcs.items():
        spans.append((vpc.cidr.version, vpc.cidr.first, vpc.cidr.last, f"VPC {name} ({vpc.cidr})",
                      ("vpcs", name, "cidr")))
    for name, vpn in topo.vpn_servers.items():
        pool = vpn.client_pool
        spans.append((pool.version, pool.first, pool.last,
                      f"the client pool of VPN server {name} ({pool})", ("vpn_servers", name, "client_pool")))
    for name, site in topo.sites.items():
        for i, lan in enumerate(site.lan):
            spans.append((lan.version, lan.first, lan.last, f"site {name}'s LAN {lan}",
                          ("sites", name, "lan", i)))
    spans.sort()
    reach_end: tuple[int, int, str, tuple[str | int, ...]] | None = None
    for version, first, last, what, path in spans:
        if reach_end is not None and reach_end[0] == version and first <= reach_end[1] \
                and ("sites" in (path[0], reach_end[3][0])):
            site_path = path if path[0] == "sites" else reach_end[3]
            other = reach_end[2] if site_path is path else what
            mine = what if site_path is path else reach_end[2]
            yield finding("A203", f"{mine} overlaps {other}: the site's tunnels join them, and "
                          "traffic for the overlap cannot tell the two apart", site_path,
                          "renumber the site's LAN (or the VPC) so that the two are disjoint")
        if reach_end is None or reach_end[0] != version or last > reach_end[1]:
            reach_end = (version, last, what, path)


def _site_addresses(ctx: Context) -> Iterator[Finding]:
    """A208 for sites: the gateway in the site's first LAN prefix, every host of the site
    in one of its LAN prefixes, no address twice (A207)."""
    topo = ctx.topology
    for name, site in topo.sites.items():
        if site.gateway not in site.lan[0]:
            yield finding("A208", f"site {name}: gateway {site.gateway} is outside its first LAN "
                          f"prefix {site.lan[0]}", ("sites", name, "gateway"),
                          f"the gateway's address in {site.lan[0]}, or list its LAN first")
    taken: dict[tuple[str, int], str] = {}
    for name, site in topo.sites.items():
        taken[(name, int(site.gateway))] = f"the gateway of {name}"
    for name, host in topo.hosts.items():
        home = topo.sites.get(host.site or "")
        if home is None:
            continue
        if not any(host.address in lan for lan in home.lan):
            yield finding("A208", f"host {name} at site {host.site} has {host.address}, outside the "
                          f"site's LAN ({', '.join(str(lan) for lan in home.lan)})",
                          ("hosts", name, "address"), f"an address in {home.lan[0]}")
            continue
        key = (host.site or "", int(host.address))
        if key in taken:
            yield finding("A207", f"host {name} at site {host.site} has {host.address}, which "
                          f"{taken[key]} already has", ("hosts", name, "address"),
                          "give each host its own address")
        else:
            taken[key] = f"host {name}"


# --- A201 / A202 ----------------------------------------------------------------------

def _moved_into(net: netaddr.IPNetwork, outer: netaddr.IPNetwork) -> netaddr.IPNetwork | None:
    """``net`` with its leading bits replaced by ``outer``'s: the likely intended block."""
    if net.version != outer.version or net.prefixlen < outer.prefixlen:
        return None
    bits = 32 if net.version == 4 else 128
    host = int(net.network) & ((1 << (bits - outer.prefixlen)) - 1)
    return netaddr.IPNetwork((int(outer.network) | host, net.prefixlen), version=net.version)


def _vxnets_in_vpc(ctx: Context) -> Iterator[Finding]:
    for vpc_name, vpc in ctx.topology.vpcs.items():
        for vx_name, vx in vpc.vxnets.items():
            if vx.cidr.version == vpc.cidr.version and vx.cidr in vpc.cidr:
                continue
            guess = _moved_into(vx.cidr, vpc.cidr)
            hint = (f"did you mean {guess}?" if guess is not None else
                    f"choose a block inside {vpc.cidr}, e.g. {_first_block(vpc.cidr, 24)}")
            yield finding("A201", f"vxnet {vx_name} ({vx.cidr}) is not inside its VPC {vpc_name} "
                          f"({vpc.cidr}): the VPC router cannot serve it",
                          ("vpcs", vpc_name, "vxnets", vx_name, "cidr"), hint)


def _first_block(outer: netaddr.IPNetwork, prefixlen: int) -> netaddr.IPNetwork:
    plen = max(outer.prefixlen, min(prefixlen, 32 if outer.version == 4 else 128))
    return netaddr.IPNetwork((int(outer.network), plen), version=outer.version)


def _vxnets_disjoint(ctx: Context) -> Iterator[Finding]:
    for vpc_name, vpc in ctx.topology.vpcs.items():
        order = {name: i for i, name in enumerate(vpc.vxnets)}  # file order
        ordered = sorted(vpc.vxnets.items(), key=lambda kv: (span(kv[1].cidr), kv[0]))
        widest: tuple[str, netaddr.IPNetwork] | None = None  # the block reaching furthest
        end = -1
        for vx_name, vx in ordered:
            first, last = span(vx.cidr)
            if widest is not None and first <= end:
                # blame the one written later: the earlier one was there first
                (old, old_cidr), (new, new_cidr) = sorted(
                    [widest, (vx_name, vx.cidr)], key=lambda pair: order[pair[0]])
                free = _free_block_after(vpc.cidr, new_cidr.prefixlen, max(end, last))
                yield finding("A202", f"vxnets {old} ({old_cidr}) and {new} ({new_cidr}) "
                              f"of VPC {vpc_name} overlap: a VM address would be in two subnets",
                              ("vpcs", vpc_name, "vxnets", new, "cidr"),
                              f"use a free block such as {free}" if free else
                              f"vxnets of one VPC must be disjoint blocks of {vpc.cidr}")
            if last > end:
                end, widest = last, (vx_name, vx.cidr)


def _free_block_after(outer: netaddr.IPNetwork, prefixlen: int, after: int) -> netaddr.IPNetwork | None:
    """The first block of ``prefixlen`` after integer ``after`` that is still inside ``outer``."""
    base = (1 << 128) if outer.version == 6 else 0
    size = 1 << ((32 if outer.version == 4 else 128) - prefixlen)
    start = ((after - base) // size + 1) * size
    if start + size - 1 > outer.last:
        return None
    return netaddr.IPNetwork((start, prefixlen), version=outer.version)


# --- A206 / A208 ----------------------------------------------------------------------

def gateway(cidr: netaddr.IPNetwork) -> netaddr.IPAddress | None:
    """The VPC router's address in a vxnet: its first host address (``.1``)."""
    return cidr.network + 1 if cidr.size > 2 else None


def reserved(cidr: netaddr.IPNetwork, address: netaddr.IPAddress) -> str | None:
    """Why an address of ``cidr`` cannot be assigned to a machine, or None."""
    # integers, not netaddr's network/broadcast/gateway objects: called per NIC and host
    first, last = cidr.first, cidr.last
    if last - first <= 1:
        return None  # /31 and /32 have no network or broadcast address
    if address.version != cidr.version:
        return None
    value = int(address)
    if value == first:
        return f"the network address of {cidr}"
    if cidr.version == 4 and value == last:
        return f"the broadcast address of {cidr}"
    if value == first + 1:  # gateway(cidr)
        return f"the VPC router's gateway address in {cidr}"
    return None


def usable(cidr: netaddr.IPNetwork) -> str:
    if cidr.size < 4:
        return f"{cidr} has no address left for machines"
    low = cidr.network + 2
    high = cidr.network + (cidr.size - 2)
    return f"machines in {cidr} use {low} to {high}"


def _vxnet_at(ctx: Context, vpc: str, address: netaddr.IPAddress) -> VxnetInfo | None:
    """The vxnet of ``vpc`` containing ``address`` (bisect over the VPC's sorted vxnets)."""
    table = _vxnet_starts(ctx).get(vpc)
    if not table:
        return None
    starts, infos = table
    i = bisect_right(starts, point(address)) - 1
    if i >= 0 and address in infos[i].cidr:
        return infos[i]
    return None


def _vxnet_starts(ctx: Context) -> dict[str, tuple[list[int], list[VxnetInfo]]]:
    def build(ctx: Context) -> dict[str, tuple[list[int], list[VxnetInfo]]]:
        out: dict[str, tuple[list[int], list[VxnetInfo]]] = {}
        for info in sorted(ctx.index.vxnets.values(), key=lambda i: span(i.cidr)):
            starts, infos = out.setdefault(info.vpc, ([], []))
            starts.append(span(info.cidr)[0])
            infos.append(info)
        return out
    return shared(ctx, "vxnet_starts", build)


def _owner_addresses(ctx: Context) -> Iterator[Finding]:
    for owner in ctx.index.owners:
        info = ctx.index.vxnets.get(owner.vxnet)
        if info is None:
            continue
        what = _what(owner)
        if owner.address.version != info.cidr.version or owner.address not in info.cidr:
            yield _outside_vxnet(ctx, owner, info, what)
            continue
        why = reserved(info.cidr, owner.address)
        if why:
            free = _free_address(ctx, info, owner.address)
            yield finding("A206", f"{what} uses {owner.address}, {why} in {owner.vxnet}: "
                          "the cloud reserves it", owner.path,
                          f"{usable(info.cidr)}" + (f"; {free} is free" if free else ""))


def _what(owner: AddressOwner) -> str:
    if owner.kind == "nic":
        return f"{owner.name} NIC {owner.nic_index}" + (" (primary)" if owner.nic_index == 0 else "")
    return f"{owner.kind.replace('_', ' ')} {owner.name}"


def _outside_vxnet(ctx: Context, owner: AddressOwner, info: VxnetInfo, what: str) -> Finding:
    elsewhere = _vxnet_at(ctx, info.vpc, owner.address)
    where = (f"; {owner.address} belongs to {elsewhere.name} ({elsewhere.cidr})"
             if elsewhere is not None else "")
    guess: netaddr.IPAddress | None = None
    if owner.address.version == info.cidr.version:
        bits = 32 if info.cidr.version == 4 else 128
        host = int(owner.address) & ((1 << (bits - info.cidr.prefixlen)) - 1)
        guess = netaddr.IPAddress(int(info.cidr.network) | host, info.cidr.version)
        if reserved(info.cidr, guess):
            guess = None
    hint = f"did you mean {guess}?" if guess is not None else usable(info.cidr)
    return finding("A208", f"{what} has address {owner.address}, which is outside its vxnet "
                   f"{owner.vxnet} ({info.cidr}){where}", owner.path, hint)


def _free_address(ctx: Context, info: VxnetInfo, near: netaddr.IPAddress) -> netaddr.IPAddress | None:
    """A nearby address in the vxnet that nobody uses and the cloud does not reserve."""
    used = ctx.index.owners_by_address
    candidate = near
    for _ in range(FREE_SEARCH):
        candidate = candidate + 1 if int(candidate) < info.cidr.last else info.cidr.network
        if candidate not in info.cidr or reserved(info.cidr, candidate):
            continue
        if (info.vpc, int(candidate)) not in used:
            return candidate
    return None


# --- A207 -------------------------------------------------------------------------------

def _duplicates(ctx: Context) -> Iterator[Finding]:
    for (vpc, _), owners in ctx.index.owners_by_address.items():
        if len(owners) < 2:
            continue
        # the router keeps the address; the host or second router is the one to move
        ranked = sorted(owners, key=lambda o: o.kind == "host")
        first = ranked[0]
        for other in ranked[1:]:
            info = ctx.index.vxnets.get(other.vxnet)
            free = _free_address(ctx, info, other.address) if info and other.address in info.cidr else None
            yield finding("A207", f"{_what(other)} uses {other.address}, which {_what(first)} "
                          f"already has in VPC {vpc}: two machines would answer ARP for it",
                          other.path, f"{free} is free nearby" if free else
                          "give each NIC, host and VPN server its own address")


def _tunnel_end_addresses(ctx: Context) -> Iterator[Finding]:
    seen: dict[int, tuple[str, int]] = {}
    for i, tunnel in enumerate(ctx.topology.tunnels):
        label = tunnel.label(i)
        for j, end in enumerate(tunnel.ends):
            path = ("tunnels", i, "ends", j, "address")
            why = reserved(end.address.cidr, end.address.ip)
            if why and why.startswith("the VPC router"):
                why = None  # a tunnel has no VPC router: .1 of a /30 is a normal end
            if why:
                hosts = f"{end.address.cidr.network + 1} and {end.address.cidr.network + 2}"
                yield finding("A206", f"tunnel {label}: end {end.node} uses {end.address.ip}, "
                              f"{why}", path,
                              f"the two ends of a /30 use {hosts}")
                continue
            key = point(end.address.ip)
            if key in seen:
                other_label, _ = seen[key]
                yield finding("A207", f"tunnel {label}: end {end.node} uses {end.address.ip}, "
                              f"which tunnel {other_label} already uses", path,
                              "give every tunnel its own /30 from 169.254.0.0/16")
            else:
                seen[key] = (label, j)


# --- A209 / A210 ----------------------------------------------------------------------

def _place(ctx: Context, vxnet: str) -> tuple[str, str, str]:
    cloud_name, cloud = ctx.index.cloud_of_vxnet(vxnet)
    where = cloud.zone if cloud.provider == "qingcloud" else cloud.region
    return cloud_name, cloud.provider, where


def _nic_placement(ctx: Context) -> Iterator[Finding]:
    vxnets = ctx.index.vxnets
    for name, vcpe in ctx.topology.vcpes.items():
        if not vcpe.nics or vcpe.nics[0].vxnet not in vxnets:
            continue
        home = _place(ctx, vcpe.nics[0].vxnet)
        first_nic: dict[str, int] = {}
        for i, nic in enumerate(vcpe.nics):
            if nic.vxnet not in vxnets:
                continue
            if nic.vxnet in first_nic:
                yield finding("A210", f"{name} NIC {i} and NIC {first_nic[nic.vxnet]} are both in "
                              f"vxnet {nic.vxnet}: two NICs in one subnet make the vCPE's "
                              "replies leave by either one (asymmetric, often dropped)",
                              ("vcpes", name, "nics", i, "vxnet"),
                              "remove the second NIC, or attach it to another vxnet")
                continue
            first_nic[nic.vxnet] = i
            if i == 0:
                continue
            place = _place(ctx, nic.vxnet)
            if place[1:] != home[1:]:
                yield finding("A209", f"{name} runs in {home[1]} {home[2]} (cloud {home[0]}, its "
                              f"primary NIC's vxnet), but NIC {i}'s vxnet {nic.vxnet} is in "
                              f"{place[1]} {place[2]} (cloud {place[0]}): a NIC can only be "
                              "attached to a VM in its own zone", ("vcpes", name, "nics", i, "vxnet"),
                              f"put another vCPE in {place[2]} and join the two with a tunnel")


# --- A211 -----------------------------------------------------------------------------

def _missing_addresses(ctx: Context) -> Iterator[Finding]:
    """QingCloud attaches a NIC (and starts a VM) with the fixed private address the
    topology gives; pushes, peers and security groups point at it. Only a cloud that
    assigns the address at deploy (Vultr, :mod:`netweave.lint.vultr`) may leave it out."""
    topo, index = ctx.topology, ctx.index
    legs: list[tuple[str, str, PathKey]] = []
    for name, vcpe in topo.vcpes.items():
        legs += [(f"{name} NIC {i}", nic.vxnet, ("vcpes", name, "nics", i))
                 for i, nic in enumerate(vcpe.nics) if nic.address is None]
    legs += [(f"VPN server {name}", vpn.vxnet, ("vpn_servers", name))
             for name, vpn in topo.vpn_servers.items() if vpn.address is None]
    for what, vxnet, path in legs:
        info = index.vxnets.get(vxnet)
        if info is None:
            continue
        provider = index.cloud_of_vxnet(vxnet)[1].provider
        if assigns_addresses(provider):
            continue
        free = _free_address(ctx, info, info.cidr.network + 1)
        yield finding("A211", f"{what} in {vxnet} has no address: {PROVIDER_NAMES[provider]} "
                      "attaches it with the fixed private address the topology gives, and route "
                      "pushes point at it", path,
                      f"add address: {free}" if free else f"add address: ({usable(info.cidr)})")
