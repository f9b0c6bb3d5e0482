"""The engine's own path: ``python -m pulumi.dynamic`` driven over gRPC with the pickled
providers the program produced (S2 under mocks), against the emulator — every resource
type; then S2 brought up under transient faults and after a crash mid-create."""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from netweave.providers.qingcloud.userdata import tar_archive
from netweave.qingcloud_emulator import Emulator, Faults
from pulumi.runtime.proto import provider_pb2

from tests.support.qingcloud_cloud import FAST, set_faults
from tests.support.qingcloud_engine import MiniEngine, ProviderError, ProviderHost, State
from tests.support.qingcloud_program import ProgramRun, run_program
from tests.support.qingcloud_workloads import Workloads

TYPES = ("Vpc", "Vxnet", "RouteTableRoutes", "InstanceRoutes", "Eip", "SecurityGroup", "Instance", "Nic",
         "EipAssociation")
# Per kind: how many S2 declares (NICs: 2 primary + 1 extra; rules: 5 per vCPE group; route
# tables: none of its own, 2 rules in VPC 02's default table; DHCP options for vm01 and vm03).
S2_EXPECTED = {"router": 2, "vxnet": 3, "instance": 2, "nic": 3, "eip": 2, "security_group": 2,
               "security_group_rule": 10, "routing_table_rule": 2, "router_static": 2}
# User data attachments are consumed by RunInstances; the API has no call to delete them.
NOT_USER_RESOURCES = {"attachment"}


@pytest.fixture(scope="module")
def s2() -> ProgramRun:
    return run_program("s2-many-to-many", {"qingcloudLoginKeypair": "kp-test"})


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(job_seconds=0.02, seed=5) as running:
        yield running


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, emptied and without faults after each test."""
    yield emulator
    emulator.set_faults(Faults())
    emulator.reset()


@pytest.fixture
def workloads(emu: Emulator) -> Workloads:
    """The user's VMs S2's per-instance pushes go to (vm01, vm03), launched when needed."""
    return Workloads(emu)


def stack_config(emulator: Emulator) -> dict[str, str]:
    """Credentials and endpoint as secret stack config, handed over by the engine's Configure."""
    return {"netweave:qingcloudEndpoint": emulator.endpoint,
            "netweave:qingcloudAccessKeyId": emulator.access_key_id,
            "netweave:qingcloudSecretAccessKey": emulator.secret}


@pytest.fixture(scope="module")
def host(emulator: Emulator) -> Iterator[ProviderHost]:
    """One provider host per module, as one `pulumi up` keeps one for all its resources."""
    with ProviderHost(FAST, stack_config(emulator)) as provider_host:
        yield provider_host


@pytest.fixture
def up(s2: ProgramRun, emu: Emulator, host: ProviderHost, workloads: Workloads) -> MiniEngine:
    engine = MiniEngine(s2, before_create=workloads)
    engine.up(host)
    return engine


def counts(emulator: Emulator, workloads: Workloads | None = None) -> dict[str, int]:
    """Live objects by kind; the user's own VMs (and their NICs) left out."""
    mine = workloads.ids if workloads is not None else set()
    snap = emulator.snapshot()
    snap["instance"] = [i for i in snap["instance"] if i["instance_id"] not in mine]
    snap["nic"] = [n for n in snap["nic"] if n.get("instance_id") not in mine]
    return {k: len(v) for k, v in snap.items() if v and k not in NOT_USER_RESOURCES}


def names(emulator: Emulator) -> Counter[str]:
    snap = emulator.snapshot()
    return Counter(item.get(f"{kind}_name") or item.get("rtable_name") or ""
                   for kind in ("router", "vxnet", "instance", "eip", "security_group", "routing_table")
                   for item in snap[kind])


def of_type(engine: MiniEngine, short: str) -> list[Any]:
    return [r for r in engine.custom if r.short_type == short]


def test_every_resource_type_is_created_through_the_provider_host(emu: Emulator, up: MiniEngine,
                                                                  workloads: Workloads) -> None:
    assert {r.short_type for r in up.custom} == set(TYPES)
    assert [op for op, _ in up.log] == ["create"] * len(up.custom)
    assert counts(emu, workloads) == S2_EXPECTED


