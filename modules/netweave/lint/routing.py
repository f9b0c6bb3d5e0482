"""Lint rules: routing (R3xx) — route pushes, vCPE static routes and BGP.

Route pushes (R301-R303, R311, R315) are checked against the address owners of their VPC
(a dictionary lookup) and the RIB of the router behind the next hop (a bisection in
sorted prefix sets, :mod:`netweave.lint.prefixes`). vCPE rules (R304, R309) use the
same sets; BGP and tunnel rules (R305-R308, R310, R312, R313) are per object.
"""

from __future__ import annotations

from collections.abc import Iterator

import netaddr

from netweave.design.addresses import (
    PROVIDER_NAMES,
    AssignedAtDeploy,
    named_on_link,
    router_in_vpc,
    router_legs,
)
from netweave.forwarding.reach import RouteEntry
from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.lint.forwarding import bgp_peers, route_index, route_sets, shared
from netweave.lint.prefixes import TYPO, Candidates, PrefixSet, distance, listing, point, span, typo_of
from netweave.lint.tunnels import tunnel_findings
from netweave.model.index import AddressOwner
from netweave.model.source import PathKey
from netweave.model.topology import RoutePush, Site, Vcpe, Vpc


def check(ctx: Context) -> Iterator[Finding]:
    yield from _route_pushes(ctx)
    yield from _pushes_without_receivers(ctx)
    yield from _static_routes(ctx)
    yield from _advertisements(ctx)
    yield from _transit(ctx)
    yield from _asns(ctx)
    yield from tunnel_findings(ctx)


# --- route pushes ---------------------------------------------------------------------

def _routers_by_vpc(ctx: Context) -> dict[str, Candidates[AddressOwner]]:
    """Per VPC: addresses a route push may point at (vCPE NICs, VPN servers), sorted."""
    def build(ctx: Context) -> dict[str, Candidates[AddressOwner]]:
        entries: dict[str, list[tuple[int, str, AddressOwner]]] = {}
        for owner in ctx.index.owners:
            if owner.kind != "host" and owner.vxnet in ctx.index.vxnets:
                entries.setdefault(ctx.index.vpc_of(owner.vxnet), []).append(
                    (point(owner.address), str(owner.address), owner))
        return {vpc: Candidates.build(e) for vpc, e in entries.items()}
    return shared(ctx, "routers_by_vpc", build)


def _elsewhere(ctx: Context, vpc: str, hop: netaddr.IPAddress) -> str:
    """Why nothing in ``vpc`` answers: maybe the address belongs to another VPC."""
    for other in _routers_elsewhere(ctx).get(point(hop), []):
        other_vpc = ctx.index.vpc_of(other.vxnet)
        if other_vpc != vpc:
            return (f"{hop} is {other.describe().split(' (')[0]} in VPC {other_vpc}, and a route "
                    f"push's next hop must be in the pushing VPC ({vpc})")
    return f"nothing in {vpc} has the address {hop}"


def _routers_elsewhere(ctx: Context) -> dict[int, list[AddressOwner]]:
    def build(ctx: Context) -> dict[int, list[AddressOwner]]:
        out: dict[int, list[AddressOwner]] = {}
        for owner in ctx.index.owners:
            if owner.kind != "host" and owner.vxnet in ctx.index.vxnets:
                out.setdefault(point(owner.address), []).append(owner)
        return out
    return shared(ctx, "routers_by_address", build)


def _router_hint(ctx: Context, vpc: str, hop: netaddr.IPAddress) -> str:
    assigned = _assigned_routers(ctx).get(vpc)
    if assigned:  # Vultr: nothing in the VPC has an address before deploy
        provider = PROVIDER_NAMES[ctx.index.cloud_of_vpc(vpc)[1].provider]
        return (f"{provider} assigns the VPC addresses of {', '.join(assigned)} at deploy: "
                f"write next_hop: {assigned[0]} (the router's name stands for its address)")
    found = _routers_by_vpc(ctx).get(vpc)
    near = found.nearest(str(hop), point(hop)) if found else None
    if near is None:
        return (f"VPC {vpc} has no vCPE or VPN server yet: add one with a NIC in the vxnet "
                "and point the push at its address")
    return f"the nearest vCPE NIC in {vpc} is {near.address} ({near.describe().split(' (')[0]})"


