"""Fault injection: API error codes at a rate, HTTP 500 (the SDK then returns None), lost
answers after the action ran, failing jobs, latency; reproducible with a seed; driven by
the Python API or the loopback control endpoint."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from netweave.qingcloud_emulator import Emulator, Faults

from tests.support.qc_emulator_support import ZONE, ok, started, wait_job


def codes(emu: Emulator, calls: int) -> list[int]:
    conn = emu.connection(ZONE, retry_time=1)
    return [conn.describe_vxnets()["ret_code"] for _ in range(calls)]


def test_every_call_gets_the_injected_code_at_rate_1() -> None:
    with Emulator(faults=Faults(rate=1.0, codes=(5100,))) as emu:
        assert set(codes(emu, 5)) == {5100}


def test_an_injected_error_changes_nothing() -> None:
    with Emulator(faults=Faults(rate=1.0, codes=(5000,))) as emu:
        assert emu.connection(ZONE, retry_time=1).create_vxnets(vxnet_name="v")["ret_code"] == 5000
        assert emu.snapshot()["vxnet"] == []


def test_a_partial_rate_injects_about_that_share_of_calls() -> None:
    with Emulator(faults=Faults(rate=0.3, seed=11)) as emu:
        seen = codes(emu, 200)
    injected = [c for c in seen if c != 0]
    assert 40 <= len(injected) <= 80 and set(injected) <= {5000, 5100}


def test_the_same_seed_injects_the_same_faults() -> None:
    runs = []
    for _ in range(2):
        with Emulator(faults=Faults(rate=0.5, seed=3)) as emu:
            runs.append(codes(emu, 30))
    assert runs[0] == runs[1] and 0 in runs[0] and set(runs[0]) != {0}


def test_http_500_makes_the_sdk_return_none_and_changes_nothing() -> None:
    with Emulator(faults=Faults(http500_rate=1.0)) as emu:
        assert emu.connection(ZONE, retry_time=1).create_vxnets(vxnet_name="v") is None
        assert emu.snapshot()["vxnet"] == []


def test_a_lost_response_hides_an_action_that_did_run() -> None:
    with Emulator(faults=Faults(lost_response_rate=1.0, actions=("CreateVxnets",))) as emu:
        assert emu.connection(ZONE, retry_time=1).create_vxnets(vxnet_name="v") is None
        assert [v["vxnet_name"] for v in emu.snapshot()["vxnet"]] == ["v"]


def test_the_sdk_retrying_a_lost_create_on_its_own_duplicates_it() -> None:
    """Why providers must pass retry_time=1 and adopt by name: the SDK re-sends on HTTP 500."""
    with Emulator(faults=Faults(lost_response_rate=1.0, actions=("CreateVxnets",))) as emu:
        assert emu.connection(ZONE, retry_time=2).create_vxnets(vxnet_name="v") is None
        assert len(emu.snapshot()["vxnet"]) == 2


def test_faults_limited_to_actions_spare_the_others() -> None:
    with Emulator(faults=Faults(rate=1.0, actions=("CreateRouters",))) as emu:
        conn = emu.connection(ZONE, retry_time=1)
        assert conn.create_routers(router_name="r")["ret_code"] in (5000, 5100)
        ok(conn.create_vxnets(vxnet_name="v"))


def test_a_failing_job_ends_failed_and_rolls_its_resource_back() -> None:
    emu = started(faults=Faults(job_failure_rate=1.0))
    try:
        conn = emu.connection(ZONE, retry_time=1)
        answer = ok(conn.create_routers(router_name="r"))
        job = wait_job(conn, answer["job_id"])
        assert job["status"] == "failed" and job["error_codes"]
        assert conn.describe_routers()["total_count"] == 0
        assert conn.describe_routers(routers=answer["routers"])["router_set"][0]["status"] == "ceased"
    finally:
        emu.stop()


def test_latency_is_added_to_every_call() -> None:
    with Emulator(faults=Faults(latency=0.2)) as emu:
        conn = emu.connection(ZONE)
        start = time.monotonic()
        ok(conn.describe_vxnets())
        assert time.monotonic() - start >= 0.2


def test_a_rate_outside_0_to_1_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(rate=1.5)


# ---- the control endpoint ---------------------------------------------------------------------
def control(emu: Emulator, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{emu.endpoint}/_emulator/{path}", data=data,
                                     method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_faults_set_through_the_control_endpoint_take_effect() -> None:
    with Emulator() as emu:
        status, answer = control(emu, "faults", {"rate": 1.0, "codes": [5000], "seed": 1})
        assert status == 200 and answer["rate"] == 1.0
        assert codes(emu, 2) == [5000, 5000]
        control(emu, "faults", {})
        assert codes(emu, 2) == [0, 0]


def test_an_unknown_fault_setting_is_refused_by_the_control_endpoint() -> None:
    with Emulator() as emu:
        status, answer = control(emu, "faults", {"rat": 1.0})
    assert status == 400 and "rat" in answer["error"]


def test_snapshot_and_reset_through_the_control_endpoint() -> None:
    with Emulator() as emu:
        ok(emu.connection(ZONE).create_vxnets(vxnet_name="v"))
        assert [v["vxnet_name"] for v in control(emu, "snapshot")[1]["vxnet"]] == ["v"]
        control(emu, "reset", {})
        assert control(emu, "snapshot")[1]["vxnet"] == []


def test_faults_without_a_seed_of_their_own_use_the_emulator_seed() -> None:
    runs = []
    for _ in range(2):
        with Emulator(seed=5, faults=Faults(rate=0.5)) as emu:
            runs.append(codes(emu, 30))
    assert runs[0] == runs[1]