def test_s2_instances_have_their_fixed_addresses_and_the_extra_nic(emu: Emulator, up: MiniEngine) -> None:
    snap = emu.snapshot()
    primaries = {i["instance_name"]: i["vxnets"][0]["private_ip"] for i in snap["instance"]
                 if i["instance_name"].startswith("nw-")}
    assert primaries == {"nw-s2-many-to-many-vcpe01": "192.168.128.2",
                         "nw-s2-many-to-many-vcpe02": "172.17.0.2"}
    [extra] = [n for n in snap["nic"] if n.get("nic_name") == "nw-s2-many-to-many-vcpe01-nic1"]
    vcpe01 = next(i for i in snap["instance"] if i["instance_name"].endswith("vcpe01"))
    assert (extra["private_ip"], extra["instance_id"]) == ("192.168.129.5", vcpe01["instance_id"])
    assert all(e["resource"]["resource_id"] for e in snap["eip"]), "both EIPs associated"


def test_every_resource_type_reads_back_on_refresh(host: ProviderHost, up: MiniEngine) -> None:
    for r in up.custom:
        id_, outs = up.state.resources[r.urn]
        read_id, read_outs, _ = host.read(r.urn, id_, outs)
        assert read_id == id_, r.name
        assert read_outs.get("name", outs.get("name")) == outs.get("name"), r.name


def test_the_engines_import_cannot_reach_a_dynamic_provider(host: ProviderHost, up: MiniEngine) -> None:
    """`pulumi import` / `import_`: the engine's ImportStep sends Read with the id only — no
    properties, no inputs (pkg/resource/deploy/step.go) — and the dynamic provider host needs
    the pickled provider from them: pulumi/pulumi#16175. This is why netweave adopts by id."""
    r = next(x for x in up.custom if x.short_type == "Vpc")
    id_, _ = up.state.resources[r.urn]
    with pytest.raises(ProviderError, match="__provider"):
        host.read(r.urn, id_, {})


ADOPTABLE = ("Vpc", "Vxnet", "SecurityGroup", "Eip", "Instance", "Nic")


def test_every_adoptable_type_takes_over_an_existing_object_by_id(
        emu: Emulator, host: ProviderHost, up: MiniEngine, workloads: Workloads) -> None:
    """adopt_id through the provider host: Create returns the existing object, nothing new
    is made, and the program's next diff is empty."""
    before = counts(emu, workloads)
    for short in ADOPTABLE:
        for r in of_type(up, short):
            id_, _ = up.state.resources[r.urn]
            news, failures = host.check(r.urn, {}, {**up.news(r), "adopt_id": id_})
            assert not failures, (r.name, failures)
            adopted, outs = host.create(r.urn, news)
            assert adopted == id_, r.name
            assert host.diff(r.urn, id_, outs, news).changes == provider_pb2.DiffResponse.DIFF_NONE, r.name
    assert counts(emu, workloads) == before


def test_adopting_an_object_that_differs_from_the_topology_is_refused(host: ProviderHost,
                                                                       up: MiniEngine) -> None:
    r = next(x for x in up.custom if x.short_type == "Vxnet")
    id_, _ = up.state.resources[r.urn]
    news, _ = host.check(r.urn, {}, {**up.news(r), "ip_network": "192.168.200.0/24", "adopt_id": id_})
    with pytest.raises(ProviderError, match=r"ip_network is '.*', the topology says '192\.168\.200\.0/24'"):
        host.create(r.urn, news)


def test_adopting_an_id_that_does_not_exist_is_refused(host: ProviderHost, up: MiniEngine) -> None:
    r = next(x for x in up.custom if x.short_type == "Vpc")
    news, _ = host.check(r.urn, {}, {**up.news(r), "adopt_id": "rtr-nothere"})
    with pytest.raises(ProviderError, match="no router rtr-nothere"):
        host.create(r.urn, news)


def test_refresh_then_up_changes_nothing(host: ProviderHost, up: MiniEngine) -> None:
    for r in up.custom:
        id_, olds = up.state.resources[r.urn]
        _, outs, _ = host.read(r.urn, id_, olds)
        news, _ = host.check(r.urn, olds, up.news(r))
        assert host.diff(r.urn, id_, outs, news).changes == provider_pb2.DiffResponse.DIFF_NONE, r.name


BAD_INPUTS: dict[str, dict[str, Any]] = {
    "Vpc": {"vpc_network": "10.0.0.0/8"},
    "Vxnet": {"ip_network": "192.168.128.9/24"},
    "RouteTableRoutes": {"routes": [{"destination": "172.17.0.0/24"}]},
    "InstanceRoutes": {"routes": []},
    "Eip": {"bandwidth": 0},
    "SecurityGroup": {"rules": [{"protocol": "sctp"}]},
    "Instance": {"userdata_type": "cloud-init"},
    "Nic": {"private_ip": "192.168.129"},
    "EipAssociation": {"instance_id": ""},
}


