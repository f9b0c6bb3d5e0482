"""Lint rules: paths — the intent checked against the forwarding model (``netweave.forwarding.reach``).

- P401 intent-unreachable: a ``must_reach`` pair whose packets die on the way;
- P402 intent-no-return: the request arrives but the reply has no way back;
- P403 intent-leak: a ``must_not_reach`` pair between which a packet passes;
- P404 routing-loop: found on intent pairs and on every vxnet -> route push destination;
- P405 intent-empty: a vxnet/VPC endpoint without hosts (nothing to check);
- P406 one-way-path: a route push (with the BGP routes behind it) lets a vxnet's VMs
  reach another vxnet's VMs, but the replies have no way back: checked with or without
  ``intent``, for the pairs intent does not already cover.

Intent endpoints expand to host pairs (``Index.hosts_in``). Many pairs usually fail
for one reason (a vxnet-to-vxnet intent): failures are grouped by the place to fix and
reported once, with the number of pairs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from netweave.forwarding.reach import Network, Trace
from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.lint.prefixes import point, span
from netweave.lint.schema import dotted
from netweave.model.source import PathKey
from netweave.model.topology import Host

# Loop search walks from each route push's next hop to its destination; past this many
# walks it stops (loops found up to then are still reported).
LOOP_TRACE_BUDGET = 5_000
# One-way search: one VM stands for its vxnet (VMs of a vxnet route alike; replies are not
# filtered), so each (source vxnet, destination vxnet) pair a route push joins is traced
# once, for at most this many pairs, and a push wider than this many destination vxnets
# is sampled: the search stays linear in the number of pushes.
ONE_WAY_PAIR_BUDGET = 5_000
ONE_WAY_DESTINATIONS_PER_PUSH = 16


@dataclass
class _Group:
    code: str
    path: PathKey
    at_intent: bool
    first: str
    hint: str | None
    pairs: set[frozenset[str]] = field(default_factory=set)  # host pairs, either direction


def _endpoint_kind(ctx: Context, name: str) -> str:
    if name in ctx.topology.hosts:
        return "host"
    return "vxnet" if name in ctx.index.vxnets else "VPC"


def _empty_endpoints(ctx: Context) -> Iterator[Finding]:
    intent = ctx.topology.intent
    assert intent is not None
    for group in ("must_reach", "must_not_reach"):
        for i, pair in enumerate(getattr(intent, group)):
            for key, name in (("from", pair.from_), ("to", pair.to)):
                if not ctx.index.hosts_in(name):
                    kind = _endpoint_kind(ctx, name)
                    yield finding("P405", f"intent {group} endpoint {kind} '{name}' holds no host: "
                                  "there is nothing to check this pair with", ("intent", group, i, key),
                                  f"add a host to {kind} '{name}' (hosts are not deployed; they are "
                                  "what reachability and emulation test with)")


def _hint(net: Network, trace: Trace) -> str | None:
    """What to write at the blamed place, when the model can tell."""
    path = trace.failure_path or ()
    dst = net.topology.hosts[trace.dst].address
    if path and path[-1] == "route_push" and trace.failure_at in net.topology.hosts:
        vxnet = net.topology.hosts[trace.failure_at].vxnet or ""
        push = net.push_suggestion(vxnet, dst)
        if push:
            return f"add the route push {push} to {dotted(path)}"
        return (f"push {net.network_of(dst)} to {vxnet} via a vCPE NIC in {vxnet} that routes it")
    if path and path[-1] == "advertise":
        return f"add {net.network_of(dst)} to {dotted(path)}"
    return None


def _collect(groups: dict[tuple[PathKey, str], _Group], code: str, intent_path: PathKey,
             trace: Trace, net: Network) -> None:
    """Group by cause: the node that lacks the route and the place to fix it. The same
    cause seen first as a missing reply is not reported again as the other direction's
    missing request."""
    blame = trace.failure_path
    path = blame if blame else intent_path
    key = (path, trace.failure_at or "")
    group = groups.get(key)
    if group is None:
        if trace.reply:
            first = (f"{trace.dst} reaches {trace.src} but the reply dies at {trace.failure_at}: "
                     f"{trace.detail}")
        else:
            first = trace.failure or ""
        group = groups[key] = _Group(code, path, not blame, first, _hint(net, trace))
    group.pairs.add(frozenset((trace.src, trace.dst)))


def _where(group: _Group) -> str:
    if group.at_intent:
        return "reported at the intent entry: the model found no single place to fix"
    return f"reported at {dotted(group.path)}, the place to fix"


def _must_reach(ctx: Context, net: Network,
                loops: dict[tuple[str, PathKey], _Group]) -> Iterator[Finding]:
    intent = ctx.topology.intent
    assert intent is not None
    for i, pair in enumerate(intent.must_reach):
        where: PathKey = ("intent", "must_reach", i)
        groups: dict[tuple[PathKey, str], _Group] = {}
        for a in ctx.index.hosts_in(pair.from_):
            for b in ctx.index.hosts_in(pair.to):
                if a == b:
                    continue
                for x, y in ((a, b), (b, a)):
                    ping = net.ping(x, y)
                    if not ping.forward.delivered:
                        if ping.forward.loop:
                            _loop(loops, ping.forward)
                        else:
                            _collect(groups, "P401", where, ping.forward, net)
                    elif not ping.back.delivered:
                        if ping.back.loop:
                            _loop(loops, ping.back)
                        else:
                            _collect(groups, "P402", where, ping.back, net)
        label = f"intent {pair.from_} <-> {pair.to} ({dotted(where)})"
        for group in groups.values():
            more = len(group.pairs) - 1
            count = f" (and {more} more host pair{'s' if more != 1 else ''})" if more else ""
            yield finding(group.code, f"{label}: {group.first}{count}; {_where(group)}",
                          group.path, group.hint, related=(where,))


def _must_not_reach(ctx: Context, net: Network) -> Iterator[Finding]:
    intent = ctx.topology.intent
    assert intent is not None
    for i, pair in enumerate(intent.must_not_reach):
        where: PathKey = ("intent", "must_not_reach", i)
        leaks: list[Trace] = []
        for a in ctx.index.hosts_in(pair.from_):
            for b in ctx.index.hosts_in(pair.to):
                if a == b:
                    continue
                leaks.extend(t for t in (net.trace(a, b), net.trace(b, a)) if t.delivered)
        if leaks:
            more = len(leaks) - 1
            count = f" (and {more} more direction{'s' if more != 1 else ''} between host pairs)" \
                if more else ""
            first = leaks[0]
            yield finding("P403", f"intent says {pair.from_} must not reach {pair.to}, but packets "
                          f"pass: {first.summary()}{count}", where,
                          "remove the route push / BGP advertisement that joins them, or a "
                          "security group on the hosts that drops the traffic")


def _loop(loops: dict[tuple[str, PathKey], _Group], trace: Trace) -> None:
    cycle = (trace.detail or "").split(" for ")[0]
    path = trace.failure_path or ()
    key = (cycle, path)
    if key not in loops:
        loops[key] = _Group("P404", path, False, trace.failure or "", None)
    loops[key].pairs.add(frozenset((trace.src, trace.dst)))


def _push_destination_loops(ctx: Context, net: Network,
                            loops: dict[tuple[str, PathKey], _Group]) -> None:
    """Follow every route push from its next hop towards its destination.

    That is what every VM receiving the push does after its first hop (VMs do not
    forward, so a loop is always among routers). Walks are deduplicated by (router,
    destination) and bounded by LOOP_TRACE_BUDGET.
    """
    budget = LOOP_TRACE_BUDGET
    seen: set[tuple[str, int, int]] = set()
    for vpc_name, vpc in ctx.topology.vpcs.items():
        for i, push in enumerate(vpc.route_push):
            dst = push.destination
            probe = dst.network + 1 if dst.size > 2 else dst.network
            start = net.next_hop_node(vpc_name, push.next_hop)
            if start is None or (start, probe.version, probe.value) in seen:
                continue
            if budget <= 0:
                return
            budget -= 1
            seen.add((start, probe.version, probe.value))
            trace = net.trace_from(start, probe)
            if trace.loop:
                push_path: PathKey = ("vpcs", vpc_name, "route_push", i)
                trace = replace(trace, src=f"route push {dst} of {vpc_name}",
                                failure=f"route push {dst} of {vpc_name} (via {push.next_hop}, "
                                        f"{dotted(push_path)}) leads into a {trace.detail}")
                _loop(loops, trace)


def _intent_pairs(ctx: Context) -> set[frozenset[str]]:
    """Host pairs an intent rule already speaks for (P402/P403 report those)."""
    pairs: set[frozenset[str]] = set()
    intent = ctx.topology.intent
    if intent is None:
        return pairs
    for rule in (*intent.must_reach, *intent.must_not_reach):
        for a in ctx.index.hosts_in(rule.from_):
            pairs.update(frozenset((a, b)) for b in ctx.index.hosts_in(rule.to) if a != b)
    return pairs


def _network(host: Host) -> str:
    """The vxnet a host is in, or its site's LAN."""
    return host.vxnet or f"lan:{host.site}"


