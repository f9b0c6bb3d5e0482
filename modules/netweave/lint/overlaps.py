"""Overlapping networks: one sort and sweep per routing domain, one across domains.

Networks here are what a packet can be addressed to: vxnets, VPN client pools and
prefixes statically routed to a router we do not model (a next hop inside a vxnet
that is no NIC, host or VPN server of the design). CIDR blocks either nest or are
disjoint, so after sorting by (first address, widest first) every block that
contains the current one is on a stack. Each stack entry keeps a pointer to the
nearest container of another *group* (another VPC, or another client pool), so
finding "what does this one collide with" is O(1) per network and the whole sweep
is O(n log n) — never pairwise, even when a thousand VPCs reuse one range.

Results (A203, A204, V503) are computed once per run and shared by the addressing
and vpn families.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import netaddr

from netweave.lint.findings import Finding, finding
from netweave.lint.forwarding import domain_of, shared
from netweave.lint.prefixes import V6_BASE, span
from netweave.model.source import PathKey

if TYPE_CHECKING:
    from netweave.lint import Context


@dataclass(slots=True, unsafe_hash=True)  # not frozen: its __init__ costs 4x (33k per big stack)
class Net:
    cidr: netaddr.IPNetwork
    first: int
    last: int
    kind: str  # "vxnet" | "client pool" | "static route"
    owner: str  # vxnet / VPN server / vCPE name
    vpc: str
    group: str  # networks of one group may nest (a VPC's own vxnets and statics)
    domain: int
    path: PathKey

    def describe(self) -> str:
        if self.kind == "vxnet":
            return f"vxnet {self.owner} ({self.cidr}, {self.vpc})"
        if self.kind == "client pool":
            return f"the client pool {self.cidr} of VPN server {self.owner} ({self.vpc})"
        return f"{self.cidr}, statically routed by {self.owner} ({self.vpc})"


def _networks(ctx: Context) -> list[Net]:
    topo, index = ctx.topology, ctx.index
    domains = domain_of(ctx)
    out: list[Net] = []

    def add(cidr: netaddr.IPNetwork, kind: str, owner: str, vpc: str, group: str,
            path: PathKey) -> None:
        first, last = span(cidr)
        out.append(Net(cidr, first, last, kind, owner, vpc, group, domains[vpc], path))

    for vpc_name, vpc in topo.vpcs.items():
        for vx_name, vx in vpc.vxnets.items():
            add(vx.cidr, "vxnet", vx_name, vpc_name, vpc_name,
                ("vpcs", vpc_name, "vxnets", vx_name, "cidr"))
    for name, vpn in topo.vpn_servers.items():
        if vpn.vxnet in index.vxnets:
            add(vpn.client_pool, "client pool", name, index.vpc_of(vpn.vxnet), f"pool:{name}",
                ("vpn_servers", name, "client_pool"))
    for name, vcpe in topo.vcpes.items():
        nets = [index.vxnets[n.vxnet] for n in vcpe.nics if n.vxnet in index.vxnets]
        if not nets:
            continue
        # a vCPE's statics usually share one next hop (one parsed object: the model shares
        # equal values): look it up again only when the hop changes
        last_hop: netaddr.IPAddress | None = None
        hop_vpc: str | None = None  # the next hop's VPC, when no NIC, host or server of ours has it
        for i, route in enumerate(vcpe.static_routes):
            hop = route.next_hop
            if hop is None or route.destination.prefixlen == 0:
                continue
            if hop is not last_hop:
                on = next((vx for vx in nets if hop in vx.cidr), None)
                # routed via one of ours: not a network of its own
                hop_vpc = None if on is None or index.owner_at(on.vpc, hop) is not None else on.vpc
                last_hop = hop
            if hop_vpc is not None:  # add(), inlined: a third of the networks of a big stack
                dest = route.destination
                first, last = span(dest)
                out.append(Net(dest, first, last, "static route", name, hop_vpc, hop_vpc,
                               domains[hop_vpc],
                               ("vcpes", name, "static_routes", i, "destination")))
    return out


def _sweep_order(net: Net) -> tuple[int, int, PathKey]:
    return net.first, -net.last, net.path  # containers before what they contain


def _sweep(ordered: list[Net], other: Callable[[Net, Net], bool]) -> Iterator[tuple[Net, Net]]:
    """(network, nearest network containing it for which ``other`` holds), for networks
    sorted by :func:`_sweep_order`."""
    stack: list[tuple[Net, Net | None]] = []
    for cur in ordered:
        while stack and stack[-1][0].last < cur.first:
            stack.pop()
        hit: Net | None = None
        if stack:
            top, pointer = stack[-1]
            hit = top if other(top, cur) else pointer
        if hit is not None:
            yield cur, hit
        stack.append((cur, hit))


FREE_TRIES = 64


def _free_block(cur: Net, within: netaddr.IPNetwork, starts: list[int], ends: list[int]) -> str | None:
    """A block of ``cur``'s size inside ``within`` that no network of the domain uses."""
    size = cur.last - cur.first + 1
    low, high = span(within)
    candidate = low + max(0, (cur.first - low) // size) * size
    for _ in range(FREE_TRIES):
        if candidate + size - 1 > high:
            return None
        i = bisect_right(starts, candidate + size - 1) - 1
        if i < 0 or ends[i] < candidate:
            base = V6_BASE if cur.cidr.version == 6 else 0
            return str(netaddr.IPNetwork((candidate - base, cur.cidr.prefixlen),
                                         version=cur.cidr.version))
        candidate = ((ends[i] + 1 - low + size - 1) // size) * size + low
    return None


def _merged(nets: list[Net]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for n in sorted(nets, key=lambda n: n.first):
        if ends and n.first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], n.last)
        else:
            starts.append(n.first)
            ends.append(n.last)
    return starts, ends


def _pair_finding(cur: Net, hit: Net, same_domain: bool, free: str | None = None) -> Finding:
    pool = cur if cur.kind == "client pool" else (hit if hit.kind == "client pool" else None)
    if same_domain and pool is not None:
        other = hit if pool is cur else cur
        return finding("V503", f"{pool.describe()} overlaps {other.describe()}: VPN clients and "
                       f"that network route to each other, so replies to {pool.cidr} addresses "
                       "go to the wrong place", pool.path,
                       "give the VPN clients a range no network of the design uses "
                       "(e.g. a /24 from 10.99.0.0/16 or 100.64.0.0/10)")
    if same_domain:
        return finding("A203", f"{cur.describe()} overlaps {hit.describe()}, and the two are "
                       f"interconnected: a packet for an address in {cur.cidr} cannot tell "
                       "which network it is meant for", cur.path,
                       f"renumber {cur.owner}: {free} is free in {cur.vpc}" if free else
                       f"renumber one of them; networks that route to each other need "
                       f"disjoint ranges ({hit.cidr} is taken)")
    return finding("A204", f"{cur.describe()} overlaps {hit.describe()}; they never route "
                   "to each other today, but joining them later will need a renumbering",
                   cur.path, "fine while they stay apart; pick disjoint ranges if they may "
                   "ever be interconnected")


def _findings(ctx: Context) -> list[Finding]:
    listed = _networks(ctx)
    # sorted once: each domain's share of a sorted list is sorted too
    nets = sorted(listed, key=_sweep_order)
    found: list[Finding] = []
    by_domain: dict[int, list[Net]] = {n.domain: [] for n in listed}  # domains in file order
    for n in nets:
        by_domain[n.domain].append(n)
    vpcs = ctx.topology.vpcs
    for members in by_domain.values():
        merged: tuple[list[int], list[int]] | None = None
        for cur, hit in _sweep(members, lambda a, b: a.group != b.group):
            free = None
            if cur.kind == "vxnet" and hit.kind != "client pool":
                merged = merged or _merged(members)
                free = _free_block(cur, vpcs[cur.vpc].cidr, *merged)
            found.append(_pair_finding(cur, hit, True, free))
    for cur, hit in _sweep(nets, lambda a, b: a.domain != b.domain):
        found.append(_pair_finding(cur, hit, False))
    return found


def overlap_findings(ctx: Context) -> list[Finding]:
    return shared(ctx, "overlaps", _findings)
