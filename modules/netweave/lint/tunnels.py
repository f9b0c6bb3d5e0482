"""Tunnel rules: two distinct ends (R307), a transport both ends share (R308), and
interface addresses that form one subnet used by no other tunnel (R310)."""

from __future__ import annotations

from collections.abc import Iterator

import netaddr

from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.lint.prefixes import span


def tunnel_findings(ctx: Context) -> Iterator[Finding]:
    subnets: dict[tuple[int, int], str] = {}
    pairs: dict[tuple[frozenset[str], str], str] = {}
    for i, tunnel in enumerate(ctx.topology.tunnels):
        label = tunnel.label(i)
        bad_ends = list(_ends(ctx, i))
        yield from bad_ends
        if bad_ends:
            continue
        pair = (frozenset(e.node for e in tunnel.ends), tunnel.transport)
        if pair in pairs:
            a, b = (e.node for e in tunnel.ends)
            yield finding("R307", f"tunnel {label} joins {a} and {b} over the {tunnel.transport} "
                          f"a second time (tunnel {pairs[pair]} already does): it rides the same "
                          "underlay path, so it adds no redundancy, only a second BGP session "
                          "and a second copy of every route",
                          ("tunnels", i, "ends"),
                          "remove one of them; for a redundant path use the other transport")
            continue
        pairs[pair] = label
        yield from _transport(ctx, i)
        yield from _addressing(i, label, subnets, ctx)


def _ends(ctx: Context, i: int) -> Iterator[Finding]:
    tunnel = ctx.topology.tunnels[i]
    label = tunnel.label(i)
    ends = tunnel.ends
    if len(ends) < 2:
        have = f"only {ends[0].node}" if ends else "no end at all"
        yield finding("R307", f"tunnel {label} has {have}: a tunnel joins exactly two vCPEs",
                      ("tunnels", i, "ends"), "list both ends: {vcpe: ..., address: 169.254.x.y/30}")
    elif len(ends) > 2:
        yield finding("R307", f"tunnel {label} has {len(ends)} ends: a tunnel is point to point",
                      ("tunnels", i, "ends", 2),
                      "use one tunnel per pair of vCPEs (a hub has one tunnel to each spoke)")
    elif ends[0].node == ends[1].node:
        yield finding("R307", f"tunnel {label} has {ends[0].node} on both ends: a tunnel joins two "
                      "different vCPEs", ("tunnels", i, "ends", 1, "vcpe"),
                      "name the remote vCPE as the second end")


def _vpcs(ctx: Context, node: str) -> set[str]:
    vcpe = ctx.topology.vcpes.get(node)
    return {ctx.index.vpc_of(n.vxnet) for n in vcpe.nics if n.vxnet in ctx.index.vxnets} if vcpe else set()


def _transport(ctx: Context, i: int) -> Iterator[Finding]:
    tunnel = ctx.topology.tunnels[i]
    label = tunnel.label(i)
    a, b = (e.node for e in tunnel.ends)
    sites = [n for n in (a, b) if n in ctx.topology.sites]
    if tunnel.transport == "internet" and sites:
        yield from _site_transport(ctx, i, a, b)
        return
    if tunnel.transport == "private" and sites:
        yield finding("R308", f"tunnel {label} uses transport private, but {sites[0]} is a site, "
                      "outside every VPC: only the internet joins it to a cloud",
                      ("tunnels", i, "transport"), "use transport: internet")
        return
    va, vb = ctx.topology.vcpes[a], ctx.topology.vcpes[b]
    if tunnel.transport == "internet":
        if not va.public_ip and not vb.public_ip:
            yield finding("R308", f"tunnel {label} runs over the internet, but neither {a} nor {b} "
                          "has a public address: neither end can reach the other",
                          ("tunnels", i, "transport"),
                          f"set public_ip: true on {a} or {b} (that end listens, the other dials "
                          "out); or use transport: private if both sit in one VPC")
        return
    shared_vpcs = _vpcs(ctx, a) & _vpcs(ctx, b)
    if not shared_vpcs:
        where_a = ", ".join(sorted(_vpcs(ctx, a))) or "no VPC"
        where_b = ", ".join(sorted(_vpcs(ctx, b))) or "no VPC"
        yield finding("R308", f"tunnel {label} uses transport private, but {a} ({where_a}) and "
                      f"{b} ({where_b}) share no VPC: their private addresses cannot reach each other",
                      ("tunnels", i, "transport"),
                      "use transport: internet (with public_ip on at least one end)")


