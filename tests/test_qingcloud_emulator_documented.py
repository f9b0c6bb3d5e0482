"""Each behaviour the QingCloud emulator encodes, next to the page of yunify/qingcloud-docs
that documents it (``@doc``). Where the docs are silent the emulator refuses; those
refusals are tested here too, marked ``UNDOCUMENTED`` with the page that leaves it open."""

from __future__ import annotations

import io
import sys
import tarfile
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from netweave.providers.qingcloud import dhcp_routes
from netweave.qingcloud_emulator import Emulator

from tests.support.qc_emulator_support import (
    ZONE,
    b64,
    make_instance,
    make_router,
    make_vxnet,
    ok,
    tar_archive,
    wait_job,
)

DOCS = "content/"
ROUTING = "content/network/vpc/manual/routing/"
ROUTE_DESCRIPTION = ROUTING + "01_route_description.md"
ROUTE_FUNCTION = ROUTING + "02_route_function.md"
TABLE_API = "content/network/vpc/api/routing_table/"
VPC_API = "content/network/vpc/api/vpc_api/"
NET_PLAN = "content/network/vpc/quick-start/10_qs_net_plan.md"
ADD_STATICS = VPC_API + "add_router_statics.md"
UPLOAD = "content/development_docs/api/command_list/userdata/upload_userdata_attachment.md"
UNDOCUMENTED = "UNDOCUMENTED (refused): "

F = TypeVar("F", bound=Callable[..., Any])


def doc(page: str, why: str = "") -> Callable[[F], F]:
    """The docs page (path in yunify/qingcloud-docs) a test's behaviour comes from."""
    def mark(fn: F) -> F:
        fn.doc_page = page  # type: ignore[attr-defined]
        fn.doc_why = why  # type: ignore[attr-defined]
        return fn
    return mark