def _one_way(ctx: Context, net: Network) -> Iterator[Finding]:
    """P406: a route push whose path has no path back, reported where the return is missing."""
    topo = ctx.topology
    first_host: dict[str, str] = {}  # vxnet -> the VM standing for it
    for name in sorted(topo.hosts):
        if name in net.nodes:
            first_host.setdefault(_network(topo.hosts[name]), name)
    if len(first_host) < 2:
        return
    by_address = sorted((point(topo.hosts[h].address), h) for h in first_host.values())
    keys = [k for k, _ in by_address]
    spoken = _intent_pairs(ctx)
    traced: set[tuple[str, str]] = set()
    groups: dict[tuple[PathKey, str], _Group] = {}
    budget = ONE_WAY_PAIR_BUDGET
    for push in ctx.design.route_pushes:
        first, last = span(push.destination)
        found = by_address[bisect_left(keys, first):bisect_right(keys, last)]
        targets = [h for _, h in found[:ONE_WAY_DESTINATIONS_PER_PUSH]]
        for src_vxnet in push.vxnets:
            a = first_host.get(src_vxnet)
            if a is None:
                continue
            for b in targets:
                pair = (src_vxnet, _network(topo.hosts[b]))
                if pair[0] == pair[1] or pair in traced or frozenset((a, b)) in spoken:
                    continue
                if budget <= 0:
                    break
                budget -= 1
                traced.add(pair)
                if not net.trace(a, b).delivered:
                    continue  # not a path at all: R302 and the intent rules say why
                back = net.trace(b, a, reply=True)
                if back.delivered or back.loop:
                    continue  # loops: P404
                key = (back.failure_path or push.path, back.failure_at or "")
                if key not in groups:
                    what = (f"route push {push.destination} of {push.vpc} ({dotted(push.path)}) "
                            f"lets {a} ({src_vxnet}) reach {b} ({pair[1]}), but the reply dies "
                            f"at {back.failure_at}: {back.detail}")
                    groups[key] = _Group("P406", key[0], False, what, _hint(net, back))
                groups[key].pairs.add(frozenset(pair))
    for group in groups.values():
        more = len(group.pairs) - 1
        count = f" (and {more} more vxnet pair{'s' if more != 1 else ''})" if more > 0 else ""
        yield finding("P406", f"one-way path: {group.first}{count}; reported at "
                      f"{dotted(group.path)}, the place to fix", group.path, group.hint)


def check(ctx: Context) -> Iterator[Finding]:
    topo = ctx.topology
    has_pushes = any(vpc.route_push for vpc in topo.vpcs.values())
    if topo.intent is not None:
        yield from _empty_endpoints(ctx)
    if not has_pushes and (topo.intent is None or not topo.hosts):
        return
    net = ctx.network
    loops: dict[tuple[str, PathKey], _Group] = {}
    if topo.intent is not None and topo.hosts:
        yield from _must_reach(ctx, net, loops)
        yield from _must_not_reach(ctx, net)
    if has_pushes:
        yield from _one_way(ctx, net)
    _push_destination_loops(ctx, net, loops)
    for group in loops.values():
        yield finding("P404", f"{group.first}: packets go round until their TTL runs out; "
                      f"reported at {dotted(group.path)}, a route in the loop",
                      group.path, "point one of these routes at a router that has a real path "
                      "(a connected network or a BGP route), not back into the loop")