def test_every_resource_type_returns_input_errors_as_check_failures(s2: ProgramRun,
                                                                    host: ProviderHost) -> None:
    for short, bad in BAD_INPUTS.items():
        r = next(x for x in s2.resources if x.short_type == short)
        _, failures = host.check(r.urn, {}, {**r.inputs, **bad})
        assert failures and failures[0][0] in bad, (short, failures)


IN_PLACE: dict[str, dict[str, Any]] = {
    "Vpc": {"name": "nw-s2-many-to-many-vpc01-renamed"},
    "Vxnet": {"name": "nw-s2-many-to-many-vxnet-renamed"},
    "RouteTableRoutes": {"routes": [{"destination": "10.9.0.0/16", "next_hop": "172.17.0.2"}]},
    "Eip": {"bandwidth": 30},
    "SecurityGroup": {"rules": []},
    "Instance": {"name": "nw-s2-many-to-many-vcpe-renamed"},
    "Nic": {"name": "nw-s2-many-to-many-nic-renamed"},
}
REPLACING: dict[str, dict[str, Any]] = {
    "Vpc": {"vpc_network": "172.20.0.0/16"},
    "Vxnet": {"ip_network": "192.168.200.0/24"},
    "RouteTableRoutes": {"vxnet_id": "vxnet-other"},
    "InstanceRoutes": {"routes": [{"destination": "10.9.0.0/16", "next_hop": "192.168.128.2"}]},
    "Eip": {"billing_mode": "bandwidth"},
    "SecurityGroup": {"zone": "sh1a"},
    "Instance": {"image_id": "ubuntu2404x64"},  # user data: first boot only, never replaces
    "Nic": {"private_ip": "192.168.129.6"},
    "EipAssociation": {"instance_id": "i-other"},
}


