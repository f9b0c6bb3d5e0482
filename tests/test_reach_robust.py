"""The forwarding model never raises on a topology that passed the schema stage, however
wrong its routing: broken designs are what it exists to explain."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netweave.forwarding.reach import Network
from netweave.lint import lint_text
from netweave.model.index import Index

S2 = yaml.safe_load((Path(__file__).resolve().parent.parent / "stacks" / "s2-many-to-many.yaml")
                    .read_text())

ADDRESSES = ["192.168.128.2", "192.168.128.3", "192.168.128.1", "192.168.129.5", "172.17.0.2",
             "172.17.0.9", "169.254.100.1", "169.254.100.2", "10.0.0.1"]
PREFIXES = ["172.17.0.0/24", "192.168.128.0/24", "192.168.129.0/24", "0.0.0.0/0",
            "192.168.0.0/16", "172.17.0.0/16", "10.9.0.0/16", "169.254.100.0/30"]
VXNETS = ["vxnet01", "vxnet02", "vxnet03"]


def _mutations() -> st.SearchStrategy[list[tuple[str, Any]]]:
    push = st.fixed_dictionaries({"destination": st.sampled_from(PREFIXES),
                                  "next_hop": st.sampled_from(ADDRESSES)})
    static = st.fixed_dictionaries({"destination": st.sampled_from(PREFIXES)},
                                   optional={"next_hop": st.sampled_from(ADDRESSES),
                                             "advertise": st.booleans()})
    one = st.one_of(
        st.tuples(st.just("push"), st.sampled_from(["vpc01", "vpc02"]), push),
        st.tuples(st.just("static"), st.sampled_from(["vcpe01", "vcpe02"]), static),
        st.tuples(st.just("advertise"), st.sampled_from(["vcpe01", "vcpe02"]),
                  st.lists(st.sampled_from(PREFIXES), max_size=3)),
        st.tuples(st.just("nobgp"), st.sampled_from(["vcpe01", "vcpe02"]), st.none()),
        st.tuples(st.just("asn"), st.sampled_from(["vcpe01", "vcpe02"]), st.sampled_from([65001, 65002])),
        st.tuples(st.just("host"), st.sampled_from(["vm01", "vm02", "vm03"]),
                  st.tuples(st.sampled_from(VXNETS), st.sampled_from(ADDRESSES))),
        st.tuples(st.just("notunnel"), st.none(), st.none()),
        st.tuples(st.just("intent"), st.sampled_from(["must_reach", "must_not_reach"]),
                  st.tuples(st.sampled_from(["vm01", "vxnet03", "vpc02"]),
                            st.sampled_from(["vm02", "vxnet01", "vpc01"]))),
    )
    return st.lists(one, max_size=6)  # type: ignore[arg-type]


def _apply(data: dict[str, Any], mutations: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for kind, name, value in mutations:
        if kind == "push":
            data["vpcs"][name]["route_push"].append(value)
        elif kind == "static":
            data["vcpes"][name].setdefault("static_routes", []).append(value)
        elif kind == "advertise" and "bgp" in data["vcpes"][name]:
            data["vcpes"][name]["bgp"]["advertise"] = value
        elif kind == "nobgp":
            data["vcpes"][name].pop("bgp", None)
        elif kind == "asn" and "bgp" in data["vcpes"][name]:
            data["vcpes"][name]["bgp"]["asn"] = value
        elif kind == "host":
            data["hosts"][name] = {"vxnet": value[0], "address": value[1]}
        elif kind == "notunnel":
            data["tunnels"] = []
        elif kind == "intent":
            data["intent"][name] = [{"from": value[0], "to": value[1]}]
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_lint_with_paths_never_raises_on_mutated_s2(mutations: list[tuple[str, Any, Any]]) -> None:
    result = lint_text(yaml.safe_dump(_apply(S2, mutations)))
    assert result.exit_code in (0, 1, 2)
    if result.topology is not None:
        net = Network.build(result.topology, Index.build(result.topology))
        for ping in net.matrix():
            assert ping.forward.delivered or ping.forward.failure
            assert ping.back.delivered or ping.back.failure
