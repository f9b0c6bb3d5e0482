"""Protocol-level properties: whatever the SDK signs round-trips, every action the
providers use is served, and concurrent callers (the engine creates in parallel) are safe."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netweave.qingcloud_emulator import Emulator
from netweave.qingcloud_emulator.actions import ACTIONS

from tests.support.qc_emulator_support import ZONE, ok, started

PROVIDER_ACTIONS = [
    "CreateRouters", "DescribeRouters", "UpdateRouters", "ModifyRouterAttributes", "DeleteRouters",
    "CreateVxnets", "DescribeVxnets", "JoinRouter", "LeaveRouter", "DeleteVxnets",
    "ModifyVxnetAttributes", "CreateNics", "DescribeNics", "AttachNics", "DetachNics", "DeleteNics",
    "ModifyNicAttributes", "RunInstances", "DescribeInstances", "TerminateInstances",
    "ModifyInstanceAttributes", "AllocateEips", "DescribeEips", "AssociateEip", "DissociateEips",
    "ReleaseEips", "ModifyEipAttributes", "ChangeEipsBandwidth", "CreateSecurityGroup",
    "DescribeSecurityGroups", "AddSecurityGroupRules", "DescribeSecurityGroupRules",
    "DeleteSecurityGroupRules", "ApplySecurityGroup", "DeleteSecurityGroups",
    "ModifySecurityGroupAttributes", "UploadUserDataAttachment", "AddRouterStatics",
    "DescribeRouterStatics", "ModifyRouterStaticAttributes", "DeleteRouterStatics", "CreateRouteTable",
    "DescribeRouteTables", "AddRoutes", "DescribeRoutes", "RemoveRoutes", "ModifyRouteAttributes",
    "UpdateRouteTable", "AssociateRouteTable", "DissociateRouteTable", "DeleteRouteTables",
    "ModifyRouteTableAttributes", "DescribeRoutingTableResources", "CreateTag", "DescribeTags",
    "AttachTags", "DetachTags", "DeleteTags", "DescribeJobs",
]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = started()
    yield emulator
    emulator.stop()


@pytest.mark.parametrize("action", PROVIDER_ACTIONS)
def test_every_action_the_providers_use_is_served(action: str) -> None:
    assert action in ACTIONS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_any_name_the_sdk_signs_is_accepted_and_kept_verbatim(emu: Emulator, name: str) -> None:
    conn = emu.connection(ZONE, retry_time=1)
    vxnet_id = ok(conn.create_vxnets(vxnet_name=name))["vxnets"][0]
    assert conn.describe_vxnets(vxnets=[vxnet_id])["vxnet_set"][0]["vxnet_name"] == name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.from_regex(r"[a-z0-9:|+ &=%/]{1,20}", fullmatch=True), min_size=1, max_size=5))
def test_lists_of_any_ids_are_parsed_in_order(emu: Emulator, ids: list[str]) -> None:
    answer = emu.connection(ZONE, retry_time=1).delete_vxnets(vxnets=ids)
    assert answer["ret_code"] == 2100 and f"[{ids[0]}]" in answer["message"]


def test_parallel_creates_are_all_served_with_unique_ids(emu: Emulator) -> None:
    results: list[Any] = []

    def create(n: int) -> None:
        results.append(emu.connection(ZONE, retry_time=1).create_vxnets(vxnet_name=f"parallel-{n}"))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ids = [ok(r)["vxnets"][0] for r in results]
    assert len(ids) == 16 and len(set(ids)) == 16
