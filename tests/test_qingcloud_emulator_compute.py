"""Instances, NICs, EIPs, security groups, tags and user data through the real SDK client."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from netweave.qingcloud_emulator import Emulator

from tests.support.qc_emulator_support import (
    ZONE,
    b64,
    make_instance,
    make_router,
    make_vxnet,
    ok,
    started,
    tar_archive,
    wait_job,
)


@pytest.fixture
def vxnet(conn: Any) -> str:
    return make_vxnet(conn, make_router(conn), "192.168.1.0/24")


@pytest.fixture
def slow_boot() -> Iterator[tuple[Any, str]]:
    """An emulator whose instances take 30 s to boot: (connection, joined vxnet)."""
    emulator = started(job_overrides={"RunInstances": 30.0})
    conn = emulator.connection(ZONE, retry_time=1)
    yield conn, make_vxnet(conn, make_router(conn), "192.168.1.0/24")
    emulator.stop()


# ---- instances -------------------------------------------------------------------------------
def test_run_instances_with_a_fixed_ip_describes_it(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet, "192.168.1.10", instance_name="vcpe01")
    inst = ok(conn.describe_instances(instances=[iid], verbose=1))["instance_set"][0]
    assert (inst["status"], inst["transition_status"], inst["instance_name"]) == ("running", "", "vcpe01")
    assert [(v["vxnet_id"], v["private_ip"]) for v in inst["vxnets"]] == [(vxnet, "192.168.1.10")]
    for field in ("instance_id", "instance_type", "vcpus_current", "memory_current", "create_time",
                  "status_time", "image", "eip", "security_group", "keypair_ids"):
        assert field in inst, field


def test_an_instance_without_a_fixed_ip_gets_the_first_free_dhcp_address(conn: Any, vxnet: str) -> None:
    make_instance(conn, vxnet, "192.168.1.2")
    iid = make_instance(conn, vxnet)
    inst = conn.describe_instances(instances=[iid])["instance_set"][0]
    assert inst["vxnets"][0]["private_ip"] == "192.168.1.3"


def test_a_fixed_ip_outside_the_vxnet_is_refused(conn: Any, vxnet: str) -> None:
    answer = conn.run_instances(image_id="img", instance_type="c1m1", login_mode="passwd",
                                login_passwd="x", vxnets=[f"{vxnet}|192.168.2.10"])
    assert answer["ret_code"] == 1100


def test_a_fixed_ip_in_use_is_refused(conn: Any, vxnet: str) -> None:
    make_instance(conn, vxnet, "192.168.1.10")
    answer = conn.run_instances(image_id="img", instance_type="c1m1", login_mode="passwd",
                                login_passwd="x", vxnets=[f"{vxnet}|192.168.1.10"])
    assert answer["ret_code"] == 1400 and "in use" in answer["message"]


def test_the_router_address_is_not_free(conn: Any, vxnet: str) -> None:
    assert conn.create_nics(vxnet=vxnet, private_ips=["192.168.1.1"])["ret_code"] == 1400


def test_terminate_leaves_the_instance_terminated_and_frees_its_address(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet, "192.168.1.10")
    job = ok(conn.terminate_instances(instances=[iid]))["job_id"]
    assert conn.describe_instances(instances=[iid])["instance_set"][0]["transition_status"] == "terminating"
    wait_job(conn, job)
    assert conn.describe_instances(instances=[iid])["instance_set"][0]["status"] == "terminated"
    make_instance(conn, vxnet, "192.168.1.10")


def test_terminate_is_refused_while_the_instance_is_creating(slow_boot: tuple[Any, str]) -> None:
    conn, vxnet = slow_boot
    iid = make_instance(conn, vxnet, wait=False)
    answer = conn.terminate_instances(instances=[iid])
    assert answer["ret_code"] == 1400 and "creating" in answer["message"]


def test_a_vxnet_with_an_instance_cannot_be_deleted(conn: Any, vxnet: str) -> None:
    make_instance(conn, vxnet)
    assert conn.delete_vxnets(vxnets=[vxnet])["ret_code"] == 1400


# ---- NICs -------------------------------------------------------------------------------------
def test_a_nic_id_is_a_mac_address_and_works_percent_encoded(conn: Any, vxnet: str) -> None:
    nic = ok(conn.create_nics(vxnet=vxnet, nic_name="eth1", private_ips=["192.168.1.20"]))["nics"][0]
    assert len(nic["nic_id"].split(":")) == 6 and urllib.parse.quote(nic["nic_id"], safe="") != nic["nic_id"]
    found = ok(conn.describe_nics(nics=[nic["nic_id"]]))["nic_set"][0]
    assert (found["nic_id"], found["private_ip"], found["status"]) == (nic["nic_id"], "192.168.1.20",
                                                                       "available")


def test_attach_and_detach_a_nic(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    wait_job(conn, ok(conn.attach_nics(nics=[nic_id], instance=iid))["job_id"])
    nic = conn.describe_nics(nics=[nic_id])["nic_set"][0]
    assert (nic["status"], nic["instance_id"], nic["role"]) == ("in-use", iid, 0)
    inst = conn.describe_instances(instances=[iid])["instance_set"][0]
    assert nic_id in [v["nic_id"] for v in inst["vxnets"]]
    wait_job(conn, ok(conn.detach_nics(nics=[nic_id]))["job_id"])
    assert conn.describe_nics(nics=[nic_id])["nic_set"][0]["status"] == "available"


def test_attach_needs_a_running_instance(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    wait_job(conn, ok(conn.stop_instances(instances=[iid]))["job_id"])
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    answer = conn.attach_nics(nics=[nic_id], instance=iid)
    assert answer["ret_code"] == 1400 and "running" in answer["message"]


def test_attach_is_refused_while_the_instance_is_creating(slow_boot: tuple[Any, str]) -> None:
    conn, vxnet = slow_boot
    iid = make_instance(conn, vxnet, wait=False)
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    assert conn.attach_nics(nics=[nic_id], instance=iid)["ret_code"] == 1400


def test_an_attached_nic_cannot_be_deleted(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    wait_job(conn, ok(conn.attach_nics(nics=[nic_id], instance=iid))["job_id"])
    answer = conn.delete_nics(nics=[nic_id])
    assert answer["ret_code"] == 1400 and "detach" in answer["message"]


def test_the_primary_nic_cannot_be_detached(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    primary = conn.describe_instances(instances=[iid])["instance_set"][0]["vxnets"][0]["nic_id"]
    assert conn.detach_nics(nics=[primary])["ret_code"] == 1400


def test_at_most_64_nics_per_instance(conn: Any, emu: Emulator) -> None:
    router_id = make_router(conn)
    vxnet = make_vxnet(conn, router_id, "192.168.0.0/20")
    iid = make_instance(conn, vxnet)
    nics = [n["nic_id"] for n in ok(conn.create_nics(vxnet=vxnet, count=64))["nics"]]
    wait_job(conn, ok(conn.attach_nics(nics=nics[:63], instance=iid))["job_id"])
    answer = conn.attach_nics(nics=nics[63:], instance=iid)
    assert answer["ret_code"] == 1400 and "64" in answer["message"]


def test_extra_nics_survive_their_instance_detached(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    wait_job(conn, ok(conn.attach_nics(nics=[nic_id], instance=iid))["job_id"])
    wait_job(conn, ok(conn.terminate_instances(instances=[iid]))["job_id"])
    assert conn.describe_nics(nics=[nic_id])["nic_set"][0]["status"] == "available"


def test_modify_nic_attributes_changes_name_and_ip_of_a_detached_nic(conn: Any, vxnet: str) -> None:
    nic_id = ok(conn.create_nics(vxnet=vxnet))["nics"][0]["nic_id"]
    ok(conn.modify_nic_attributes(nic=nic_id, nic_name="eth9", private_ip="192.168.1.99"))
    nic = conn.describe_nics(nics=[nic_id])["nic_set"][0]
    assert (nic["nic_name"], nic["private_ip"]) == ("eth9", "192.168.1.99")


# ---- EIPs -------------------------------------------------------------------------------------
def test_eip_allocate_associate_dissociate_release(conn: Any, vxnet: str) -> None:
    iid = make_instance(conn, vxnet)
    eip_id = ok(conn.allocate_eips(bandwidth=10, billing_mode="traffic", eip_name="vcpe01"))["eips"][0]
    eip = conn.describe_eips(eips=[eip_id])["eip_set"][0]
    assert eip["status"] == "available" and eip["eip_addr"].startswith("198.19.")
    wait_job(conn, ok(conn.associate_eip(eip=eip_id, instance=iid))["job_id"])
    eip = conn.describe_eips(eips=[eip_id])["eip_set"][0]
    assert eip["status"] == "associated" and eip["resource"]["resource_id"] == iid
    assert conn.describe_instances(instances=[iid])["instance_set"][0]["eip"]["eip_id"] == eip_id
    assert conn.release_eips(eips=[eip_id])["ret_code"] == 1400
    wait_job(conn, ok(conn.dissociate_eips(eips=[eip_id]))["job_id"])
    wait_job(conn, ok(conn.release_eips(eips=[eip_id]))["job_id"])
    assert conn.describe_eips(eips=[eip_id])["eip_set"][0]["status"] == "released"


def test_an_eip_on_a_router_needs_update_routers(conn: Any) -> None:
    router_id = make_router(conn)
    eip_id = ok(conn.allocate_eips(bandwidth=5))["eips"][0]
    ok(conn.modify_router_attributes(router=router_id, eip=eip_id))
    router = conn.describe_routers(routers=[router_id])["router_set"][0]
    assert router["eip"]["eip_id"] == eip_id and router["is_applied"] == 0


# ---- security groups ---------------------------------------------------------------------------
def test_security_group_rules_apply_and_delete(conn: Any, vxnet: str) -> None:
    sg = ok(conn.create_security_group(security_group_name="vcpe"))["security_group_id"]
    rules = ok(conn.add_security_group_rules(security_group=sg, rules=[
        {"protocol": "udp", "priority": 1, "action": "accept", "direction": 0,
         "val1": "51820", "val2": "51820"}]))
    rule_id = rules["security_group_rules"][0]
    assert conn.describe_security_groups(security_groups=[sg])["security_group_set"][0]["is_applied"] == 0
    item = conn.describe_security_group_rules(security_group=sg)["security_group_rule_set"][0]
    assert (item["security_group_rule_id"], item["protocol"], item["val1"]) == (rule_id, "udp", "51820")
    iid = make_instance(conn, vxnet)
    wait_job(conn, ok(conn.apply_security_group(security_group=sg, instances=[iid]))["job_id"])
    assert conn.describe_security_groups(security_groups=[sg])["security_group_set"][0]["is_applied"] == 1
    assert conn.delete_security_groups(security_groups=[sg])["ret_code"] == 1400
    ok(conn.delete_security_group_rules(security_group_rules=[rule_id]))
    wait_job(conn, ok(conn.terminate_instances(instances=[iid]))["job_id"])
    assert ok(conn.delete_security_groups(security_groups=[sg]))["security_groups"] == [sg]


# ---- tags ---------------------------------------------------------------------------------------
def test_tags_attach_filter_detach_delete(conn: Any, vxnet: str) -> None:
    tag = ok(conn.create_tag(tag_name="netweave:s1/vxnet01"))["tag_id"]
    ok(conn.attach_tags(resource_tag_pairs=[{"tag_id": tag, "resource_type": "vxnet", "resource_id": vxnet}]))
    found = conn.describe_vxnets(tags=[tag])["vxnet_set"]
    assert [v["vxnet_id"] for v in found] == [vxnet] and found[0]["tags"][0]["tag_id"] == tag
    assert conn.describe_tags(tags=[tag], verbose=1)["tag_set"][0]["resource_count"] == 1
    ok(conn.detach_tags(resource_tag_pairs=[{"tag_id": tag, "resource_type": "vxnet", "resource_id": vxnet}]))
    assert conn.describe_vxnets(tags=[tag])["total_count"] == 0
    assert ok(conn.delete_tags(tags=[tag]))["tags"] == [tag]


# ---- user data ------------------------------------------------------------------------------------
def test_plain_user_data_up_to_4_kb_of_base64_is_accepted(conn: Any, vxnet: str, emu: Emulator) -> None:
    value = base64.b64encode(b"x" * 3000).decode()
    assert len(value) == 4000
    make_instance(conn, vxnet, need_userdata=1, userdata_type="exec", userdata_value=value)
    assert emu.snapshot()["instance"][0]["userdata"]["size"] == 3000


def test_plain_user_data_over_4_kb_is_refused_with_a_hint(conn: Any, vxnet: str) -> None:
    value = base64.b64encode(b"x" * 3100).decode()
    answer = conn.run_instances(image_id="img", instance_type="c1m1", login_mode="passwd", login_passwd="x",
                                vxnets=[vxnet], need_userdata=1, userdata_type="plain", userdata_value=value)
    assert answer["ret_code"] == 1100 and "tar attachment" in answer["message"]


def test_a_tar_attachment_is_delivered_by_id(conn: Any, vxnet: str, emu: Emulator) -> None:
    archive = tar_archive({"etc/frr/frr.conf": b"router bgp 65001\n"})
    attachment = ok(conn.upload_userdata(attachment_content=b64(archive)))["attachment_id"]
    make_instance(conn, vxnet, need_userdata=1, userdata_type="tar", userdata_value=attachment)
    assert emu.snapshot()["instance"][0]["userdata"] == {
        "type": "tar", "size": len(archive), "sha256": emu.snapshot()["attachment"][0]["sha256"]}


def test_an_attachment_over_2_mb_is_refused(conn: Any) -> None:
    archive = tar_archive({"big": bytes(range(256)) * (9 * 1024)})  # incompressible enough? no: pad below
    big = archive + b"\0" * (2 * 1024 * 1024 + 1 - len(archive))
    answer = conn.upload_userdata(attachment_content=b64(big))
    assert answer["ret_code"] == 1100 and "2 MB" in answer["message"]


def test_an_attachment_that_is_not_an_archive_is_refused(conn: Any) -> None:
    assert conn.upload_userdata(attachment_content=b64(b"#!/bin/sh\necho hi\n"))["ret_code"] == 1100


def test_a_tar_user_data_with_an_unknown_attachment_is_2100(conn: Any, vxnet: str) -> None:
    answer = conn.run_instances(image_id="img", instance_type="c1m1", login_mode="passwd", login_passwd="x",
                                vxnets=[vxnet], need_userdata=1, userdata_type="tar",
                                userdata_value="uda-nothere")
    assert answer["ret_code"] == 2100


def test_an_empty_eip_unbinds_the_router_eip(conn: Any) -> None:
    router_id = make_router(conn)
    eip_id = ok(conn.allocate_eips(bandwidth=5))["eips"][0]
    ok(conn.modify_router_attributes(router=router_id, eip=eip_id))
    ok(conn.send_request("ModifyRouterAttributes", {"router": router_id, "eip": ""}))
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["eip"]["eip_id"] == ""
    assert conn.describe_eips(eips=[eip_id])["eip_set"][0]["status"] == "available"
