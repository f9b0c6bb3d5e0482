"""Routers (VPCs), vxnets, router statics and route tables through the real SDK client:
documented response shapes, jobs, and the constraints the cloud enforces."""

from __future__ import annotations

import time
from typing import Any

from netweave.qingcloud_emulator import Emulator

from tests.support.qc_emulator_support import ZONE, make_router, make_vxnet, ok, wait_job


# ---- routers -------------------------------------------------------------------------------
def test_create_routers_answers_routers_and_a_job(conn: Any) -> None:
    answer = ok(conn.create_routers(router_name="vpc01", vpc_network="172.16.0.0/16"))
    assert answer["action"] == "CreateRoutersResponse"
    assert answer["routers"][0].startswith("rtr-") and answer["job_id"].startswith("j-")


def test_a_new_router_is_pending_creating_until_its_job_ends(conn: Any) -> None:
    answer = ok(conn.create_routers(router_name="vpc01"))
    router = conn.describe_routers(routers=answer["routers"])["router_set"][0]
    assert (router["status"], router["transition_status"]) == ("pending", "creating")
    wait_job(conn, answer["job_id"])
    router = conn.describe_routers(routers=answer["routers"])["router_set"][0]
    assert (router["status"], router["transition_status"]) == ("active", "")


def test_describe_routers_has_the_documented_fields(conn: Any) -> None:
    router_id = make_router(conn, "172.20.0.0/16")
    router = ok(conn.describe_routers(routers=[router_id], verbose=1))["router_set"][0]
    for field in ("router_id", "router_name", "description", "router_type", "private_ip", "is_applied",
                  "status", "transition_status", "create_time", "status_time", "security_group_id",
                  "eip", "vxnets", "vpc_network"):
        assert field in router, field
    assert router["vpc_network"] == "172.20.0.0/16" and router["is_applied"] == 1


def test_a_vpc_network_outside_the_allowed_ranges_is_refused(conn: Any) -> None:
    assert conn.create_routers(vpc_network="10.0.0.0/16")["ret_code"] == 1100


def test_job_status_goes_pending_working_successful_with_the_documented_fields() -> None:
    with Emulator(job_seconds=0.5, seed=1) as emu:
        conn = emu.connection(ZONE)
        job_id = ok(conn.create_routers(router_name="r"))["job_id"]
        seen = []
        while not seen or seen[-1] not in ("successful", "failed"):
            job = conn.describe_jobs(jobs=[job_id])["job_set"][0]
            if not seen or seen[-1] != job["status"]:
                seen.append(job["status"])
            time.sleep(0.02)
    assert seen == ["pending", "working", "successful"]
    assert set(job) >= {"job_id", "job_action", "status", "resource_ids", "create_time", "status_time"}
    assert job["job_action"] == "CreateRouters"


def test_a_router_is_refused_modification_while_it_is_creating(conn: Any) -> None:
    router_id = ok(conn.create_routers(router_name="r"))["routers"][0]
    answer = conn.modify_router_attributes(router=router_id, router_name="renamed")
    assert answer["ret_code"] == 1400 and "creating" in answer["message"]


def test_delete_is_refused_during_the_lease_window() -> None:
    with Emulator(job_seconds=0.0, lease_seconds=30, seed=1) as emu:
        conn = emu.connection(ZONE)
        vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
        answer = conn.delete_vxnets(vxnets=[vxnet_id])
    assert answer["ret_code"] == 1400 and "lease" in answer["message"]


