"""Properties of the forwarding model's building blocks, against naive references."""

from __future__ import annotations

from collections import deque
from typing import Any

import netaddr
from hypothesis import given, settings
from hypothesis import strategies as st
from netweave.forwarding.reach import Lpm, Network, RouteEntry
from netweave.model.index import Index
from netweave.model.topology import Topology


def _route(prefix: netaddr.IPNetwork) -> RouteEntry:
    return RouteEntry(prefix, "static", "192.0.2.1", None, ())


prefixes = st.builds(lambda value, plen: netaddr.IPNetwork((value, plen), version=4).cidr,
                     st.integers(0, 2**32 - 1), st.integers(0, 32))
addresses = st.builds(lambda value: netaddr.IPAddress(value, 4), st.integers(0, 2**32 - 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(prefixes, max_size=30), st.lists(addresses, min_size=1, max_size=10))
def test_lpm_finds_the_longest_prefix_containing_the_address(
        table: list[netaddr.IPNetwork], probes: list[netaddr.IPAddress]) -> None:
    lpm = Lpm(_route(p) for p in table)
    for address in probes:
        matching = [p for p in table if address in p]
        found = lpm.lookup(address)
        if not matching:
            assert found is None
        else:
            assert found is not None
            assert found.prefix.prefixlen == max(p.prefixlen for p in matching)
            assert address in found.prefix


def _topology(n: int, edges: set[tuple[int, int]], declares: list[set[int]]) -> Topology:
    """Speaker i: vxnet 10.i.0.0/24 with vCPE r<i> (AS 65000+i); tunnels as given."""
    data: dict[str, Any] = {"version": 1, "clouds": {"qc": {"provider": "qingcloud", "zone": "pek3a"}},
                            "vpcs": {}, "vcpes": {}, "tunnels": []}
    for i in range(n):
        data["vpcs"][f"v{i}"] = {"cloud": "qc", "cidr": f"10.{i}.0.0/16",
                                 "vxnets": {f"n{i}": {"cidr": f"10.{i}.0.0/24"}}}
        data["vcpes"][f"r{i}"] = {"nics": [{"vxnet": f"n{i}", "address": f"10.{i}.0.2"}],
                                  "bgp": {"asn": 65000 + i,
                                          "advertise": [f"10.{j}.0.0/24" for j in sorted(declares[i])]}}
    for k, (a, b) in enumerate(sorted(edges)):
        data["tunnels"].append({"name": f"t{k}", "ends": [
            {"vcpe": f"r{a}", "address": f"169.254.{k}.1/30"},
            {"vcpe": f"r{b}", "address": f"169.254.{k}.2/30"}]})
    return Topology.model_validate(data)


@st.composite
def _bgp_designs(draw: st.DrawFn) -> tuple[int, set[tuple[int, int]], list[set[int]]]:
    n = draw(st.integers(2, 6))
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    edges = set(draw(st.lists(st.sampled_from(pairs), max_size=len(pairs))))
    declares = [draw(st.sets(st.integers(0, n - 1))) for _ in range(n)]
    return n, edges, declares


@settings(max_examples=80, deadline=None)
@given(_bgp_designs())
def test_bgp_learns_exactly_the_shortest_declared_path(
        design: tuple[int, set[tuple[int, int]], list[set[int]]]) -> None:
    """Reference: BFS from the prefix's owner, passing only through vCPEs that declare it
    (with unique AS numbers a shortest path never holds the receiver's own AS)."""
    n, edges, declares = design
    topology = _topology(n, edges, declares)
    net = Network.build(topology, Index.build(topology))
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for owner in range(n):
        dist = {owner: 0}
        queue = deque([owner] if owner in declares[owner] else [])
        while queue:
            u = queue.popleft()
            for v in sorted(neighbours[u]):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    if owner in declares[v]:
                        queue.append(v)
        for v in range(n):
            learned = [r for r in net.rib(f"r{v}")
                       if r.source == "bgp" and str(r.prefix) == f"10.{owner}.0.0/24"]
            if v == owner or v not in dist:
                assert learned == []
            else:
                (route,) = learned
                assert len(route.as_path) == dist[v]
                assert route.as_path[-1] == 65000 + owner
