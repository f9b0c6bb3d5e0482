"""What lint needs from the forwarding model: routing domains and what each vCPE routes.

Two questions, each answered in one place so that the rules never depend on how:

- :func:`domain_of` — which VPCs are interconnected (``netweave.forwarding.reach.routing_domains``).
- :func:`route_index` — does a vCPE (or VPN server) forward to a prefix: connected,
  static, and what its BGP peers declare — the forwarding model's import policy —
  without the default route. Same policy as ``netweave.forwarding.reach`` (its ``Network.rib``),
  asked without materialising every table: see :class:`RouteIndex`.

Results are computed once per lint run and kept on the context.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import netaddr

from netweave.forwarding.reach import routing_domains
from netweave.lint.prefixes import V6_BASE, PrefixSet, span

if TYPE_CHECKING:
    from netweave.lint import Context

T = TypeVar("T")


def shared(ctx: Context, key: str, build: Callable[[Context], T]) -> T:
    """Compute a derived table once per lint run (several families use the same one)."""
    store: dict[str, Any] = ctx.__dict__.setdefault("_lint_shared", {})
    if key not in store:
        store[key] = build(ctx)
    return store[key]  # type: ignore[no-any-return]


# --- routing domains ------------------------------------------------------------------

def _domain_table(ctx: Context) -> dict[str, int]:
    table: dict[str, int] = {}
    for number, vpcs in enumerate(routing_domains(ctx.topology, ctx.index)):
        for vpc in vpcs:
            table.setdefault(vpc, number)
    extra = len(table)
    for vpc in ctx.topology.vpcs:  # a VPC nobody connects is a domain of its own
        if vpc not in table:
            table[vpc] = extra = extra + 1
    return table


def domain_of(ctx: Context) -> dict[str, int]:
    """VPC name -> routing domain number (equal numbers route to each other)."""
    return shared(ctx, "domains", _domain_table)


# --- what a vCPE routes -----------------------------------------------------------------

PrefixKey = tuple[int, int, int]  # (IP version, network as int, prefix length)


_MASKS = {version: [((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1) for plen in range(bits + 1)]
          for version, bits in ((4, 32), (6, 128))}  # netmask per prefix length


def declared(ctx: Context, vcpe: str) -> tuple[netaddr.IPNetwork, ...]:
    """What a vCPE announces over BGP (the design's, :mod:`netweave.design.declared`)."""
    return ctx.design.announces(vcpe)


@dataclass
class RouteIndex:
    """Connected and static routes per node, and who declares which prefix over BGP.

    The forwarding model's policy (``netweave.forwarding.reach``): a vCPE accepts from a BGP peer
    exactly what the peer declares. Materialising every node's RIB would cost the sum
    of all tables — quadratic for a hub whose list every spoke learns — so coverage
    is asked the other way round: for each prefix length present, is the covering
    prefix declared by one of this node's peers? At most 33 (IPv4) dictionary lookups
    per query, whatever the degree of the node.
    """

    own: dict[str, PrefixSet] = field(default_factory=dict)
    peers: dict[str, set[str]] = field(default_factory=dict)
    declarers: dict[PrefixKey, set[str]] = field(default_factory=dict)
    lengths: dict[int, list[int]] = field(default_factory=dict)  # version -> prefix lengths, longest first
    hints: dict[str, list[PrefixSet]] = field(default_factory=dict)

    def covers(self, node: str, net: netaddr.IPNetwork, where: tuple[int, int] | None = None) -> bool:
        """Does ``node`` route ``net``? (``where``: its :func:`span`, when already known.)"""
        first, last = where or span(net)
        own = self.own.get(node)
        if own is not None:
            i = bisect_right(own.starts, first) - 1  # PrefixSet.covers_span, inlined: hot
            if i >= 0 and own.ends[i] >= last:
                return True
        peers = self.peers.get(node)
        if not peers:
            return False
        plen_net = net.prefixlen
        if first >= V6_BASE:  # span() keeps IPv6 above V6_BASE
            version = 6
            first -= V6_BASE
        else:
            version = 4
        masks = _MASKS[version]
        for plen in self.lengths.get(version, ()):
            if plen > plen_net:
                continue
            found = self.declarers.get((version, first & masks[plen], plen))
            if found and not found.isdisjoint(peers):  # iterates over the smaller set
                return True
        return False

    def learned(self, node: str) -> list[str]:
        return sorted(self.peers.get(node, ()))


def _route_index(ctx: Context) -> RouteIndex:
    topo, index = ctx.topology, ctx.index
    out = RouteIndex()
    for name, vcpe in topo.vcpes.items():
        nets = [index.vxnets[n.vxnet].cidr for n in vcpe.nics if n.vxnet in index.vxnets]
        # a static default route with a next hop is a deliberate choice (egress through a
        # firewall), unlike the implicit default via the VPC router: it counts
        nets += [r.destination for r in vcpe.static_routes if r.next_hop is not None]
        out.own[name] = PrefixSet.build(nets)
        for prefix in declared(ctx, name):
            # a network's first address has no host bits: it is its own masked key
            key = (prefix.version, prefix.first, prefix.prefixlen)
            out.declarers.setdefault(key, set()).add(name)
    for name, vpn in topo.vpn_servers.items():
        nets = [vpn.client_pool]
        if vpn.vxnet in index.vxnets:
            nets.append(index.vxnets[vpn.vxnet].cidr)
        out.own[name] = PrefixSet.build(nets)
    for version, _, plen in out.declarers:
        out.lengths.setdefault(version, []).append(plen)
    for version, plens in out.lengths.items():
        out.lengths[version] = sorted(set(plens), reverse=True)
    for a, peers in bgp_peers(ctx).items():
        out.peers[a] = set(peers)
    return out


def route_index(ctx: Context) -> RouteIndex:
    """Coverage queries on what each vCPE / VPN server forwards to (no default route:
    "covered by the default route" is what a black hole looks like)."""
    return shared(ctx, "route_index", _route_index)


def route_sets(ctx: Context, node: str) -> list[PrefixSet]:
    """A node's routes as prefix sets, for "did you mean" hints (built on demand,
    once per node: only nodes with a finding pay for it)."""
    routes = route_index(ctx)
    if node not in routes.hints:
        learned = [p for peer in routes.learned(node) for p in declared(ctx, peer)]
        routes.hints[node] = [routes.own.get(node, PrefixSet()), PrefixSet.build(learned)]
    return routes.hints[node]


def bgp_peers(ctx: Context) -> dict[str, list[str]]:
    """vCPE -> vCPEs it has an eBGP session with (a tunnel whose two ends speak BGP)."""
    def build(ctx: Context) -> dict[str, list[str]]:
        topo = ctx.topology
        peers: dict[str, list[str]] = {}
        for tunnel in topo.tunnels:
            names = [e.node for e in tunnel.ends]
            if len(names) != 2 or names[0] == names[1]:
                continue
            a, b = names
            ra, rb = topo.router(a), topo.router(b)
            if ra is not None and rb is not None and ra.bgp and rb.bgp:
                peers.setdefault(a, []).append(b)
                peers.setdefault(b, []).append(a)
        return peers
    return shared(ctx, "bgp_peers", build)