def _assigned_routers(ctx: Context) -> dict[str, list[str]]:
    """Per VPC: routers whose address there the cloud assigns at deploy, by name."""
    def build(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        hosts = [(v.name, v.nics) for v in ctx.design.vcpes.values()]
        hosts += [(s.name, s.nics) for s in ctx.design.vpn_servers.values()]
        for name, nics in hosts:
            for nic in nics:
                if nic.assigned_at_deploy and name not in out.get(nic.vpc, []):
                    out.setdefault(nic.vpc, []).append(name)
        return out
    return shared(ctx, "assigned_routers", build)


def _named_router(ctx: Context, vpc: str, name: str) -> tuple[str, str] | str:
    """A push's ``next_hop: <name>``: (router, description) when it has a leg in ``vpc``,
    else why not (S107 already reported names that refer to nothing)."""
    leg = router_in_vpc(ctx.topology, name, vpc)
    if leg is not None:
        if isinstance(leg.address, AssignedAtDeploy):
            return name, f"{name} (its address in {leg.vxnet} is assigned at deploy)"
        return name, f"{name} ({leg.address})"
    if name in ctx.topology.hosts:
        return f"{name} is a host, a workload that does not forward"
    where = sorted({ctx.index.vpc_of(leg.vxnet) for leg in router_legs(ctx.topology, name)
                    if leg.vxnet in ctx.index.vxnets})
    return (f"{name} has no NIC in {vpc} (it is in {', '.join(where)})" if where
            else f"{name} is no vCPE or VPN server")


def _push_router(ctx: Context, vpc: str, hop: netaddr.IPAddress | str,
                 owners_at: dict[tuple[str, int], list[AddressOwner]]) -> tuple[str, str] | str:
    """The router a push's next hop names, as (name, description), or why there is none."""
    if isinstance(hop, str):
        return _named_router(ctx, vpc, hop)
    owners = owners_at.get((vpc, int(hop)), [])
    owner = next((o for o in owners if o.kind != "host"), owners[0] if owners else None)
    if owner is None:
        return _elsewhere(ctx, vpc, hop)
    if owner.kind == "host":
        return f"{hop} is host {owner.name}, a workload that does not forward"
    return owner.name, owner.describe()


def _name_hint(ctx: Context, vpc: str) -> str:
    names = sorted({o.name for o in ctx.index.owners if o.kind != "host"
                    and o.vxnet in ctx.index.vxnets and ctx.index.vpc_of(o.vxnet) == vpc}
                   | set(_assigned_routers(ctx).get(vpc, [])))
    if not names:
        return (f"VPC {vpc} has no vCPE or VPN server yet: add one with a NIC in the vxnet "
                "and point the push at it")
    return f"routers with a NIC in {vpc}: {', '.join(names)}"


def _route_pushes(ctx: Context) -> Iterator[Finding]:
    index = ctx.index
    routes = route_index(ctx)
    owners_at = index.owners_by_address
    for vpc_name, vpc in ctx.topology.vpcs.items():
        vpc_first, vpc_last = span(vpc.cidr)
        subnets = [(n, vx.cidr, *span(vx.cidr)) for n, vx in vpc.vxnets.items()]
        # the pushes of a VPC usually share one next hop (one parsed object: the model
        # shares equal values): look its router up again only when the hop changes
        last_hop: netaddr.IPAddress | str | None = None
        router: tuple[str, str] | str = ""
        for i, push in enumerate(vpc.route_push):
            path = ("vpcs", vpc_name, "route_push", i)
            dest, hop = push.destination, push.next_hop
            first, last = span(dest)
            if first <= vpc_last and vpc_first <= last:  # CIDRs overlap only by nesting
                yield finding("R303", f"route push {dest} in {vpc_name} overlaps the VPC's own "
                              f"range {vpc.cidr}: inside the VPC the VPC router delivers directly, "
                              "so VMs would bypass (or fight) the push", (*path, "destination"),
                              "push only networks outside the VPC; a remote network needs "
                              "a range of its own")
            if push.vxnets:
                yield from _push_scope(ctx, vpc_name, vpc, path, push, subnets)
            if hop is not last_hop:
                router = _push_router(ctx, vpc_name, hop, owners_at)
                last_hop = hop
            if isinstance(router, str):
                hint = (_name_hint(ctx, vpc_name) if isinstance(hop, str)
                        else _router_hint(ctx, vpc_name, hop))
                yield finding("R301", f"route push {dest} in {vpc_name} points at next hop {hop}, "
                              f"but {router}: VMs would send {dest} traffic into a black hole",
                              (*path, "next_hop"), hint)
                continue
            name, described = router
            if dest.prefixlen == 0 or routes.covers(name, dest, (first, last)):
                continue
            sets = route_sets(ctx, name)
            # A push wider than the routes behind its next hop is a summary (common and
            # fine); only a destination sharing no address with them is a black hole.
            if any(s.overlaps(dest) for s in sets):
                continue
            yield _uncovered_push(vpc_name, path, dest, name, described, sets)


def _pushes_without_receivers(ctx: Context) -> Iterator[Finding]:
    """R315: ``vxnets: []`` is taken at its word — no vxnet receives the push."""
    for push in ctx.design.route_pushes:
        if push.explicit and not push.vxnets:
            yield finding("R315", f"route push {push.destination} via {push.next_hop} in {push.vpc} "
                          "is sent to no vxnet (vxnets: []): no VM receives it",
                          (*push.path, "vxnets"),
                          "list the vxnets whose VMs need the route, or remove the 'vxnets' key "
                          "to send it to the next hop's vxnet")


def _push_scope(ctx: Context, vpc_name: str, vpc: Vpc, path: PathKey, push: RoutePush,
                subnets: list[tuple[str, netaddr.IPNetwork, int, int]]) -> Iterator[Finding]:
    """R311: every vxnet a push is sent to must have the next hop on-link."""
    dest, hop = push.destination, push.next_hop
    if isinstance(hop, str):
        on_link = list(named_on_link(ctx.topology, vpc_name, hop))
    else:
        at = point(hop)
        on_link = [n for n, _, first, last in subnets if first <= at <= last]
    for j, target in enumerate(push.vxnets or []):
        cidr = vpc.vxnets[target].cidr if target in vpc.vxnets else None
        if cidr is not None and target not in on_link:
            yield finding("R311", f"route push {dest} via {hop} is sent to vxnet {target} "
                          f"({cidr}), where {hop} is not on-link: its VMs cannot reach "
                          "that next hop (DHCP option 121 needs an on-link gateway)",
                          (*path, "vxnets", j),
                          f"{hop} is on-link in {', '.join(on_link)}" if on_link else
                          "send it only to vxnets that contain the next hop")


def _uncovered_push(vpc: str, path: tuple[str | int, ...], dest: netaddr.IPNetwork,
                    name: str, who: str, sets: list[PrefixSet]) -> Finding:
    near = typo_of(sets, dest)
    known = [p for s in sets for p in s.prefixes.items[:4]]
    if near is not None:
        hint = f"did you mean {near}? ({name} routes {listing(known, 4)})"
    elif known:
        hint = (f"{name} routes {listing(known, 4)}; if {dest} should come over BGP, check "
                "that the vCPE behind it advertises it and that their tunnel and BGP session are sound")
    else:
        hint = f"{name} has no route to any network but its default route"
    return finding("R302", f"route push {dest} in {vpc} goes to {who}, but {name} has no "
                   f"route into {dest} (connected, static or BGP): the traffic would come back "
                   "by its default route or die there", (*path, "destination"), hint)


# --- vCPE static routes ---------------------------------------------------------------

def _static_routes(ctx: Context) -> Iterator[Finding]:
    index = ctx.index
    tunnel_nets: dict[str, list[netaddr.IPNetwork]] = {}
    for tunnel in ctx.topology.tunnels:
        for end in tunnel.ends:
            tunnel_nets.setdefault(end.node, []).append(end.address.cidr)
    for name, vcpe in ctx.topology.vcpes.items():
        connected = [(i, index.vxnets[n.vxnet].cidr) for i, n in enumerate(vcpe.nics)
                     if n.vxnet in index.vxnets]
        links = [c for _, c in connected] + tunnel_nets.get(name, [])
        described = ", ".join(f"{c} (NIC {i})" for i, c in connected)
        on_link: netaddr.IPAddress | None = None  # last next hop found on-link (statics share one)
        for i, route in enumerate(vcpe.static_routes):
            path = ("vcpes", name, "static_routes", i)
            dest, hop = route.destination, route.next_hop
            if hop is None:
                if any(dest.version == c.version and dest in c for c in links):
                    continue
                yield finding("R309", f"{name} static route {dest} has no next hop, so it must be a "
                              f"network {name} is connected to, and it is not", (*path, "destination"),
                              _nearest_connected(dest, links, described, name))
            elif hop is on_link:
                continue
            elif any(hop.version == c.version and hop in c for c in links):
                on_link = hop
            else:
                guess = _onlink_guess(hop, links)
                yield finding("R309", f"{name} static route {dest} via {hop}: the next hop is not "
                              f"on-link (not in a vxnet or tunnel of {name})", (*path, "next_hop"),
                              (f"did you mean {guess}? " if guess else "")
                              + f"({name} is connected to {described or 'no vxnet'})")


def _onlink_guess(hop: netaddr.IPAddress, links: list[netaddr.IPNetwork]) -> netaddr.IPAddress | None:
    """``hop`` with its network bits taken from a link it was probably meant to be on."""
    best: tuple[int, netaddr.IPAddress] | None = None
    for link in links:
        if link.version != hop.version or link.size <= 2:
            continue
        bits = 32 if hop.version == 4 else 128
        guess = netaddr.IPAddress(link.first | (int(hop) & ((1 << (bits - link.prefixlen)) - 1)),
                                  hop.version)
        if guess in (link.network, link.network + 1) or (hop.version == 4 and guess == link.broadcast):
            continue
        d = distance(str(hop), str(guess))
        if d <= TYPO and (best is None or d < best[0]):
            best = (d, guess)
    return best[1] if best else None


def _nearest_connected(dest: netaddr.IPNetwork, links: list[netaddr.IPNetwork], described: str,
                       name: str) -> str:
    near = typo_of([PrefixSet.build(links)], dest) if links else None
    if near is not None:
        return f"did you mean {near}? ({name} is connected to {described})"
    return f"add a next_hop: {name} is connected to {described or 'no vxnet'}"


# --- BGP advertisements ---------------------------------------------------------------

def _advertisements(ctx: Context) -> Iterator[Finding]:
    for name, vcpe in ctx.topology.vcpes.items():
        if vcpe.bgp is None:
            continue
        routes = route_index(ctx)
        for i, prefix in enumerate(vcpe.bgp.advertise):
            if routes.covers(name, prefix):
                continue
            near = typo_of(route_sets(ctx, name), prefix)
            yield finding("R304", f"{name} advertises {prefix} over BGP but neither connects nor "
                          f"routes it: peers would send {prefix} traffic to {name}, which has "
                          "nowhere to put it", ("vcpes", name, "bgp", "advertise", i),
                          f"did you mean {near}?" if near is not None else
                          f"add a static route for {prefix} on {name}, or remove the advertisement")


def _transit(ctx: Context) -> Iterator[Finding]:
    """R316: a vCPE that re-advertises what one BGP peer announces offers transit to its
    other peers (traffic between two sites through a third); say so, or it is a mistake."""
    speakers = {n for n, v in ctx.topology.vcpes.items()
                if v.bgp is not None and not v.bgp.transit}
    if not speakers or not any(len(p) > 1 for n, p in bgp_peers(ctx).items() if n in speakers):
        return
    net = ctx.network
    for name in sorted(speakers):
        peers = set(bgp_peers(ctx).get(name, ()))
        if len(peers) < 2:
            continue  # nobody else to pass a peer's prefix on to
        routes: dict[tuple[int, int, int], list[RouteEntry]] = {}
        for r in net.rib(name):
            routes.setdefault((r.prefix.version, r.prefix.value, r.prefix.prefixlen), []).append(r)
        for decl in net.declared.get(name, ()):
            exact = routes.get((decl.prefix.version, decl.prefix.value, decl.prefix.prefixlen), [])
            if any(r.source in ("connected", "static") and r.kind != "blackhole" for r in exact):
                continue  # its own network: announcing it is what BGP is for
            route = next((r for r in exact if r.source == "bgp" and r.learned_from), None)
            if route is None or route.learned_from is None:
                continue
            others = sorted(peers - {route.learned_from})
            yield finding("R316", f"{name} advertises {decl.prefix}, which it only learns over BGP "
                          f"from {route.learned_from}: it passes it on to {', '.join(others)}, which "
                          f"then send traffic for {decl.prefix} through {name} (transit)", decl.path,
                          f"if {name} is meant to be a transit hub, say so with 'transit: true' "
                          f"under vcpes.{name}.bgp; otherwise remove the advertisement")


# --- AS numbers -----------------------------------------------------------------------

PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))
_RESERVED_ASNS = (
    ((0, 0), "AS 0 is reserved (RFC 7607)"),
    ((23456, 23456), "AS 23456 is AS_TRANS, a placeholder for 4-byte AS numbers (RFC 6793)"),
    ((64496, 64511), "AS 64496-64511 are for documentation (RFC 5398)"),
    ((65535, 65535), "AS 65535 is reserved (RFC 7300)"),
    ((65536, 65551), "AS 65536-65551 are for documentation (RFC 5398)"),
    ((65552, 131071), "AS 65552-131071 are reserved by IANA"),
    ((4294967295, 4294967295), "AS 4294967295 is reserved (RFC 7300)"),
)


