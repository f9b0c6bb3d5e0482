"""What lint needs from the forwarding model: routing domains and what each vCPE routes.

Two questions, each answered in exactly one function so that the reach helper's
model can take over without touching the rules:

- :func:`domain_of` — which VPCs are interconnected (``modules.reach.routing_domains``).
- :func:`routes_of` — the prefixes a vCPE (or VPN server) forwards to: its RIB in
  the forwarding model (``Network.rib``: connected, static, BGP) without the default
  route — "covered by the default route" is what a black hole looks like.

Results are computed once per lint run and kept on the context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import netaddr

from modules.lint.prefixes import PrefixSet
from modules.reach import routing_domains

if TYPE_CHECKING:
    from modules.lint import Context

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

@dataclass
class Routes:
    """What a router forwards to (its RIB without the default route), as prefix sets."""

    own: PrefixSet = field(default_factory=PrefixSet)  # connected and static routes
    learned: PrefixSet = field(default_factory=PrefixSet)  # BGP

    @property
    def sets(self) -> list[PrefixSet]:
        return [self.own, self.learned]

    def covers(self, net: netaddr.IPNetwork) -> bool:
        return self.own.covers(net) or self.learned.covers(net)


def declared(ctx: Context, vcpe: str) -> list[netaddr.IPNetwork]:
    """What a vCPE announces over BGP: ``bgp.advertise`` plus statics marked advertise."""
    v = ctx.topology.vcpes[vcpe]
    if v.bgp is None:
        return []
    return [*v.bgp.advertise, *(r.destination for r in v.static_routes if r.advertise)]


def _routes(ctx: Context, node: str) -> Routes:
    own: list[netaddr.IPNetwork] = []
    learned: list[netaddr.IPNetwork] = []
    for entry in ctx.network.rib(node):
        if entry.source == "default" or entry.kind == "blackhole" or entry.prefix.prefixlen == 0:
            continue  # "covered by the default route" is what a black hole looks like
        if entry.source in ("connected", "static"):
            own.append(entry.prefix)
        elif entry.source == "bgp":
            learned.append(entry.prefix)
    return Routes(PrefixSet.build(own), PrefixSet.build(learned))


def routes_of(ctx: Context, node: str) -> Routes:
    """What a vCPE or VPN server forwards to, from the forwarding model's RIB."""
    table: dict[str, Routes] = shared(ctx, "routes", lambda _: {})
    if node not in table:
        table[node] = _routes(ctx, node)
    return table[node]
