"""A failed `pulumi up` leaves objects the state does not hold; `pulumi destroy` cannot see
them; `netweave qingcloud-orphans` lists them (dry run) and removes them (--delete), so
that destroy leaves the cloud empty. Through the engine's provider host, against the emulator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from netweave.commands import qingcloud_orphans
from netweave.providers.qingcloud import client
from netweave.qingcloud_emulator import Emulator

from tests.support.qingcloud_cloud import FAST
from tests.support.qingcloud_engine import MiniEngine, ProviderError, ProviderHost, State
from tests.support.qingcloud_program import run_program

STACK = "s1-one-to-one"


def stack_config(emu: Emulator) -> dict[str, str]:
    return {"netweave:qingcloudEndpoint": emu.endpoint, "netweave:qingcloudAccessKeyId": emu.access_key_id,
            "netweave:qingcloudSecretAccessKey": emu.secret}


def counts(emu: Emulator) -> dict[str, int]:
    return {k: len(v) for k, v in emu.snapshot().items() if v and k != "attachment"}


def orphans(monkeypatch: pytest.MonkeyPatch, emu: Emulator, capsys: pytest.CaptureFixture[str], *,
            delete: bool = False, state: Path | None = None) -> tuple[int, str]:
    for key, value in {**emu.env(), "QY_POLL_INTERVAL": "0.01", "QY_RETRY_BASE": "0.005",
                       "QY_JOB_TIMEOUT": "20"}.items():
        monkeypatch.setenv(key, value)
    client.configure({})
    code = qingcloud_orphans.run(argparse.Namespace(stack=STACK, zone=["pek3a"], delete=delete,
                                                    state=str(state) if state else None))
    return code, capsys.readouterr().out


@pytest.fixture
def failed_up() -> tuple[Emulator, MiniEngine, ProviderHost]:
    """S1's `up` fails mid-create: QingCloud accepted RunInstances, the provider gave up
    waiting for the job (0.3 s) before the engine recorded the instances."""
    emu = Emulator(job_seconds=0.02, seed=3, job_overrides={"RunInstances": 2.0})
    emu.start()
    host = ProviderHost({**FAST, "QY_JOB_TIMEOUT": "0.3"}, stack_config(emu))
    engine = MiniEngine(run_program(STACK, {"qingcloudLoginKeypair": "kp-test"}), State())
    with pytest.raises(ProviderError, match="RunInstances"):
        engine.up(host)
    yield emu, engine, host
    host.close()
    emu.stop()


def test_destroy_after_a_failed_up_cannot_see_what_the_cloud_accepted(
        failed_up: tuple[Emulator, MiniEngine, ProviderHost]) -> None:
    emu, engine, host = failed_up
    assert not [r for r in engine.custom if r.short_type == "Instance" and r.urn in engine.state.resources]
    with pytest.raises(ProviderError):  # the vxnets still hold the instances nobody recorded
        engine.destroy(host)
    assert len(emu.snapshot()["instance"]) == 2


def test_the_dry_run_lists_the_orphans_and_deletes_nothing(
        failed_up: tuple[Emulator, MiniEngine, ProviderHost], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    emu, engine, _ = failed_up
    export = tmp_path / "state.json"
    export.write_text(json.dumps({"deployment": {"resources": [
        {"urn": urn, "id": id_, "outputs": outs} for urn, (id_, outs) in engine.state.resources.items()]}}))
    before = counts(emu)
    code, out = orphans(monkeypatch, emu, capsys, state=export)
    assert code == 0 and "pek3a: 2 object(s) named nw-s1-one-to-one-* outside the state" in out
    assert "nw-s1-one-to-one-vcpe01" in out and "nw-s1-one-to-one-vcpe02" in out
    assert "dry run: add --delete" in out and counts(emu) == before


def test_delete_then_destroy_leaves_the_emulator_empty(
        failed_up: tuple[Emulator, MiniEngine, ProviderHost], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    emu, engine, host = failed_up
    with pytest.raises(ProviderError):
        engine.destroy(host)  # what a user sees first: destroy stops at the vxnets
    code, out = orphans(monkeypatch, emu, capsys, delete=True)
    assert code == 0 and "deleted" in out
    engine.destroy(host)
    assert counts(emu) == {}
    assert orphans(monkeypatch, emu, capsys)[1].startswith("pek3a: 0 object(s)")


def test_statics_and_route_rules_left_in_a_known_vpc_are_found_and_removed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An `up` that failed after AddRouterStatics / AddRoutes but before UpdateRouters /
    UpdateRouteTable answered: the router and vxnet are in the state, the static and the
    rule are not."""
    from netweave.providers.qingcloud import orphans as found_by_name
    from netweave.providers.qingcloud.client import Client

    from tests.support.qc_emulator_support import make_instance
    from tests.support.qingcloud_cloud import router, running_emulator, vxnet

    for emu in running_emulator(monkeypatch):
        prefix = f"nw-{STACK}-"
        rtr = router(prefix + "vpc01")
        net = vxnet(rtr.id, "192.168.128.0/24", prefix + "vxnet01")
        conn = emu.connection("pek3a")
        instance = make_instance(conn, net.id, "192.168.128.3")
        conn.send_request("AddRouterStatics", {
            "router": rtr.id, "vxnet": net.id, "statics.1.static_type": 3, "statics.1.val1": instance,
            "statics.1.val2": "domain-name-servers=8.8.8.8",
            "statics.1.router_static_name": prefix + "vm01-routes"})
        table = conn.send_request("DescribeRoutingTableResources", {"resources": [net.id]})[
            "resource_user_group_set"][0]["rtable_id"]
        conn.send_request("AddRoutes", {"routing_table": table, "rules": [{
            "routing_table_rule_name": prefix + "vxnet01-route-table 10.9.0.0/16", "network": "10.9.0.0/16",
            "nexthop": "192.168.128.2", "nexthop_type": 3}]})
        c = Client("pek3a")
        found = found_by_name.find(c, STACK, {rtr.id, net.id})
        assert [(o.kind, o.name) for o in found] == [
            ("route_rule", prefix + "vxnet01-route-table 10.9.0.0/16"),
            ("router_static", prefix + "vm01-routes")]
        assert found_by_name.delete(c, found) == []
        assert found_by_name.find(c, STACK, {rtr.id, net.id}) == []
        assert emu.snapshot()["router"][0]["is_applied"] == 1, "UpdateRouters after the static went"