def call(conn: Any, action: str, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = conn.send_request(action, params)
    return answer


def bindings(conn: Any, **filters: Any) -> list[tuple[str, str]]:
    answer = ok(call(conn, "DescribeRoutingTableResources", **filters))
    return sorted((i["rtable_id"], i["resource_id"]) for i in answer["resource_user_group_set"])


def tables(conn: Any) -> list[dict[str, Any]]:
    return list(ok(call(conn, "DescribeRouteTables", verbose=1))["routing_table_set"])


def rule(name: str, network: str, nexthop: str, nexthop_type: int = 3) -> dict[str, Any]:
    return {"routing_table_rule_name": name, "network": network, "nexthop": nexthop,
            "nexthop_type": nexthop_type}


# ---- route tables ---------------------------------------------------------------------------

@doc(ROUTE_DESCRIPTION, "在创建 VPC 网络时，系统将同时自动创建的一张默认路由表")
def test_creating_a_vpc_creates_its_default_route_table(conn: Any) -> None:
    assert tables(conn) == []
    make_router(conn)
    assert len(tables(conn)) == 1


@doc(ROUTE_DESCRIPTION, "它将自动关联该 VPC 网络下的所有私有网络（包括 VPC 创建完后添加到 VPC 的私有网络）")
def test_every_vxnet_that_joins_is_bound_to_the_default_table(conn: Any) -> None:
    router_id = make_router(conn)
    [table] = [t["rtable_id"] for t in tables(conn)]
    first = make_vxnet(conn, router_id, "192.168.1.0/24", "v1")
    second = make_vxnet(conn, router_id, "192.168.2.0/24", "v2")
    assert bindings(conn) == sorted([(table, first), (table, second)])


@doc(ROUTE_DESCRIPTION, "您不能创建也不能删除默认路由表")
def test_the_default_route_table_cannot_be_deleted(conn: Any) -> None:
    make_router(conn)
    [table] = [t["rtable_id"] for t in tables(conn)]
    assert call(conn, "DeleteRouteTables", routing_tables=[table])["ret_code"] == 1400


@doc(ROUTE_FUNCTION, "当路由表绑定到私有网络后，将自动添加一条路由规则…该路由不可删除")
def test_binding_adds_an_undeletable_rule_for_the_vxnets_network(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    [table] = tables(conn)
    [system] = table["routing_table_rule_set"]
    assert system["network"] == "192.168.1.0/24"
    answer = call(conn, "RemoveRoutes", routing_table_rules=[system["rtable_rule_id"]])
    assert answer["ret_code"] == 1400


@doc(ROUTE_FUNCTION, "一个路由表可以绑定多个相同类型的资源，但一个资源只能绑定一个路由表")
def test_a_vxnet_bound_to_one_table_refuses_a_second(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    custom = ok(call(conn, "CreateRouteTable", routing_table_type=0, rtable_rtype=2))["routing_table"]
    answer = call(conn, "AssociateRouteTable", routing_table=custom, resource=vxnet_id)
    assert answer["ret_code"] == 1400 and "one route table only" in answer["message"]


@doc("content/network/vpc/manual/vpcnet/10_create_vpc.md", "若需更换路由表…解绑该路由表并重新绑定")
def test_switching_tables_is_dissociate_then_associate(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    [(default, _)] = bindings(conn)
    custom = ok(call(conn, "CreateRouteTable", routing_table_type=0, rtable_rtype=2))["routing_table"]
    wait_job(conn, ok(call(conn, "DissociateRouteTable", routing_table=default, resource=vxnet_id))["job_id"])
    wait_job(conn, ok(call(conn, "AssociateRouteTable", routing_table=custom, resource=vxnet_id))["job_id"])
    assert bindings(conn) == [(custom, vxnet_id)]


@doc(ROUTE_FUNCTION, "添加路由规则前，需要先将路由表绑定到私有网络或负载均衡器")
def test_rules_are_refused_on_a_table_bound_to_nothing(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    custom = ok(call(conn, "CreateRouteTable", routing_table_type=0, rtable_rtype=2))["routing_table"]
    answer = call(conn, "AddRoutes", routing_table=custom, rules=[rule("r", "10.9.0.0/16", "192.168.1.5")])
    assert answer["ret_code"] == 1400 and "bind it before adding rules" in answer["message"]


@doc(ROUTE_FUNCTION, "对路由规则执行任何操作后，均需要点击应用修改，操作才会生效")
def test_rule_changes_wait_for_update_route_table(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    [(table, _)] = bindings(conn)
    ok(call(conn, "AddRoutes", routing_table=table, rules=[rule("r", "10.9.0.0/16", "192.168.1.5")]))
    assert tables(conn)[0]["is_applied"] == 0
    wait_job(conn, ok(call(conn, "UpdateRouteTable", routing_table=table))["job_id"])
    assert tables(conn)[0]["is_applied"] == 1


@doc(TABLE_API + "describe_routing_table_resources.md", "resource_user_group_set: rtable_id, resource_id")
def test_bindings_are_read_with_describe_routing_table_resources(conn: Any) -> None:
    router_id = make_router(conn)
    first = make_vxnet(conn, router_id, "192.168.1.0/24", "v1")
    make_vxnet(conn, router_id, "192.168.2.0/24", "v2")
    [table] = [t["rtable_id"] for t in tables(conn)]
    answer = ok(call(conn, "DescribeRoutingTableResources", rtables=[table], resources=[first]))
    assert answer["resource_user_group_set"] == [{"rtable_id": table, "resource_id": first}]
    assert answer["total_count"] == 1


@doc(TABLE_API + "describe_route_tables.md", "item fields: no bound-resource field")
def test_describe_route_tables_has_no_bound_resource_field(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    [table] = tables(conn)
    assert not {"resources", "routing_table_resources"} & set(table)
    assert {"rtable_id", "rtable_name", "is_applied", "rtable_rtype", "routing_table_rule_set"} <= set(table)


@doc(VPC_API + "leave_router.md", "a vxnet that leaves its VPC is no longer routed by the VPC's table")
def test_a_vxnet_that_leaves_its_vpc_leaves_the_route_table(conn: Any) -> None:
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    wait_job(conn, ok(conn.leave_router(router=router_id, vxnets=[vxnet_id]))["job_id"])
    assert bindings(conn) == []
    assert tables(conn)[0]["routing_table_rule_set"] == []


@doc(ROUTE_DESCRIPTION, "the default table belongs to its VPC: it goes when the VPC is deleted")
def test_deleting_the_vpc_removes_its_default_table(conn: Any) -> None:
    router_id = make_router(conn)
    wait_job(conn, ok(conn.delete_routers(routers=[router_id]))["job_id"])
    assert tables(conn) == []


@doc(TABLE_API + "add_routes.md", UNDOCUMENTED + "nexthop_type is optional, its default is not stated")
def test_a_rule_without_nexthop_type_is_refused(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    [(table, _)] = bindings(conn)
    answer = call(conn, "AddRoutes", routing_table=table, rules=[
        {"routing_table_rule_name": "r", "network": "10.9.0.0/16", "nexthop": "192.168.1.5"}])
    assert answer["ret_code"] == 1100 and "not documented" in answer["message"]


@doc(TABLE_API + "add_routes.md", UNDOCUMENTED + "an IP next hop outside the VPC")
def test_an_ip_next_hop_outside_the_vpcs_vxnets_is_refused(conn: Any) -> None:
    router_id = make_router(conn)
    make_vxnet(conn, router_id, "192.168.1.0/24")
    [(table, _)] = bindings(conn)
    answer = call(conn, "AddRoutes", routing_table=table, rules=[rule("r", "10.9.0.0/16", "192.168.7.5")])
    assert answer["ret_code"] == 1400


# ---- routers and vxnets -----------------------------------------------------------------------

@doc(VPC_API + "create_routers.md", "0 - 中型，1 - 小型，2 - 大型")
@pytest.mark.parametrize(("router_type", "code"), [(0, 0), (1, 0), (2, 0), (3, 1100), (-1, 1100)])
def test_router_type_is_one_the_api_page_lists(conn: Any, router_type: int, code: int) -> None:
    assert conn.create_routers(router_type=router_type)["ret_code"] == code


@doc(NET_PLAN, "192.168.0.0/16、172.16.0.0/16-172.31.0.0/16这些网段及其子网 (newer than create_routers.md)")
@pytest.mark.parametrize(("network", "code"), [
    ("192.168.0.0/16", 0), ("172.16.0.0/16", 0), ("172.31.0.0/16", 0), ("172.17.64.0/18", 0),
    ("192.168.8.0/24", 0), ("10.0.0.0/16", 1100), ("172.32.0.0/16", 1100), ("172.16.0.0/12", 1100),
    ("192.168.8.0/30", 1100)])
def test_vpc_network_is_a_planning_guide_range_or_a_subnet_of_one(conn: Any, network: str, code: int) -> None:
    assert conn.create_routers(vpc_network=network)["ret_code"] == code


@doc(NET_PLAN, "私有网络的网段必须是其所属 VPC 网络网段的子集，且私有网络支持的子网掩码范围为16～29")
@pytest.mark.parametrize(("network", "code"), [
    ("192.168.0.0/16", 0), ("192.168.4.0/22", 0), ("192.168.1.8/29", 0), ("192.168.1.8/30", 1100),
    ("172.17.0.0/24", 1100)])
def test_a_vxnet_is_a_16_to_29_inside_its_vpc(conn: Any, network: str, code: int) -> None:
    router_id = make_router(conn, "192.168.0.0/16")
    vxnet_id = ok(conn.create_vxnets(vxnet_name="v"))["vxnets"][0]
    assert conn.join_router(vxnet=vxnet_id, router=router_id, ip_network=network)["ret_code"] == code


@doc(NET_PLAN, "每个私有网络中的第一个和最后三个IP地址为系统保留地址")
@pytest.mark.parametrize(("address", "free"), [
    ("192.168.1.0", False), ("192.168.1.2", True), ("192.168.1.252", True), ("192.168.1.253", False),
    ("192.168.1.254", False), ("192.168.1.255", False)])
def test_the_first_and_last_three_addresses_of_a_vxnet_are_reserved(conn: Any, address: str,
                                                                      free: bool) -> None:
    vxnet_id = make_vxnet(conn, make_router(conn), "192.168.1.0/24")
    answer = conn.create_nics(vxnet=vxnet_id, private_ips=[address])
    assert (answer["ret_code"] == 0) is free


# ---- signing ----------------------------------------------------------------------------------

@doc("content/network/vpc/api/get_api/parameters.md", "signature_version 目前只支持版本号为 1")
@pytest.mark.parametrize(("version", "code"), [("1", 0), ("2", 1200), ("0", 1200)])
def test_only_signature_version_1_is_accepted(emu: Emulator, version: str, code: int) -> None:
    from qingcloud.conn import auth

    conn = emu.connection(ZONE, retry_time=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth.QuerySignatureAuthHandler, "SignatureVersion", int(version))
        assert conn.describe_vxnets()["ret_code"] == code


# ---- user data --------------------------------------------------------------------------------

def _plain_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("etc/rc.local")
        archive.addfile(info, io.BytesIO(b""))
    return buffer.getvalue()


@doc(UPLOAD, "zip，tar，tgz，tbz; the name is \"文件名称\" only: a name that says another kind is refused")
@pytest.mark.parametrize(("name", "data", "code"), [
    ("boot.tar", "tar", 0), ("boot.tar.gz", "tgz", 0), ("boot.tgz", "tgz", 0), ("userdata", "tar", 0),
    ("boot.tar.gz", "tar", 1100), ("boot.tar", "tgz", 1100), ("boot.zip", "tar", 1100)])
def test_an_attachments_name_and_bytes_agree(conn: Any, name: str, data: str, code: int) -> None:
    raw = _plain_tar() if data == "tar" else tar_archive({"etc/rc.local": b""})
    answer = conn.send_request("UploadUserDataAttachment", {"attachment_content": b64(raw),
                                                            "attachment_name": name}, verb="POST")
    assert answer["ret_code"] == code, answer


# ---- DHCP option router statics (static_type=3) -------------------------------------------------

@pytest.fixture
def vm(conn: Any) -> tuple[str, str, str]:
    """(router, vxnet, instance at 192.168.1.3)."""
    router_id = make_router(conn)
    vxnet_id = make_vxnet(conn, router_id, "192.168.1.0/24")
    return router_id, vxnet_id, make_instance(conn, vxnet_id, "192.168.1.3")


def dhcp(conn: Any, router_id: str, vxnet_id: str | None, val1: str, val2: str) -> dict[str, Any]:
    params: dict[str, Any] = {"router": router_id, "statics.1.static_type": 3, "statics.1.val1": val1,
                              "statics.1.val2": val2}
    if vxnet_id:
        params["vxnet"] = vxnet_id
    return call(conn, "AddRouterStatics", **params)


@doc(ADD_STATICS, "DHCP 选项：val1 表示 DHCP 云服务器ID…val2 key1=value1;key2=value2")
def test_a_dhcp_option_with_the_documented_keys_is_accepted(conn: Any, vm: tuple[str, str, str]) -> None:
    router_id, vxnet_id, instance = vm
    ok(dhcp(conn, router_id, vxnet_id, instance, "domain-name-servers=8.8.8.8;fixed-address=192.168.1.3"))


@doc(ADD_STATICS, "vxnet: Yes only in VPC")
def test_a_dhcp_option_names_its_vxnet(conn: Any, vm: tuple[str, str, str]) -> None:
    router_id, _, instance = vm
    assert dhcp(conn, router_id, None, instance, "domain-name-servers=8.8.8.8")["ret_code"] == 1100


@doc(ADD_STATICS, "val1 is the instance: one in that vxnet")
def test_a_dhcp_option_for_an_instance_outside_the_vxnet_is_refused(conn: Any,
                                                                    vm: tuple[str, str, str]) -> None:
    router_id, _, instance = vm
    other = make_vxnet(conn, router_id, "192.168.2.0/24", "v2")
    assert dhcp(conn, router_id, other, instance, "domain-name-servers=8.8.8.8")["ret_code"] == 1400


@doc(ADD_STATICS, UNDOCUMENTED + "DHCP keys beyond domain-name-servers and fixed-address")
@pytest.mark.parametrize("val2", [
    "routers=192.168.1.5", "classless-static-routes=172.17.0.0/24,192.168.1.5",
    "rfc3442-classless-static-routes=24,172,17,0,192,168,1,5,0",   # trailing octet
    "rfc3442-classless-static-routes=23,172,17,1,192,168,1,5",     # host bits
    "rfc3442-classless-static-routes=24, 172,17,0,192,168,1,5",    # not the canonical spelling
    "domain-name-servers=8.8.8.8;domain-name-servers=1.1.1.1", "8.8.8.8"])
def test_an_undocumented_dhcp_option_is_refused(conn: Any, vm: tuple[str, str, str], val2: str) -> None:
    router_id, vxnet_id, instance = vm
    assert dhcp(conn, router_id, vxnet_id, instance, val2)["ret_code"] == 1100


@doc(ADD_STATICS, "ASSUMED route key: accepted exactly as netweave's dhcp_routes.encode writes it")
def test_the_route_key_is_accepted_only_as_netweave_writes_it(conn: Any, vm: tuple[str, str, str]) -> None:
    router_id, vxnet_id, instance = vm
    val2 = dhcp_routes.encode([("172.17.0.0/24", "192.168.1.5"), ("10.0.0.0/8", "192.168.1.5")])
    ok(dhcp(conn, router_id, vxnet_id, instance, val2))


@doc(ADD_STATICS, UNDOCUMENTED + "how two DHCP options of one instance in one vxnet combine")
def test_a_second_dhcp_option_for_one_instance_is_refused(conn: Any, vm: tuple[str, str, str]) -> None:
    router_id, vxnet_id, instance = vm
    ok(dhcp(conn, router_id, vxnet_id, instance, "domain-name-servers=8.8.8.8"))
    assert dhcp(conn, router_id, vxnet_id, instance, "domain-name-servers=1.1.1.1")["ret_code"] == 1400


@doc(ADD_STATICS, "在增加 VPC 网络规则后，你需要执行 UpdateRouters 才能使之生效")
def test_a_dhcp_option_waits_for_update_routers(conn: Any, vm: tuple[str, str, str]) -> None:
    router_id, vxnet_id, instance = vm
    ok(dhcp(conn, router_id, vxnet_id, instance, "domain-name-servers=8.8.8.8"))
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["is_applied"] == 0
    wait_job(conn, ok(conn.update_routers(routers=[router_id]))["job_id"])
    assert conn.describe_routers(routers=[router_id])["router_set"][0]["is_applied"] == 1


@doc("content/network/vpc/api/vxnet_api/describe_vxnet_instances.md", "private_ip, dhcp_options")
def test_describe_vxnet_instances_shows_addresses_and_dhcp_options(conn: Any,
                                                                   vm: tuple[str, str, str]) -> None:
    router_id, vxnet_id, instance = vm
    static = ok(dhcp(conn, router_id, vxnet_id, instance, "domain-name-servers=8.8.8.8"))["router_statics"][0]
    [item] = ok(call(conn, "DescribeVxnetInstances", vxnet=vxnet_id))["instance_set"]
    assert (item["instance_id"], item["private_ip"]) == (instance, "192.168.1.3")
    assert item["dhcp_options"] == {"val2": "domain-name-servers=8.8.8.8", "router_static_id": static}


# ---- every test here names its page -------------------------------------------------------------

def test_every_test_in_this_module_names_a_docs_page() -> None:
    module = sys.modules[__name__]
    tests = [getattr(module, n) for n in dir(module)
             if n.startswith("test_") and n != "test_every_test_in_this_module_names_a_docs_page"]
    unnamed = [t.__name__ for t in tests if not str(getattr(t, "doc_page", "")).startswith(DOCS)]
    assert tests and unnamed == []

