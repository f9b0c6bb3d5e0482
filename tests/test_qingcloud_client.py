"""What the cloud demands of a client, against the emulator's fault injection: retries of
transient failures only, jobs that must be successful, timeouts, adoption after a lost answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from netweave.providers.qingcloud import client
from netweave.providers.qingcloud.client import Client, JobFailed, QingCloudError, Timeout
from netweave.providers.qingcloud.vpc import VpcProvider
from netweave.qingcloud_emulator import Emulator

from tests.support.qingcloud_cloud import FAST, ZONE, live, router, running_emulator, set_faults, vxnet


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    yield from running_emulator(monkeypatch)


def calls(action: str) -> int:
    return client.CALLS[action]


def test_transient_busy_answers_are_retried_until_they_pass(cloud: Emulator) -> None:
    set_faults(cloud, rate=0.5, codes=(5100, 5000, 5300), actions=("DescribeRouters",))
    before = calls("DescribeRouters")
    for _ in range(10):
        Client(ZONE).call("DescribeRouters", {})
    assert calls("DescribeRouters") - before > 10, "some calls were retried"


@pytest.mark.parametrize("code", [1400, 2400, 2500])
def test_quota_balance_and_permission_errors_are_never_retried(cloud: Emulator, code: int) -> None:
    set_faults(cloud, rate=1.0, codes=(code,), actions=("DescribeRouters",))
    before = calls("DescribeRouters")
    with pytest.raises(QingCloudError) as raised:
        Client(ZONE).call("DescribeRouters", {})
    assert calls("DescribeRouters") - before == 1
    assert raised.value.ret_code == code
    assert str(raised.value).startswith(f"QingCloud DescribeRouters failed: ret_code {code}: ")


def test_http_failures_are_retried_then_raised_with_the_action(cloud: Emulator,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_RETRY_ATTEMPTS", "3")
    set_faults(cloud, http500_rate=1.0, actions=("DescribeVxnets",))
    before = calls("DescribeVxnets")
    with pytest.raises(QingCloudError, match="DescribeVxnets failed: HTTP/transport failure: HTTP 500"):
        Client(ZONE).call("DescribeVxnets", {})
    assert calls("DescribeVxnets") - before == 3


def test_backoff_grows_exponentially_with_full_jitter(cloud: Emulator) -> None:
    c = Client(ZONE, client.Settings("k", "s", "127.0.0.1", 1, "http", retry_base=1.0, retry_cap=30.0))
    assert all(0 <= c.backoff(0) <= 1 for _ in range(50))
    assert max(c.backoff(4) for _ in range(200)) > 8
    assert all(c.backoff(10) <= 30 for _ in range(50))


def test_a_failed_job_is_an_error_not_a_success(cloud: Emulator) -> None:
    set_faults(cloud, job_failure_rate=1.0, actions=("CreateRouters",))
    with pytest.raises(JobFailed, match=r"CreateRouters failed.*job j-"):
        router()


def test_a_job_slower_than_the_timeout_raises_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator(job_overrides={"CreateRouters": 30.0}) as emu:
        for key, value in {**emu.env(), "QY_POLL_INTERVAL": "0.01", "QY_JOB_TIMEOUT": "0.3"}.items():
            monkeypatch.setenv(key, value)
        with pytest.raises(Timeout, match=r"CreateRouters failed.*not done after 0.3 s"):
            router()


def test_the_job_timeout_defaults_to_240_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("QY_SECRET_ACCESS_KEY", "s")
    monkeypatch.delenv("QY_JOB_TIMEOUT", raising=False)
    client.configure({})
    assert client.settings().job_timeout == 240


def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(cloud: Emulator) -> None:
    set_faults(cloud, lost_response_rate=1.0, actions=("CreateRouters",))
    created = router()
    assert [r["router_id"] for r in live(cloud, "router")] == [created.id]


def test_modify_waits_out_the_transition_status(cloud: Emulator) -> None:
    rtr = router()
    c = Client(ZONE)
    c.call("UpdateRouters", {"routers": [rtr.id]})  # the router is now "updating"
    VpcProvider().update(rtr.id, rtr.outs, {**rtr.outs, "name": "nw-t-after"})
    assert live(cloud, "router")[0]["router_name"] == "nw-t-after"


def test_two_vxnets_join_one_router_at_the_same_time(cloud: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rtr = router()
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda n: vxnet(rtr.id, f"192.168.{n}.0/24", f"nw-t-vx{n}"), (1, 2)))
    assert {v["vxnet_id"] for v in live(cloud, "vxnet")} == {d.id for d in done}


def test_modify_and_delete_wait_out_the_lease_window(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator(job_seconds=0.02, lease_seconds=0.3) as emu:
        for key, value in {**emu.env(), **FAST}.items():
            monkeypatch.setenv(key, value)
        rtr = router()  # its lease is not recorded for 0.3 s: changes are refused (1400) meanwhile
        VpcProvider().update(rtr.id, rtr.outs, {**rtr.outs, "name": "nw-t-leased"})
        assert live(emu, "router")[0]["router_name"] == "nw-t-leased"


def test_a_refusal_that_is_no_busy_state_is_final(cloud: Emulator) -> None:
    rtr = router()
    vxnet(rtr.id)
    before = calls("DeleteRouters")
    with pytest.raises(QingCloudError, match="ret_code 1400"):
        VpcProvider().delete(rtr.id, rtr.outs)  # a vxnet is still joined: not a wait, an error
    assert calls("DeleteRouters") - before == 1