def test_every_updatable_type_updates_in_place_over_grpc(host: ProviderHost, up: MiniEngine) -> None:
    for short, change in IN_PLACE.items():
        r = of_type(up, short)[0]
        id_, olds = up.state.resources[r.urn]
        news, failures = host.check(r.urn, olds, {**up.news(r), **change})
        assert not failures, (short, failures)
        diff = host.diff(r.urn, id_, olds, news)
        assert (diff.changes, list(diff.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, []), short
        outs = host.update(r.urn, id_, olds, news)
        assert all(outs[k] == v for k, v in change.items()), short


def test_every_type_names_what_forces_a_replacement_and_deletes_first(host: ProviderHost,
                                                                      up: MiniEngine) -> None:
    for short, change in REPLACING.items():
        r = of_type(up, short)[0]
        id_, olds = up.state.resources[r.urn]
        diff = host.diff(r.urn, id_, olds, {**up.news(r), **change})
        assert list(diff.replaces) == list(change) and diff.deleteBeforeReplace, short


def test_unchanged_program_diffs_to_nothing_for_every_type(host: ProviderHost, up: MiniEngine) -> None:
    for r in up.custom:
        id_, olds = up.state.resources[r.urn]
        news, _ = host.check(r.urn, olds, up.news(r))
        assert host.diff(r.urn, id_, olds, news).changes == provider_pb2.DiffResponse.DIFF_NONE, r.name


def test_destroy_in_reverse_order_leaves_the_emulator_empty(emu: Emulator, host: ProviderHost,
                                                            up: MiniEngine, workloads: Workloads) -> None:
    workloads.terminate()  # the user's VMs leave the vxnets first (a vxnet with VMs stays)
    up.destroy(host)
    assert counts(emu) == {}


def test_deleting_what_is_already_gone_is_done_for_every_type(host: ProviderHost, up: MiniEngine,
                                                              workloads: Workloads) -> None:
    kept = dict(up.state.resources)
    workloads.terminate()
    up.destroy(host)
    for r in up.custom:
        host.delete(r.urn, *kept[r.urn])


# --- convergence ---------------------------------------------------------------------------

def assert_exactly_s2(emulator: Emulator, workloads: Workloads) -> None:
    assert counts(emulator, workloads) == S2_EXPECTED
    duplicated = [n for n, c in names(emulator).items() if c > 1]
    assert duplicated == []


def test_s2_converges_under_30_percent_transient_faults(s2: ProgramRun, emu: Emulator,
                                                        host: ProviderHost, workloads: Workloads) -> None:
    set_faults(emu, rate=0.15, codes=(5100, 5000, 5300), http500_rate=0.075, lost_response_rate=0.075)
    engine = MiniEngine(s2, before_create=workloads)
    engine.up(host)
    assert_exactly_s2(emu, workloads)
    engine.up(host)  # a second `pulumi up`: nothing to do
    assert [op for op, _ in engine.log].count("create") == len(engine.custom)
    workloads.terminate()
    engine.destroy(host)
    assert counts(emu) == {}


def test_s2_converges_after_a_crash_mid_create(s2: ProgramRun) -> None:
    """The provider host dies after the cloud accepted RunInstances (the engine never got the
    answer); the next `pulumi up` adopts what exists and creates only the rest."""
    with Emulator(job_seconds=0.02, seed=9, job_overrides={"RunInstances": 1.0}) as emu:
        state = State()
        workloads = Workloads(emu)
        crashed = ProviderHost(FAST, stack_config(emu))
        first = MiniEngine(s2, state, before_create=workloads)
        failure: list[BaseException] = []
        runner = threading.Thread(target=lambda: _capture(failure, first.up, crashed))
        runner.start()
        deadline = time.monotonic() + 20
        while not [i for i in emu.snapshot()["instance"] if i["instance_name"].startswith("nw-")]:
            assert time.monotonic() < deadline, "RunInstances never accepted"
            time.sleep(0.01)
        crashed.kill()
        runner.join(timeout=30)
        crashed.close()
        assert failure and isinstance(failure[0], ProviderError)
        assert not any(r.short_type == "Instance" for r in first.custom if r.urn in state.resources)

        with ProviderHost(FAST, stack_config(emu)) as host:
            second = MiniEngine(s2, state, before_create=workloads)
            second.up(host)
            assert_exactly_s2(emu, workloads)
            workloads.terminate()
            second.destroy(host)
            assert counts(emu) == {}


def _capture(into: list[BaseException], fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except BaseException as exc:  # the crash shows up as an RPC error in the engine
        into.append(exc)


def test_a_new_image_replaces_the_vcpe_and_rewires_its_nic_and_eip(
        emu: Emulator, host: ProviderHost, s2: ProgramRun, up: MiniEngine) -> None:
    instance = next(r for r in up.custom if r.short_type == "Instance" and r.name == "vcpe01")
    old_id = up.state.resources[instance.urn][0]
    changed = dataclasses.replace(instance, inputs={**instance.inputs, "image_id": "ubuntu2404x64"})
    rerun = ProgramRun([changed if r is instance else r for r in s2.resources])
    second = MiniEngine(rerun, up.state, before_create=up.before_create)
    second.up(host)

    ops = {second.by_urn[urn].name: op for op, urn in second.log}
    assert ops == {"vcpe01": "replace", "vcpe01-nic1": "update", "vcpe01-eip-association": "replace"}
    snap = emu.snapshot()
    [vcpe01] = [i for i in snap["instance"] if i["instance_name"].endswith("-vcpe01")]
    assert vcpe01["instance_id"] != old_id and vcpe01["vxnets"][0]["private_ip"] == "192.168.128.2"
    [extra] = [n for n in snap["nic"] if n.get("nic_name", "").endswith("vcpe01-nic1")]
    assert extra["instance_id"] == vcpe01["instance_id"]
    assert vcpe01["instance_id"] in {e["resource"]["resource_id"] for e in snap["eip"]}


def test_a_new_boot_configuration_leaves_the_running_vcpe_alone(
        emu: Emulator, host: ProviderHost, s2: ProgramRun, up: MiniEngine) -> None:
    # user data is the first boot; the change goes in place (HostConfig), not here
    instance = next(r for r in up.custom if r.short_type == "Instance" and r.name == "vcpe01")
    old_id = up.state.resources[instance.urn][0]
    archive = base64.b64encode(tar_archive({"/etc/netweave/boot": "v2\n"})).decode()
    changed = dataclasses.replace(instance, inputs={**instance.inputs, "userdata": archive})
    rerun = ProgramRun([changed if r is instance else r for r in s2.resources])
    second = MiniEngine(rerun, up.state)
    second.up(host)
    assert [second.by_urn[urn].name for _, urn in second.log] == []
    assert up.state.resources[instance.urn][0] == old_id


@pytest.mark.parametrize("stack", ["s1-one-to-one", "s3-hybrid-vultr", "s4-remote-access"])
def test_the_qingcloud_side_of_every_stack_comes_up_and_goes_away(emu: Emulator, host: ProviderHost,
                                                                   stack: str) -> None:
    run = run_program(stack, {"qingcloudLoginKeypair": "kp-test"})
    engine = MiniEngine(run)
    engine.up(host)
    instances = {i["instance_name"] for i in emu.snapshot()["instance"]}
    assert instances == {f"nw-{stack}-{r.name}" for r in engine.custom if r.short_type == "Instance"}
    assert instances
    engine.destroy(host)
    assert counts(emu) == {}