def test_update_routers_applies_pending_statics(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    statics = ok(conn.send_request("AddRouterStatics", {
        "router": router_id, "vxnet": vxnet_id, "statics.1.static_type": 8,
        "statics.1.val1": "node1", "statics.1.val2": "192.168.1.2"}))
    assert statics["router_statics"][0].startswith("rtrs-")
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["is_applied"] == 0
    job = ok(conn.update_routers(routers=[router_id]))["job_id"]
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["transition_status"] == "updating"
    wait_job(conn, job)
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["is_applied"] == 1


def test_describe_router_statics_shows_the_static_fields(conn: Any) -> None:
    router_id = make_router(conn)
    ok(conn.add_router_statics(router=router_id, statics=[
        {"static_type": 1, "val1": "8080", "val2": "192.168.1.12", "val3": "80", "val4": "tcp"}]))
    item = ok(conn.describe_router_statics(router=router_id))["router_static_set"][0]
    assert {k: item[k] for k in ("static_type", "val1", "val2", "val3", "val4", "router_id")} == {
        "static_type": 1, "val1": "8080", "val2": "192.168.1.12", "val3": "80", "val4": "tcp",
        "router_id": router_id}


def test_modify_and_delete_router_statics(conn: Any) -> None:
    router_id = make_router(conn)
    static = {"static_type": 8, "val1": "node1", "val2": "192.168.1.2"}
    sid = ok(conn.add_router_statics(router=router_id, statics=[static]))["router_statics"][0]
    ok(conn.modify_router_static_attributes(router_static=sid, val2="192.168.1.3"))
    assert conn.describe_router_statics(router_statics=[sid])["router_static_set"][0]["val2"] == "192.168.1.3"
    assert ok(conn.delete_router_statics(router_statics=[sid]))["router_statics"] == [sid]
    assert conn.describe_router_statics(router=router_id)["total_count"] == 0


def test_a_static_of_unknown_type_is_refused(conn: Any) -> None:
    router_id = make_router(conn)
    answer = conn.send_request("AddRouterStatics", {"router": router_id, "statics.1.static_type": 5,
                                                    "statics.1.val1": "x"})
    assert answer["ret_code"] == 1100


def test_a_router_with_vxnets_cannot_be_deleted(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    answer = conn.delete_routers(routers=[router_id])
    assert answer["ret_code"] == 1400 and "leave the router" in answer["message"]


def test_a_deleted_router_shows_as_deleted_by_id_and_leaves_listings(conn: Any) -> None:
    router_id = make_router(conn)
    wait_job(conn, ok(conn.delete_routers(routers=[router_id]))["job_id"])
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["status"] == "deleted"
    assert conn.describe_routers()["total_count"] == 0


# ---- vxnets ----------------------------------------------------------------------------------
def test_a_joined_vxnet_describes_its_router(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.5.0/24")
    vxnet = ok(conn.describe_vxnets(vxnets=[vxnet_id]))["vxnet_set"][0]
    assert vxnet["vpc_router_id"] == router_id
    assert {k: vxnet["router"][k] for k in ("router_id", "ip_network", "manager_ip", "dyn_ip_start",
                                             "dyn_ip_end")} == {
        "router_id": router_id, "ip_network": "192.168.5.0/24", "manager_ip": "192.168.5.1",
        "dyn_ip_start": "192.168.5.2", "dyn_ip_end": "192.168.5.252"}  # .253-.255 reserved


def test_join_router_answers_router_vxnet_and_job(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
    answer = ok(conn.join_router(vxnet=vxnet_id, router=router_id, ip_network="192.168.1.0/24"))
    assert (answer["router_id"], answer["vxnet_id"]) == (router_id, vxnet_id) and answer["job_id"]


def test_a_vxnet_joins_only_one_router(conn: Any) -> None:
    first, second = make_router(conn, name="a"), make_router(conn, name="b")
    vxnet_id = make_vxnet(conn, first, "192.168.1.0/24")
    answer = conn.join_router(vxnet=vxnet_id, router=second, ip_network="192.168.2.0/24")
    assert answer["ret_code"] == 1400 and "already joined" in answer["message"]


def test_an_ip_network_cannot_repeat_within_a_router(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    other = ok(conn.create_vxnets(vxnet_name="w"))["vxnets"][0]
    answer = conn.join_router(vxnet=other, router=router_id, ip_network="192.168.1.0/24")
    assert answer["ret_code"] == 1400 and "conflicts" in answer["message"]


def test_a_joining_vxnet_already_claims_its_ip_network(conn: Any) -> None:
    router_id = make_router(conn)
    one, two = (ok(conn.create_vxnets(vxnet_name=n))["vxnets"][0] for n in ("a", "b"))
    ok(conn.join_router(vxnet=one, router=router_id, ip_network="192.168.1.0/24"))
    assert conn.join_router(vxnet=two, router=router_id, ip_network="192.168.1.0/25")["ret_code"] == 1400


def test_the_same_ip_network_in_two_routers_is_fine(conn: Any) -> None:
    make_vxnet(conn, make_router(conn, name="a"), "192.168.1.0/24", name="x")
    make_vxnet(conn, make_router(conn, name="b"), "192.168.1.0/24", name="y")


def test_an_ip_network_outside_the_vpc_network_is_refused(conn: Any) -> None:
    router_id = make_router(conn, "172.16.0.0/16")
    vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
    answer = conn.join_router(vxnet=vxnet_id, router=router_id, ip_network="192.168.1.0/24")
    assert answer["ret_code"] == 1100 and "outside the vpc_network" in answer["message"]


def test_joining_a_router_that_is_still_creating_is_refused(conn: Any) -> None:
    router_id = ok(conn.create_routers(router_name="r"))["routers"][0]
    vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
    answer = conn.join_router(vxnet=vxnet_id, router=router_id, ip_network="192.168.1.0/24")
    assert answer["ret_code"] == 1400


def test_a_joined_vxnet_must_leave_its_router_before_delete(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    assert conn.delete_vxnets(vxnets=[vxnet_id])["ret_code"] == 1400
    wait_job(conn, ok(conn.leave_router(router=router_id, vxnets=[vxnet_id]))["job_id"])
    assert ok(conn.delete_vxnets(vxnets=[vxnet_id]))["vxnets"] == [vxnet_id]


def test_a_vxnet_with_nics_cannot_leave_or_be_deleted(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    ok(conn.create_nics(vxnet=vxnet_id, nic_name="n"))
    assert conn.leave_router(router=router_id, vxnets=[vxnet_id])["ret_code"] == 1400
    assert conn.delete_vxnets(vxnets=[vxnet_id])["ret_code"] == 1400


def test_an_unknown_id_is_2100(conn: Any) -> None:
    assert conn.delete_vxnets(vxnets=["vxnet-nothere"])["ret_code"] == 2100


def test_search_word_finds_by_name(conn: Any) -> None:
    ok(conn.create_vxnets(vxnet_name="netweave-s1-vxnet01"))
    ok(conn.create_vxnets(vxnet_name="other"))
    found = conn.describe_vxnets(search_word="netweave-s1")["vxnet_set"]
    assert [v["vxnet_name"] for v in found] == ["netweave-s1-vxnet01"]


def test_listings_page_with_offset_and_limit(conn: Any) -> None:
    ok(conn.create_vxnets(vxnet_name="v", count=5))
    page = conn.describe_vxnets(offset=3, limit=2)
    assert page["total_count"] == 5 and len(page["vxnet_set"]) == 2


# ---- route tables (the documented rules: tests/test_qingcloud_emulator_documented.py) ------------
def test_a_custom_route_table_lifecycle(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    table = ok(conn.send_request("CreateRouteTable", {"routing_table_name": "push", "routing_table_type": 0,
                                                      "rtable_rtype": 2}))["routing_table"]
    default = ok(conn.send_request("DescribeRoutingTableResources",
                                   {"resources": [vxnet_id]}))["resource_user_group_set"][0]["rtable_id"]
    wait_job(conn, ok(conn.send_request("DissociateRouteTable", {"routing_table": default,
                                                                 "resource": vxnet_id}))["job_id"])
    wait_job(conn, ok(conn.send_request("AssociateRouteTable", {"routing_table": table,
                                                                "resource": vxnet_id}))["job_id"])
    rules = ok(conn.send_request("AddRoutes", {
        "routing_table": table, "rules": [{"routing_table_rule_name": "to-172-17", "network": "172.17.0.0/24",
                                           "nexthop": "192.168.1.5", "nexthop_type": 3}]}))
    assert rules["routing_table_rules"][0].startswith("r-")
    item = ok(conn.send_request("DescribeRouteTables", {"routing_tables": [table], "verbose": 1}))[
        "routing_table_set"][0]
    assert item["rtable_id"] == table and item["is_applied"] == 0
    assert "172.17.0.0/24" in [r["network"] for r in item["routing_table_rule_set"]]
    wait_job(conn, ok(conn.send_request("UpdateRouteTable", {"routing_table": table}))["job_id"])
    item = conn.send_request("DescribeRouteTables", {"routing_tables": [table]})["routing_table_set"][0]
    assert item["is_applied"] == 1
    assert conn.send_request("DeleteRouteTables", {"routing_tables": [table]})["ret_code"] == 1400
    wait_job(conn, ok(conn.send_request("DissociateRouteTable", {"routing_table": table,
                                                                 "resource": vxnet_id}))["job_id"])
    deleted = ok(conn.send_request("DeleteRouteTables", {"routing_tables": [table]}))
    assert deleted["routing_tables"] == [table]


def _bound_table(conn: Any) -> tuple[str, str]:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    answer = ok(conn.send_request("DescribeRoutingTableResources", {"resources": [vxnet_id]}))
    return answer["resource_user_group_set"][0]["rtable_id"], vxnet_id


def test_describe_routes_and_remove_routes(conn: Any) -> None:
    table, _ = _bound_table(conn)
    rule = ok(conn.send_request("AddRoutes", {"routing_table": table, "rules": [
        {"routing_table_rule_name": "r1", "network": "10.9.0.0/16", "nexthop": "192.168.1.9",
         "nexthop_type": 3}]}))["routing_table_rules"][0]
    found = ok(conn.send_request("DescribeRoutes", {"routing_table": table, "nexthop_type": 3}))[
        "routing_table_rule_set"]
    assert [(r["rtable_rule_id"], r["nexthop"], r["nexthop_type"]) for r in found] == [
        (rule, "192.168.1.9", 3)]
    ok(conn.send_request("RemoveRoutes", {"routing_table_rules": [rule]}))
    left = conn.send_request("DescribeRoutes", {"routing_table": table, "nexthop_type": 3})
    assert left["total_count"] == 0


def test_a_route_to_an_invalid_next_hop_is_refused(conn: Any) -> None:
    table, _ = _bound_table(conn)
    answer = conn.send_request("AddRoutes", {"routing_table": table, "rules": [
        {"routing_table_rule_name": "r1", "network": "10.9.0.0/16", "nexthop": "not-an-ip",
         "nexthop_type": 3}]})
    assert answer["ret_code"] == 1100


def test_a_router_cannot_be_deleted_while_a_vxnet_is_joining_it() -> None:
    with Emulator(job_seconds=0.05, job_overrides={"JoinRouter": 30.0}, seed=2) as emu:
        conn = emu.connection(ZONE, retry_time=1)
        router_id = make_router(conn)
        vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
        ok(conn.join_router(vxnet=vxnet_id, router=router_id, ip_network="192.168.1.0/24"))
        assert conn.delete_routers(routers=[router_id])["ret_code"] == 1400