def _site_transport(ctx: Context, i: int, a: str, b: str) -> Iterator[Finding]:
    """A site behind NAT can only dial out; the other end must be reachable (V509). A
    site not behind NAT needs a public address its peer can dial (R308)."""
    label = ctx.topology.tunnels[i].label(i)
    for node in (a, b):
        site = ctx.topology.sites.get(node)
        if site is not None and not site.nat and site.public_address is None:
            yield finding("R308", f"tunnel {label} runs over the internet to site {node}, which has "
                          "no public_address and is not marked nat: its peer cannot tell where it is",
                          ("sites", node), f"add public_address: <its public IP> to {node}, or nat: "
                          f"true if {node} is behind NAT (it then starts the tunnel)")
            return
    if not ctx.index.reachable(a) and not ctx.index.reachable(b):
        why = {n: ("is behind NAT" if n in ctx.topology.sites else "has no public address")
               for n in (a, b)}
        yield finding("V509", f"tunnel {label} joins {a}, which {why[a]}, and {b}, which {why[b]}: "
                      "neither can receive the first packet, so the two ends never meet",
                      ("tunnels", i, "ends"),
                      "give the cloud end a public address (public_ip: true on the vCPE): the "
                      "site behind NAT dials it and keeps the NAT mapping open")


def _addressing(i: int, label: str, subnets: dict[tuple[int, int], str],
                ctx: Context) -> Iterator[Finding]:
    ends = ctx.topology.tunnels[i].ends
    first, second = ends[0].address, ends[1].address
    path = ("tunnels", i, "ends", 1, "address")
    if first.version != second.version or first.cidr != second.cidr:
        guess = _partner(first)
        yield finding("R310", f"tunnel {label}: the end addresses {first} ({ends[0].node}) and "
                      f"{second} ({ends[1].node}) are not in one subnet, so the BGP session "
                      "has no on-link neighbour", path,
                      f"did you mean {guess}?" if guess else "put both ends in one /30")
        return
    if first.ip == second.ip:
        guess = _partner(first)
        yield finding("R310", f"tunnel {label}: both ends use {first.ip}", path,
                      f"did you mean {guess}?" if guess else "give each end its own address")
        return
    if first.cidr.size < 2:
        yield finding("R310", f"tunnel {label}: {first} is a single address, not a link subnet",
                      ("tunnels", i, "ends", 0, "address"), "use a /30 (or /31) per tunnel")
        return
    key = span(first.cidr)
    if key in subnets:
        yield finding("R310", f"tunnel {label} reuses {first.cidr}, the subnet of tunnel "
                      f"{subnets[key]}: a vCPE on both would have two routes to one link",
                      ("tunnels", i, "ends", 0, "address"),
                      "give every tunnel its own /30 from 169.254.0.0/16")
    else:
        subnets[key] = label


def _partner(end: netaddr.IPNetwork) -> netaddr.IPNetwork | None:
    """The other usable address of a /30 (or /31), with its prefix length."""
    net = end.cidr
    if net.size == 4:
        hosts = [net.network + 1, net.network + 2]
    elif net.size == 2:
        hosts = [net.network, net.network + 1]
    else:
        return None
    other = hosts[1] if end.ip == hosts[0] else hosts[0]
    return netaddr.IPNetwork(f"{other}/{net.prefixlen}")
