"""The matrix by classes (sets of destinations walked together) says exactly what tracing
every pair one by one says: for every bundled stack and every test topology."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netweave.forwarding.classes import Verdicts
from netweave.forwarding.reach import Network, PingResult
from netweave.lint import lint_file
from netweave.model.index import Index
from netweave.model.topology import Topology

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("stacks/*.yaml"), *ROOT.glob("tests/**/*.yaml")])


def _cell(ping: PingResult) -> str:
    if ping.reachable:
        return "ok"
    if ping.forward.loop or ping.back.loop:
        return "loop"
    return "x>" if not ping.forward.delivered else "x<"


def _network(path: Path) -> Network:
    result = lint_file(str(path))
    if result.topology is None:
        pytest.skip("not a usable topology")
    return result.network


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_verdicts_by_classes_equal_the_pair_by_pair_pings(path: Path) -> None:
    net = _network(path)
    verdicts = Verdicts(net)
    matrix = net.matrix()
    assert {(p.src, p.dst): verdicts.cell(p.src, p.dst) for p in matrix} == \
        {(p.src, p.dst): _cell(p) for p in matrix}
    assert verdicts.reachable_count == sum(p.reachable for p in matrix)
    assert verdicts.pings == len(matrix)
    assert list(verdicts.broken()) == [(p.src, p.dst) for p in matrix if not p.reachable]
    assert all(verdicts.forward(p.src, p.dst) == p.forward.delivered for p in matrix)


DIFFS = sorted(ROOT.glob("tests/fixtures/diff/*.yaml"))
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"


@pytest.mark.parametrize("reverse", [False, True], ids=["lost", "gained"])
@pytest.mark.parametrize("other", DIFFS, ids=lambda p: p.name)
def test_reachability_changes_by_classes_equal_those_of_every_pair(other: Path,
                                                                    reverse: bool) -> None:
    from netweave.diff.reach import Reachability, pair_changes

    base_net, head_net = _network(S2), _network(other)
    if reverse:
        base_net, head_net = head_net, base_net
    hosts = sorted(set(base_net.hosts) | set(head_net.hosts))
    by_classes = pair_changes(Reachability.of(base_net, hosts), Reachability.of(head_net, hosts))
    by_pairs = pair_changes(Reachability({(p.src, p.dst): p for p in base_net.matrix()}),
                            Reachability({(p.src, p.dst): p for p in head_net.matrix()}))
    assert by_classes == by_pairs


def _random_design(draw: st.DrawFn) -> dict[str, Any]:
    """VPCs 10.i.0.0/16 with one vxnet, a vCPE at .2 and 1-3 VMs; random tunnels with
    BGP, advertisements, route pushes (right or wrong next hops, aggregates included),
    static routes and security groups."""
    n = draw(st.integers(2, 4))
    data: dict[str, Any] = {"version": 1,
                            "clouds": {"qc": {"provider": "qingcloud", "zone": "pek3a"}},
                            "vpcs": {}, "hosts": {}, "vcpes": {}, "tunnels": [],
                            "security_groups": {"icmp-from-0": {"rules": [
                                {"protocol": "icmp", "source": "10.0.0.0/16"}]}}}
    destinations = [f"10.{j}.1.0/24" for j in range(n)] + ["10.0.0.0/8"]
    for i in range(n):
        pushes = [{"destination": d, "next_hop": draw(st.sampled_from(
                       [f"10.{i}.1.2", f"10.{i}.1.9"]))}
                  for d in draw(st.lists(st.sampled_from(destinations), unique=True, max_size=3))
                  if d != f"10.{i}.1.0/24"]
        data["vpcs"][f"v{i}"] = {"cloud": "qc", "cidr": f"10.{i}.0.0/16",
                                 "vxnets": {f"n{i}": {"cidr": f"10.{i}.1.0/24"}},
                                 "route_push": pushes}
        statics = [{"destination": d, "next_hop": f"10.{i}.1.{draw(st.sampled_from([3, 2, 7]))}"}
                   for d in draw(st.lists(st.sampled_from(destinations), unique=True, max_size=1))
                   if d != f"10.{i}.1.0/24"]
        data["vcpes"][f"r{i}"] = {
            "nics": [{"vxnet": f"n{i}", "address": f"10.{i}.1.2"}], "static_routes": statics,
            "bgp": {"asn": 65000 + i, "advertise": draw(st.lists(
                st.sampled_from(destinations), unique=True, max_size=3))}}
        for h in range(draw(st.integers(1, 3))):
            data["hosts"][f"vm{i}-{h}"] = {
                "vxnet": f"n{i}", "address": f"10.{i}.1.{10 + h}",
                "security_groups": ["icmp-from-0"] if draw(st.booleans()) else []}
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    for k, (a, b) in enumerate(sorted(set(draw(st.lists(st.sampled_from(pairs), max_size=4))))):
        data["tunnels"].append({"name": f"t{k}", "ends": [
            {"vcpe": f"r{a}", "address": f"169.254.{k}.1/30"},
            {"vcpe": f"r{b}", "address": f"169.254.{k}.2/30"}]})
    return data


@settings(max_examples=150, deadline=None)
@given(st.composite(_random_design)())
def test_verdicts_by_classes_equal_the_pings_on_random_designs(data: dict[str, Any]) -> None:
    topology = Topology.model_validate(data)
    net = Network.build(topology, Index.build(topology))
    verdicts = Verdicts(net)
    matrix = net.matrix()
    assert {(p.src, p.dst): verdicts.cell(p.src, p.dst) for p in matrix} == \
        {(p.src, p.dst): _cell(p) for p in matrix}


def test_vms_of_one_vxnet_reach_each_other_by_classes() -> None:
    topology = Topology.model_validate({
        "version": 1, "clouds": {"qc": {"provider": "qingcloud", "zone": "pek3a"}},
        "vpcs": {"v1": {"cloud": "qc", "cidr": "10.1.0.0/16",
                        "vxnets": {"n1": {"cidr": "10.1.1.0/24"}}}},
        "hosts": {"vm1": {"vxnet": "n1", "address": "10.1.1.10"},
                  "vm2": {"vxnet": "n1", "address": "10.1.1.11"}}})
    verdicts = Verdicts(Network.build(topology, Index.build(topology)))
    assert (verdicts.cell("vm1", "vm2"), verdicts.cell("vm2", "vm1")) == ("ok", "ok")
