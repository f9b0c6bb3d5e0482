"""Network changes in the domain's words, one kind of change per test."""

from __future__ import annotations

from pathlib import Path

import yaml
from netweave.diff.network import Change, network_changes
from netweave.model.topology import Topology

S2 = Path(__file__).resolve().parent.parent / "stacks" / "s2-many-to-many.yaml"


def s2() -> dict:  # type: ignore[type-arg]
    data: dict = yaml.safe_load(S2.read_text())  # type: ignore[type-arg]
    return data


def changes(edit: object) -> list[Change]:
    data = s2()
    edit(data)  # type: ignore[operator]
    return network_changes(Topology.model_validate(s2()), Topology.model_validate(data))


def one(edit: object) -> tuple[str, str, str, str]:
    (c,) = changes(edit)
    return (c.op, c.kind, c.subject, c.detail)


def test_same_topology_has_no_changes() -> None:
    assert changes(lambda d: None) == []


def test_changed_vxnet_prefix() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vpcs"]["vpc02"]["vxnets"]["vxnet02"]["cidr"] = "172.17.1.0/24"
    assert one(edit) == ("changed", "vxnet", "vxnet02", "cidr 172.17.0.0/24 → 172.17.1.0/24")


def test_removed_route_push() -> None:
    assert one(lambda d: d["vpcs"]["vpc02"]["route_push"].pop()) == \
        ("removed", "route_push", "vpc02 192.168.129.0/24", "via 172.17.0.2")


def test_route_push_scope_narrowed_is_one_change() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vpcs"]["vpc01"]["route_push"][0]["vxnets"] = ["vxnet01"]
    assert one(edit) == ("changed", "route_push", "vpc01 172.17.0.0/24",
                         "vxnets (the next hop's vxnet) → vxnet01")


def test_withdrawn_advertisement() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vcpes"]["vcpe01"]["static_routes"][0]["advertise"] = False
    assert one(edit) == ("removed", "advertisement", "vcpe01 192.168.129.0/24",
                         "vcpe01 no longer announces 192.168.129.0/24 over BGP")


def test_removed_extra_nic() -> None:
    assert one(lambda d: d["vcpes"]["vcpe01"]["nics"].pop()) == \
        ("removed", "nic", "vcpe01 eth1", "192.168.129.5 in vxnet03")


def test_readdressed_nic() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vcpes"]["vcpe01"]["nics"][1]["address"] = "192.168.129.9"
    assert one(edit) == ("changed", "nic", "vcpe01 eth1", "in vxnet03: address 192.168.129.5 → 192.168.129.9")


def test_tunnel_type_change() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["tunnels"][0]["type"] = "openvpn"
    (c,) = changes(edit)
    assert (c.op, c.kind, c.subject) == ("changed", "tunnel", "vcpe01-vcpe02")
    assert "type wireguard → openvpn" in c.detail


def test_asn_change() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vcpes"]["vcpe02"]["bgp"]["asn"] = 65012
    assert one(edit) == ("changed", "bgp", "vcpe02", "asn 65002 → 65012")


def test_intent_rule_added() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["intent"]["must_not_reach"] = [{"from": "vm01", "to": "vm03"}]
    assert one(edit) == ("added", "intent", "must_not_reach vm01 → vm03", "new intent rule")


def test_changes_are_ordered_addressing_before_routing() -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["vcpes"]["vcpe02"]["bgp"]["asn"] = 65012
        d["vpcs"]["vpc02"]["vxnets"]["vxnet02"]["description"] = "x"
    assert [c.kind for c in changes(edit)] == ["vxnet", "bgp"]
