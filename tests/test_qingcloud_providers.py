"""Each QingCloud provider against the emulator: create, read, update, diff/replace, delete,
import, not-found on delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from netweave.providers.qingcloud.eip import EipAssociationProvider, EipProvider
from netweave.providers.qingcloud.instance import InstanceProvider
from netweave.providers.qingcloud.instance_routes import InstanceRoutesProvider
from netweave.providers.qingcloud.nic import NicProvider
from netweave.providers.qingcloud.route_table import RouteTableRoutesProvider
from netweave.providers.qingcloud.security_group import SecurityGroupProvider
from netweave.providers.qingcloud.vpc import VpcProvider
from netweave.providers.qingcloud.vxnet import VxnetProvider
from netweave.qingcloud_emulator import Emulator

from tests.support.qingcloud_cloud import (
    ZONE,
    group,
    instance,
    instance_props,
    live,
    make,
    router,
    running_emulator,
    vxnet,
)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    yield from running_emulator(monkeypatch)

UDP_TUNNEL = {"protocol": "udp", "priority": 50, "action": "accept", "direction": 0,
              "val1": "51820", "val2": "51899", "val3": "0.0.0.0/0"}
ICMP = {"protocol": "icmp", "priority": 50, "action": "accept", "direction": 0,
        "val1": None, "val2": None, "val3": "0.0.0.0/0"}


# --- VPC (router) ------------------------------------------------------------------------------

def test_vpc_create_returns_an_active_router_with_its_network(cloud: Emulator) -> None:
    created = router()
    assert created.outs["status"] == "active"
    [found] = live(cloud, "router")
    assert (found["router_id"], found["vpc_network"]) == (created.id, "192.168.0.0/16")


def test_vpc_rename_is_applied_in_place(cloud: Emulator) -> None:
    created = router()
    provider = VpcProvider()
    news = {**created.outs, "name": "nw-t-renamed"}
    assert provider.diff(created.id, created.outs, news).replaces == []
    provider.update(created.id, created.outs, news)
    assert live(cloud, "router")[0]["router_name"] == "nw-t-renamed"
    assert live(cloud, "router")[0]["is_applied"] == 1


def test_vpc_network_change_is_a_delete_before_replace(cloud: Emulator) -> None:
    created = router()
    diff = VpcProvider().diff(created.id, created.outs, {**created.outs, "vpc_network": "172.18.0.0/16"})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["vpc_network"], True)


def test_vpc_unchanged_inputs_diff_to_nothing(cloud: Emulator) -> None:
    created = router()
    diff = VpcProvider().diff(created.id, created.outs, dict(created.outs))
    assert (diff.changes, diff.replaces) == (False, [])


def test_vpc_check_refuses_a_network_outside_qingcloud_vpc_ranges() -> None:
    failures = VpcProvider().check({}, {"zone": ZONE, "name": "n", "vpc_network": "10.0.0.0/16"}).failures
    assert [f.property for f in failures] == ["vpc_network"]
    assert "172.16.0.0/12" in failures[0].reason


def test_vpc_import_rebuilds_the_inputs_from_the_cloud(cloud: Emulator) -> None:
    created = router()
    read = VpcProvider().read(created.id, {"zone": ZONE})
    assert read.id == created.id and read.inputs is not None
    assert {k: read.inputs[k] for k in ("name", "vpc_network", "router_type")} == {
        "name": "nw-t-vpc01", "vpc_network": "192.168.0.0/16", "router_type": 1}


def test_vpc_default_security_group_from_the_cloud_is_no_drift(cloud: Emulator) -> None:
    created = router()
    refreshed = VpcProvider().read(created.id, created.outs)
    assert refreshed.outs and refreshed.inputs and refreshed.inputs["security_group_id"]
    news = {**created.outs, "security_group_id": None}  # what the program declares
    assert VpcProvider().diff(created.id, {**created.outs, **refreshed.inputs}, news).changes is False


def test_vpc_delete_removes_the_router_and_a_second_delete_is_done(cloud: Emulator) -> None:
    created = router()
    VpcProvider().delete(created.id, created.outs)
    assert live(cloud, "router") == []
    VpcProvider().delete(created.id, created.outs)  # not found: done


def test_vpc_read_of_a_deleted_router_reports_it_gone(cloud: Emulator) -> None:
    created = router()
    VpcProvider().delete(created.id, created.outs)
    assert VpcProvider().read(created.id, created.outs).id == ""


def test_vpc_create_adopts_a_router_that_already_has_the_name(cloud: Emulator) -> None:
    first = router()
    again = router()
    assert again.id == first.id and len(live(cloud, "router")) == 1


# --- vxnet ----------------------------------------------------------------------------------------

def test_vxnet_create_joins_the_router_with_its_network_and_gateway(cloud: Emulator) -> None:
    rtr = router()
    created = vxnet(rtr.id)
    [found] = live(cloud, "vxnet")
    assert found["vpc_router_id"] == rtr.id
    assert (found["router"]["ip_network"], found["router"]["manager_ip"]) == ("192.168.128.0/24",
                                                                            "192.168.128.1")
    assert created.outs["vxnet_id"] == created.id


def test_vxnet_network_change_replaces_and_rename_updates(cloud: Emulator) -> None:
    created = vxnet(router().id)
    provider = VxnetProvider()
    assert provider.diff(created.id, created.outs,
                         {**created.outs, "ip_network": "192.168.130.0/24"}).replaces == ["ip_network"]
    provider.update(created.id, created.outs, {**created.outs, "name": "nw-t-other"})
    assert live(cloud, "vxnet")[0]["vxnet_name"] == "nw-t-other"


def test_vxnet_check_refuses_host_bits_with_a_hint() -> None:
    failures = VxnetProvider().check({}, {"zone": ZONE, "name": "n", "router_id": "rtr-1",
                                          "ip_network": "192.168.128.5/24"}).failures
    assert failures[0].reason.endswith("did you mean 192.168.128.0/24?")


def test_vxnet_delete_leaves_the_router_first(cloud: Emulator) -> None:
    rtr = router()
    created = vxnet(rtr.id)
    VxnetProvider().delete(created.id, created.outs)
    assert live(cloud, "vxnet") == []
    VpcProvider().delete(rtr.id, rtr.outs)  # the router is free again
    assert live(cloud, "router") == []


def test_vxnet_import_reads_router_and_network(cloud: Emulator) -> None:
    rtr = router()
    created = vxnet(rtr.id)
    read = VxnetProvider().read(created.id, {"zone": ZONE})
    assert read.inputs == {"zone": ZONE, "name": "nw-t-vxnet01", "router_id": rtr.id,
                           "ip_network": "192.168.128.0/24", "manager_ip": "192.168.128.1"}


def test_vxnet_adoption_joins_an_unjoined_vxnet_instead_of_creating_another(cloud: Emulator) -> None:
    rtr = router()
    conn = cloud.connection(ZONE)
    orphan = conn.create_vxnets(vxnet_name="nw-t-vxnet01")["vxnets"][0]  # a crash before JoinRouter
    created = vxnet(rtr.id)
    assert created.id == orphan
    assert [v["vpc_router_id"] for v in live(cloud, "vxnet")] == [rtr.id]


# --- instance ---------------------------------------------------------------------------------------

def test_instance_runs_with_its_fixed_address_and_tar_user_data(cloud: Emulator) -> None:
    net = vxnet(router().id)
    created = instance(net.id, security_group_id=group().id)
    [found] = live(cloud, "instance")
    assert found["status"] == "running"
    assert found["vxnets"][0]["private_ip"] == "192.168.128.2"
    assert found["userdata"]["type"] == "tar"
    assert "userdata" not in created.outs, "state keeps the user data hash only"
    assert len(created.outs["userdata_sha256"]) == 64


def test_instance_ignores_a_later_boot_configuration_change(cloud: Emulator) -> None:
    # user data is the first boot only; later changes travel in place (HostConfig)
    created = instance(vxnet(router().id).id)
    news = {**created.outs, "userdata": {"/etc/netweave/boot": "v2\n"}}
    diff = InstanceProvider().diff(created.id, created.outs, news)
    assert (diff.changes, diff.replaces) == (False, [])


def test_instance_image_change_replaces_it(cloud: Emulator) -> None:
    created = instance(vxnet(router().id).id)
    news = {**created.outs, "image_id": "ubuntu2404x64"}
    diff = InstanceProvider().diff(created.id, created.outs, news)
    assert diff.replaces == ["image_id"] and diff.delete_before_replace


def test_instance_security_group_change_is_applied_in_place(cloud: Emulator) -> None:
    net = vxnet(router().id)
    created = instance(net.id, security_group_id=group().id)
    other = group("nw-t-sg2")
    news = {**instance_props(net.id), "zone": ZONE, "security_group_id": other.id}
    assert InstanceProvider().diff(created.id, created.outs, news).replaces == []
    InstanceProvider().update(created.id, created.outs, news)
    assert live(cloud, "instance")[0]["security_group"]["security_group_id"] == other.id


def test_instance_delete_terminates_and_not_found_is_done(cloud: Emulator) -> None:
    created = instance(vxnet(router().id).id)
    InstanceProvider().delete(created.id, created.outs)
    assert live(cloud, "instance") == []
    InstanceProvider().delete(created.id, created.outs)


def test_instance_import_reads_image_type_and_primary_address(cloud: Emulator) -> None:
    net = vxnet(router().id)
    created = instance(net.id)
    read = InstanceProvider().read(created.id, {"zone": ZONE})
    assert read.inputs is not None
    assert {k: read.inputs[k] for k in ("image_id", "instance_type", "vxnet_id", "private_ip",
                                        "login_keypair")} == {
        "image_id": "img-debian12", "instance_type": "c1m1", "vxnet_id": net.id,
        "private_ip": "192.168.128.2", "login_keypair": "kp-test"}


def test_instance_without_a_key_pair_is_a_check_failure() -> None:
    props = {**instance_props("vxnet-1"), "zone": ZONE, "login_keypair": None}
    failures = InstanceProvider().check({}, props).failures
    assert "netweave:qingcloudLoginKeypair" in failures[-1].reason


# --- NIC -------------------------------------------------------------------------------------------

def test_nic_gets_its_fixed_address_and_attaches_to_the_instance(cloud: Emulator) -> None:
    rtr = router()
    vm = instance(vxnet(rtr.id).id)
    extra = vxnet(rtr.id, "192.168.129.0/24", "nw-t-vxnet03")
    created = make(NicProvider(), {"name": "nw-t-nic1", "vxnet_id": extra.id,
                                   "private_ip": "192.168.129.5", "instance_id": vm.id})
    found = next(n for n in live(cloud, "nic") if n["nic_id"] == created.id)
    assert (found["private_ip"], found["instance_id"]) == ("192.168.129.5", vm.id)


def test_nic_detaches_when_the_instance_goes_away_from_its_inputs(cloud: Emulator) -> None:
    rtr = router()
    vm = instance(vxnet(rtr.id).id)
    extra = vxnet(rtr.id, "192.168.129.0/24", "nw-t-vxnet03")
    created = make(NicProvider(), {"name": "nw-t-nic1", "vxnet_id": extra.id,
                                   "private_ip": "192.168.129.5", "instance_id": vm.id})
    news = {**created.outs, "instance_id": None}
    assert NicProvider().diff(created.id, created.outs, news).replaces == []
    NicProvider().update(created.id, created.outs, news)
    assert not next(n for n in live(cloud, "nic") if n["nic_id"] == created.id)["instance_id"]


def test_nic_address_change_replaces_it(cloud: Emulator) -> None:
    diff = NicProvider().diff("52:54:00:00:00:01", {"zone": ZONE, "name": "n", "vxnet_id": "v",
                                                    "private_ip": "192.168.129.5"},
                              {"zone": ZONE, "name": "n", "vxnet_id": "v", "private_ip": "192.168.129.6"})
    assert diff.replaces == ["private_ip"]


def test_nic_delete_detaches_first_and_not_found_is_done(cloud: Emulator) -> None:
    rtr = router()
    vm = instance(vxnet(rtr.id).id)
    extra = vxnet(rtr.id, "192.168.129.0/24", "nw-t-vxnet03")
    created = make(NicProvider(), {"name": "nw-t-nic1", "vxnet_id": extra.id,
                                   "private_ip": "192.168.129.5", "instance_id": vm.id})
    NicProvider().delete(created.id, created.outs)
    assert created.id not in {n["nic_id"] for n in live(cloud, "nic")}
    NicProvider().delete(created.id, created.outs)


def test_nic_import_reads_vxnet_address_and_instance(cloud: Emulator) -> None:
    rtr = router()
    vm = instance(vxnet(rtr.id).id)
    extra = vxnet(rtr.id, "192.168.129.0/24", "nw-t-vxnet03")
    created = make(NicProvider(), {"name": "nw-t-nic1", "vxnet_id": extra.id,
                                   "private_ip": "192.168.129.5", "instance_id": vm.id})
    assert NicProvider().read(created.id, {"zone": ZONE}).inputs == {
        "zone": ZONE, "name": "nw-t-nic1", "vxnet_id": extra.id, "private_ip": "192.168.129.5",
        "instance_id": vm.id}


# --- EIP --------------------------------------------------------------------------------------------

def test_eip_allocates_an_address_and_bandwidth_updates_in_place(cloud: Emulator) -> None:
    created = make(EipProvider(), {"name": "nw-t-eip"})
    assert created.outs["eip_addr"]
    news = {**created.outs, "bandwidth": 20}
    assert EipProvider().diff(created.id, created.outs, news).replaces == []
    EipProvider().update(created.id, created.outs, news)
    assert live(cloud, "eip")[0]["bandwidth"] == 20


def test_eip_association_binds_the_address_to_the_instance(cloud: Emulator) -> None:
    vm = instance(vxnet(router().id).id)
    eip = make(EipProvider(), {"name": "nw-t-eip"})
    bound = make(EipAssociationProvider(), {"eip_id": eip.id, "instance_id": vm.id})
    assert bound.id == f"{eip.id}|{vm.id}"
    assert live(cloud, "eip")[0]["resource"]["resource_id"] == vm.id
    EipAssociationProvider().delete(bound.id, bound.outs)
    assert EipAssociationProvider().read(bound.id, bound.outs).id == ""
    EipAssociationProvider().delete(bound.id, bound.outs)  # not associated any more: done


def test_eip_release_dissociates_first_and_not_found_is_done(cloud: Emulator) -> None:
    vm = instance(vxnet(router().id).id)
    eip = make(EipProvider(), {"name": "nw-t-eip"})
    make(EipAssociationProvider(), {"eip_id": eip.id, "instance_id": vm.id})
    EipProvider().delete(eip.id, eip.outs)
    assert live(cloud, "eip") == []
    EipProvider().delete(eip.id, eip.outs)


def test_eip_import_reads_name_and_bandwidth(cloud: Emulator) -> None:
    eip = make(EipProvider(), {"name": "nw-t-eip", "bandwidth": 5})
    assert EipProvider().read(eip.id, {"zone": ZONE}).inputs == {
        "zone": ZONE, "name": "nw-t-eip", "bandwidth": 5, "billing_mode": "traffic"}


# --- security group ---------------------------------------------------------------------------------

def test_security_group_rules_are_added_and_applied(cloud: Emulator) -> None:
    created = group(rules=[UDP_TUNNEL])
    [found] = live(cloud, "security_group")
    assert found["is_applied"] == 1
    assert created.outs["security_group_id"] == created.id
    assert len(live(cloud, "security_group_rule")) == 1


def test_security_group_rule_change_syncs_the_rules_in_place(cloud: Emulator) -> None:
    created = group(rules=[UDP_TUNNEL])
    news = {**created.outs, "rules": [ICMP]}
    assert SecurityGroupProvider().diff(created.id, created.outs, news).replaces == []
    SecurityGroupProvider().update(created.id, created.outs, news)
    [rule] = live(cloud, "security_group_rule")
    assert rule["protocol"] == "icmp"
    assert live(cloud, "security_group")[0]["is_applied"] == 1


def test_security_group_import_reads_its_rules(cloud: Emulator) -> None:
    created = group(rules=[UDP_TUNNEL])
    read = SecurityGroupProvider().read(created.id, {"zone": ZONE})
    assert read.inputs is not None
    assert read.inputs["rules"][0]["val1"] in ("51820", 51820)


def test_security_group_check_refuses_a_bad_rule() -> None:
    failures = SecurityGroupProvider().check({}, {"zone": ZONE, "name": "n",
                                                  "rules": [{**UDP_TUNNEL, "protocol": "sctp"}]}).failures
    assert "rules[0].protocol" in failures[0].reason


def test_security_group_delete_and_not_found_is_done(cloud: Emulator) -> None:
    created = group()
    SecurityGroupProvider().delete(created.id, created.outs)
    assert live(cloud, "security_group") == []
    SecurityGroupProvider().delete(created.id, created.outs)


@pytest.mark.parametrize("provider", [VpcProvider(), VxnetProvider(), NicProvider(), InstanceProvider(),
                                      EipProvider(), SecurityGroupProvider(), RouteTableRoutesProvider(),
                                      InstanceRoutesProvider()],
                         ids=lambda p: type(p).__name__)
def test_delete_of_an_id_the_cloud_never_had_is_done(cloud: Emulator, provider: object) -> None:
    provider.delete("x-doesnotexist", {"zone": ZONE})  # type: ignore[attr-defined]