def asn_problem(asn: int) -> str | None:
    for (low, high), why in _RESERVED_ASNS:
        if low <= asn <= high:
            return why
    return None


def is_private(asn: int) -> bool:
    return any(low <= asn <= high for low, high in PRIVATE_ASNS)


def _asns(ctx: Context) -> Iterator[Finding]:
    topo = ctx.topology
    routers: list[tuple[str, Vcpe | Site]] = [*topo.vcpes.items(), *topo.sites.items()]
    speakers = {n: v.bgp.asn for n, v in routers if v.bgp is not None}
    kind = {n: "sites" if n in topo.sites else "vcpes" for n in speakers}
    used = set(speakers.values())
    peers: dict[str, set[str]] = {}
    for i, tunnel in enumerate(topo.tunnels):
        names = [e.node for e in tunnel.ends]
        if len(names) != 2 or names[0] == names[1] or not all(n in speakers for n in names):
            continue
        a, b = names
        peers.setdefault(a, set()).add(b)
        peers.setdefault(b, set()).add(a)
        if speakers[a] == speakers[b]:
            yield finding("R306", f"{a} and {b} are eBGP peers over tunnel {tunnel.label(i)} but "
                          f"both use AS {speakers[a]}: each drops the other's routes (its own AS "
                          "is in the AS path)", (kind[b], b, "bgp", "asn"),
                          f"give {b} its own private AS, e.g. {_free_private_asn(used)}")
    for name, asn in speakers.items():
        path = (kind[name], name, "bgp", "asn")
        why = asn_problem(asn)
        if why:
            yield finding("R305", f"{name} uses AS {asn}, which BGP peers refuse or mangle: {why}",
                          path,
                          f"use a private AS: 64512-65534 or 4200000000-4294967294, "
                          f"e.g. {_free_private_asn(used)}")
        elif not is_private(asn) and name in peers:
            yield finding("R313", f"{name} uses the public AS {asn} on a private interconnect: "
                          "unless you own it, it can clash with the real AS if routes ever leak",
                          path, f"use a private AS, e.g. {_free_private_asn(used)}")
        if name not in peers:
            yield finding("R312", f"{name} speaks BGP (AS {asn}) but no tunnel joins it to another "
                          "vCPE that speaks BGP: its advertisements go nowhere",
                          (kind[name], name, "bgp"),
                          "add a tunnel to a peer with bgp, or drop the bgp block")


def _free_private_asn(used: set[int]) -> int:
    candidate = max([a for a in used if 64512 <= a <= 65534] or [64999]) + 1
    for _ in range(1024):  # the 2-byte private range; beyond it, a 4-byte one is free
        if candidate > 65534:
            candidate = 64512
        if candidate not in used:
            return candidate
        candidate += 1
    return 4200000000
