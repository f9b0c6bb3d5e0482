"""The two route push mechanisms against the emulator, through the providers as the engine
calls them: rules in the route table already bound to a vxnet (``RouteTableRoutes``) and a
DHCP option per existing instance (``InstanceRoutes``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from netweave.providers.qingcloud import dhcp_routes
from netweave.providers.qingcloud.client import QingCloudError
from netweave.providers.qingcloud.instance_routes import InstanceRoutesProvider
from netweave.providers.qingcloud.route_table import RouteTableRoutesProvider
from netweave.qingcloud_emulator import Emulator

from tests.support.qc_emulator_support import make_instance, ok, wait_job
from tests.support.qingcloud_cloud import ZONE, Made, live, make, router, running_emulator, set_faults, vxnet

ROUTE = {"destination": "172.17.0.0/24", "next_hop": "192.168.129.5"}
OTHER = {"destination": "10.8.0.0/20", "next_hop": "192.168.129.5"}


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    yield from running_emulator(monkeypatch)


@pytest.fixture
def net(cloud: Emulator) -> tuple[str, str]:
    """(router id, vxnet id) of 192.168.129.0/24."""
    rtr = router()
    return rtr.id, vxnet(rtr.id, "192.168.129.0/24", "nw-t-vxnet03").id


def call(cloud: Emulator, action: str, **params: Any) -> dict[str, Any]:
    return ok(cloud.connection(ZONE).send_request(action, params))


def bindings(cloud: Emulator) -> list[tuple[str, str]]:
    answer = call(cloud, "DescribeRoutingTableResources")
    return sorted((i["rtable_id"], i["resource_id"]) for i in answer["resource_user_group_set"])


# --- route table --------------------------------------------------------------------------------

def table_push(vxnet_id: str, routes: list[dict[str, str]]) -> dict[str, object]:
    return {"name": "nw-t-vxnet03-route-table", "vxnet_id": vxnet_id, "routes": routes}


def user_rules(cloud: Emulator) -> list[tuple[str, str, str]]:
    rules = live(cloud, "routing_table_rule")
    return sorted((r["rtable_rule_name"], r["network"], r["nexthop"]) for r in rules)


def test_routes_go_into_the_table_already_bound_to_the_vxnet_and_are_applied(
        cloud: Emulator, net: tuple[str, str]) -> None:
    before = bindings(cloud)
    created = make(RouteTableRoutesProvider(), table_push(net[1], [ROUTE]))
    assert bindings(cloud) == before, "no second binding, no new table"
    [(table, _)] = before
    assert created.id == f"{table}|nw-t-vxnet03-route-table"
    assert user_rules(cloud) == [("nw-t-vxnet03-route-table 172.17.0.0/24", "172.17.0.0/24", "192.168.129.5")]
    [item] = call(cloud, "DescribeRouteTables", routing_tables=[table])["routing_table_set"]
    assert item["is_applied"] == 1
    assert created.outs["bound_vxnets"] == [net[1]] and created.outs["routing_table_id"] == table


def test_a_table_the_user_bound_instead_of_the_default_one_is_used(cloud: Emulator,
                                                                   net: tuple[str, str]) -> None:
    [(default, vxnet_id)] = bindings(cloud)
    custom = call(cloud, "CreateRouteTable", routing_table_type=0, rtable_rtype=2)["routing_table"]
    conn = cloud.connection(ZONE)
    wait_job(conn, call(cloud, "DissociateRouteTable", routing_table=default, resource=vxnet_id)["job_id"])
    wait_job(conn, call(cloud, "AssociateRouteTable", routing_table=custom, resource=vxnet_id)["job_id"])
    assert make(RouteTableRoutesProvider(), table_push(vxnet_id, [ROUTE])).outs["routing_table_id"] == custom


def test_a_route_change_updates_in_place_and_leaves_other_rules_alone(cloud: Emulator,
                                                                      net: tuple[str, str]) -> None:
    [(table, _)] = bindings(cloud)
    call(cloud, "AddRoutes", routing_table=table, rules=[{
        "routing_table_rule_name": "the user's", "network": "10.99.0.0/16", "nexthop": "192.168.129.9",
        "nexthop_type": 3}])
    created = make(RouteTableRoutesProvider(), table_push(net[1], [ROUTE]))
    news = {**created.outs, "routes": [OTHER]}
    assert RouteTableRoutesProvider().diff(created.id, created.outs, news).replaces == []
    RouteTableRoutesProvider().update(created.id, created.outs, news)
    assert user_rules(cloud) == [("nw-t-vxnet03-route-table 10.8.0.0/20", "10.8.0.0/20", "192.168.129.5"),
                                 ("the user's", "10.99.0.0/16", "192.168.129.9")]
    [item] = call(cloud, "DescribeRouteTables", routing_tables=[table])["routing_table_set"]
    assert item["is_applied"] == 1


def test_read_returns_the_routes_this_resource_wrote(cloud: Emulator, net: tuple[str, str]) -> None:
    created = make(RouteTableRoutesProvider(), table_push(net[1], [ROUTE]))
    read = RouteTableRoutesProvider().read(created.id, {"zone": ZONE, "vxnet_id": net[1]})
    assert read.inputs == {"zone": ZONE, "name": "nw-t-vxnet03-route-table", "vxnet_id": net[1],
                           "routes": [ROUTE]}


def test_delete_removes_only_its_rules_and_gone_is_done(cloud: Emulator, net: tuple[str, str]) -> None:
    created = make(RouteTableRoutesProvider(), table_push(net[1], [ROUTE]))
    RouteTableRoutesProvider().delete(created.id, created.outs)
    assert live(cloud, "routing_table_rule") == [] and len(bindings(cloud)) == 1
    RouteTableRoutesProvider().delete(created.id, created.outs)


def test_a_destination_with_host_bits_is_a_check_failure() -> None:
    failures = RouteTableRoutesProvider().check({}, {"zone": ZONE, **table_push("vxnet-1", [
        {"destination": "172.17.0.1/24", "next_hop": "192.168.129.5"}])}).failures
    assert "did you mean 172.17.0.0/24?" in failures[0].reason


# --- per instance (DHCP option) ---------------------------------------------------------------

def instance_push(rtr: str, vxnet_id: str, instance: dict[str, Any],
                  routes: list[dict[str, str]] | None = None,
                  address: str = "192.168.129.3") -> dict[str, object]:
    return {"name": "nw-t-vm03-routes", "host": "vm03", "router_id": rtr, "vxnet_id": vxnet_id,
            "address": address, "instance": instance, "routes": routes or [ROUTE]}


def workload(cloud: Emulator, vxnet_id: str, address: str = "192.168.129.3", name: str = "app03") -> str:
    return make_instance(cloud.connection(ZONE), vxnet_id, address, instance_name=name)


def dhcp_options(cloud: Emulator) -> list[dict[str, Any]]:
    return [s for s in live(cloud, "router_static") if s["static_type"] == 3]


@pytest.mark.parametrize("how", ["address", "name", "id"])
def test_the_instance_gets_a_dhcp_option_with_its_routes_and_the_router_applies_it(
        cloud: Emulator, net: tuple[str, str], how: str) -> None:
    rtr, vxnet_id = net
    instance_id = workload(cloud, vxnet_id)
    ref = {"address": {"address": True}, "name": {"name": "app03"}, "id": {"id": instance_id}}[how]
    created = make(InstanceRoutesProvider(), instance_push(rtr, vxnet_id, ref, [ROUTE, OTHER]))
    [static] = dhcp_options(cloud)
    assert (static["router_static_id"], static["val1"]) == (created.id, instance_id)
    assert static["vxnet_id"] == vxnet_id
    assert static["val2"] == dhcp_routes.encode([("172.17.0.0/24", "192.168.129.5"),
                                                 ("10.8.0.0/20", "192.168.129.5")])
    assert live(cloud, "router")[0]["is_applied"] == 1, "UpdateRouters ran"
    [seen] = call(cloud, "DescribeVxnetInstances", vxnet=vxnet_id)["instance_set"]
    assert seen["dhcp_options"]["router_static_id"] == created.id
    assert created.outs["instance_id"] == instance_id


@pytest.mark.parametrize(("ref", "address", "says"), [
    ({"address": True}, "192.168.129.3", "no instance has the address 192.168.129.3"),
    ({"name": "app99"}, "192.168.129.3", "no instance is named 'app99'"),
    ({"id": "i-00000000"}, "192.168.129.3", "no instance i-00000000"),
])
def test_an_instance_that_is_not_there_is_a_clear_error_and_nothing_is_created(
        cloud: Emulator, net: tuple[str, str], ref: dict[str, Any], address: str, says: str) -> None:
    with pytest.raises(QingCloudError, match="hosts.vm03.instance: " + says):
        make(InstanceRoutesProvider(), instance_push(*net, ref, address=address))
    assert dhcp_options(cloud) == []


def test_two_instances_of_one_name_are_ambiguous(cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1], "192.168.129.3", "app")
    workload(cloud, net[1], "192.168.129.4", "app")
    with pytest.raises(QingCloudError, match="2 instances are named 'app'"):
        make(InstanceRoutesProvider(), instance_push(*net, {"name": "app"}))


def test_an_instance_at_another_address_than_the_topology_says_is_refused(
        cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1], "192.168.129.7", "app03")
    says = r"at 192\.168\.129\.7 .* the topology says vm03 is 192\.168\.129\.3"
    with pytest.raises(QingCloudError, match=says):
        make(InstanceRoutesProvider(), instance_push(*net, {"name": "app03"}))


def test_a_dhcp_option_someone_else_set_for_the_instance_is_not_overwritten(
        cloud: Emulator, net: tuple[str, str]) -> None:
    rtr, vxnet_id = net
    instance_id = workload(cloud, vxnet_id)
    call(cloud, "AddRouterStatics", router=rtr, vxnet=vxnet_id, **{
        "statics.1.static_type": 3, "statics.1.val1": instance_id,
        "statics.1.val2": "domain-name-servers=8.8.8.8"})
    with pytest.raises(QingCloudError, match="already has a DHCP option"):
        make(InstanceRoutesProvider(), instance_push(rtr, vxnet_id, {"address": True}))


def test_a_lost_answer_is_adopted_not_duplicated(cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1])
    set_faults(cloud, lost_response_rate=1.0, actions=("AddRouterStatics",))
    created = make(InstanceRoutesProvider(), instance_push(*net, {"address": True}))
    assert [s["router_static_id"] for s in dhcp_options(cloud)] == [created.id]


def test_a_route_change_replaces_the_option(cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1])
    created = make(InstanceRoutesProvider(), instance_push(*net, {"address": True}))
    news = {**created.outs, "routes": [OTHER]}
    diff = InstanceRoutesProvider().diff(created.id, created.outs, news)
    assert diff.replaces == ["routes"] and diff.delete_before_replace


def test_read_decodes_the_routes_from_val2(cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1])
    created = make(InstanceRoutesProvider(), instance_push(*net, {"address": True}))
    read = InstanceRoutesProvider().read(created.id, dict(created.outs))
    assert read.outs["routes"] == [ROUTE] and read.id == created.id


def test_delete_removes_the_option_applies_and_gone_is_done(cloud: Emulator, net: tuple[str, str]) -> None:
    workload(cloud, net[1])
    created: Made = make(InstanceRoutesProvider(), instance_push(*net, {"address": True}))
    InstanceRoutesProvider().delete(created.id, created.outs)
    assert dhcp_options(cloud) == [] and live(cloud, "router")[0]["is_applied"] == 1
    InstanceRoutesProvider().delete(created.id, created.outs)


@pytest.mark.parametrize(("change", "prop"), [
    ({"routes": []}, "routes"), ({"instance": {"name": "a", "id": "i-12345678"}}, "instance"),
    ({"address": "192.168.129"}, "address")])
def test_bad_inputs_are_check_failures(change: dict[str, Any], prop: str) -> None:
    props = {"zone": ZONE, **instance_push("rtr-1", "vxnet-1", {"address": True}), **change}
    assert prop in [f.property for f in InstanceRoutesProvider().check({}, props).failures]
