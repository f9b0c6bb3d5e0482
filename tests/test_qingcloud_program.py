"""The Pulumi program under set_mocks: which QingCloud resources S1/S2 declare, with which
inputs, parents and dependency edges (the engine's create/destroy order and parallelism)."""

from __future__ import annotations

import base64
import io
import pickle
import re
import tarfile
from pathlib import Path

import dill
import pytest

from tests.support.qingcloud_program import QC, ProgramRun, run_program

FAKE_KEY_ID = "QYFAKEKEYID0000000001"
FAKE_SECRET = "fake-secret-access-key-Zq9vX3"


@pytest.fixture(scope="module")
def s1() -> ProgramRun:
    return run_program("s1-one-to-one")


@pytest.fixture(scope="module")
def s2() -> ProgramRun:
    return run_program("s2-many-to-many")


def names(run: ProgramRun, short: str) -> set[str]:
    return {r.name for r in run.of_type(short)}


def test_s1_declares_one_vpc_component_per_vpc_and_one_vcpe_component_per_vcpe(s1: ProgramRun) -> None:
    assert names(s1, "netweave:qingcloud:Vpc") == {"vpc01", "vpc02"}
    assert names(s1, "netweave:qingcloud:Vcpe") == {"vcpe01", "vcpe02"}


def test_s1_declares_exactly_the_qingcloud_resources_of_the_topology(s1: ProgramRun) -> None:
    declared = sorted((r.short_type, r.name) for r in s1.resources if r.typ.startswith(QC))
    assert declared == sorted([
        ("Vpc", "vpc01"), ("Vpc", "vpc02"), ("Vxnet", "vxnet01"), ("Vxnet", "vxnet02"),
        ("RouteTableRoutes", "vxnet01-route-table"), ("RouteTableRoutes", "vxnet02-route-table"),
        ("Eip", "vcpe01-eip"), ("Eip", "vcpe02-eip"), ("SecurityGroup", "vcpe01-sg"),
        ("SecurityGroup", "vcpe02-sg"), ("Instance", "vcpe01"), ("Instance", "vcpe02"),
        ("EipAssociation", "vcpe01-eip-association"), ("EipAssociation", "vcpe02-eip-association")])


def test_each_resource_has_its_own_type_token(s1: ProgramRun) -> None:
    assert s1.named("vxnet01").typ == "pulumi-python:dynamic/qingcloud:Vxnet"
    assert s1.named("vcpe01", "Instance").typ == "pulumi-python:dynamic/qingcloud:Instance"


def test_vpc_children_are_parented_to_their_vpc_component(s2: ProgramRun) -> None:
    vpc01 = s2.urn("vpc01", "netweave:qingcloud:Vpc")
    for name, short in [("vpc01", "Vpc"), ("vxnet01", "Vxnet"), ("vxnet03", "Vxnet"),
                        ("vm01-routes", "InstanceRoutes"), ("vm03-routes", "InstanceRoutes")]:
        assert s2.named(name, short).parent == vpc01, name


def test_vcpe_children_are_parented_to_their_vcpe_component(s2: ProgramRun) -> None:
    vcpe01 = s2.urn("vcpe01", "netweave:qingcloud:Vcpe")
    for name, short in [("vcpe01", "Instance"), ("vcpe01-nic1", "Nic"), ("vcpe01-eip", "Eip"),
                        ("vcpe01-sg", "SecurityGroup"), ("vcpe01-eip-association", "EipAssociation")]:
        assert s2.named(name, short).parent == vcpe01, name


def test_cloud_names_are_deterministic_per_stack(s2: ProgramRun) -> None:
    assert s2.named("vxnet03").inputs["name"] == "nw-s2-many-to-many-vxnet03"
    assert s2.named("vcpe01", "Instance").inputs["name"] == "nw-s2-many-to-many-vcpe01"


def test_vxnet_joins_its_vpc_router_with_its_network(s2: ProgramRun) -> None:
    vxnet = s2.named("vxnet03")
    assert vxnet.inputs["router_id"] == "rtr-vpc01"
    assert vxnet.inputs["ip_network"] == "192.168.129.0/24"
    assert vxnet.inputs["manager_ip"] == "192.168.129.1"
    assert vxnet.dependencies == [s2.urn("vpc01", "Vpc")]


def test_s2_extra_nic_has_its_fixed_address_in_vxnet03_and_attaches_to_vcpe01(s2: ProgramRun) -> None:
    nic = s2.named("vcpe01-nic1")
    assert nic.inputs["vxnet_id"] == "vxnet-vxnet03"
    assert nic.inputs["private_ip"] == "192.168.129.5"
    assert nic.inputs["instance_id"] == "i-vcpe01"
    assert set(nic.dependencies) == {s2.urn("vcpe01", "Instance"), s2.urn("vxnet03")}


def test_instance_has_its_primary_vxnet_and_fixed_address(s2: ProgramRun) -> None:
    instance = s2.named("vcpe01", "Instance")
    assert instance.inputs["vxnet_id"] == "vxnet-vxnet01"
    assert instance.inputs["private_ip"] == "192.168.128.2"
    assert instance.inputs["security_group_id"] == "sg-vcpe01-sg"
    assert instance.inputs["userdata_type"] == "tar"


def boot_files(run: ProgramRun, host: str) -> dict[str, str]:
    archive = base64.b64decode(run.named(host, "Instance").inputs["userdata"])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {f"/{m.name}": tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def test_boot_configuration_is_rendered_after_every_public_address_and_key(s2: ProgramRun) -> None:
    instance = s2.named("vcpe01", "Instance")
    assert {s2.urn("vcpe01-eip"), s2.urn("vcpe02-eip")} <= set(instance.dependencies)
    keys = {r.urn for r in s2.resources if r.typ.startswith("pulumi-python:dynamic/netweave:")
            and not r.typ.endswith(":HostConfig")}
    assert keys and keys <= set(instance.dependencies)


def test_each_vcpe_gets_a_host_config_applied_after_its_nics_and_eip(s2: ProgramRun) -> None:
    config = s2.named("vcpe01-config")
    assert {s2.urn("vcpe01", "Instance"), s2.urn("vcpe01-nic1"), s2.urn("vcpe01-eip-association")} \
        <= set(config.dependencies)
    assert config.inputs["address"] == s2.named("vcpe01-eip").state["eip_addr"]
    assert config.inputs["host_public_key"].startswith("ssh-ed25519 ")
    assert "files" in config.secret_inputs


def test_boot_configuration_is_the_rendered_archive_with_the_peer_eip(s2: ProgramRun) -> None:
    files = boot_files(s2, "vcpe01")
    peer_eip = s2.named("vcpe02-eip").state["eip_addr"]
    wireguard = [text for path, text in files.items() if path.startswith("/etc/wireguard/")]
    assert any(f"Endpoint = {peer_eip}:" in text for text in wireguard)
    assert "/etc/rc.local" in files and "/etc/frr/frr.conf" in files


def test_boot_configuration_and_provider_blob_are_secret_inputs(s2: ProgramRun) -> None:
    assert {"userdata", "__provider"} <= s2.named("vcpe01", "Instance").secret_inputs


def test_per_instance_pushes_go_to_the_hosts_of_the_vxnet_where_the_next_hop_is_on_link(
        s2: ProgramRun) -> None:
    assert s2.named("vm01-routes").inputs["routes"] == [
        {"destination": "172.17.0.0/24", "next_hop": "192.168.128.2"}]
    assert s2.named("vm03-routes").inputs["routes"] == [
        {"destination": "172.17.0.0/24", "next_hop": "192.168.129.5"}]
    vm03 = s2.named("vm03-routes").inputs
    assert (vm03["vxnet_id"], vm03["router_id"]) == ("vxnet-vxnet03", "rtr-vpc01")
    assert (vm03["address"], vm03["instance"], vm03["host"]) == ("192.168.129.3", {"address": True}, "vm03")


def test_route_table_pushes_go_to_the_table_of_the_next_hops_vxnet(s2: ProgramRun) -> None:
    assert s2.named("vxnet02-route-table").inputs["routes"] == [
        {"destination": "192.168.128.0/24", "next_hop": "172.17.0.2"},
        {"destination": "192.168.129.0/24", "next_hop": "172.17.0.2"}]
    assert s2.named("vxnet02-route-table").inputs["vxnet_id"] == "vxnet-vxnet02"


def test_a_host_without_instance_gets_no_per_instance_push(s2: ProgramRun) -> None:
    assert names(s2, "InstanceRoutes") == {"vm01-routes", "vm03-routes"}


def test_independent_resources_are_not_serialized(s2: ProgramRun) -> None:
    """Routers, EIPs and security groups wait for nothing; a vxnet waits only for its router."""
    for name, short in [("vpc01", "Vpc"), ("vpc02", "Vpc"), ("vcpe01-eip", "Eip"),
                        ("vcpe02-eip", "Eip"), ("vcpe01-sg", "SecurityGroup")]:
        assert s2.named(name, short).dependencies == [], name
    assert s2.named("vxnet02").dependencies == [s2.urn("vpc02", "Vpc")]
    assert s2.urn("vcpe01", "Instance") not in s2.named("vcpe02", "Instance").dependencies


def test_eip_association_waits_for_the_instance_and_the_eip(s2: ProgramRun) -> None:
    association = s2.named("vcpe01-eip-association")
    assert association.inputs == {**association.inputs, "eip_id": "eip-vcpe01-eip",
                                  "instance_id": "i-vcpe01"}


def test_security_group_accepts_the_tunnel_and_the_vpcs_it_routes_for(s2: ProgramRun) -> None:
    rules = s2.named("vcpe01-sg").inputs["rules"]
    wireguard = next(t for p, t in boot_files(s2, "vcpe01").items() if p.startswith("/etc/wireguard/"))
    port = re.search(r"ListenPort = (\d+)", wireguard).group(1)  # type: ignore[union-attr]
    assert {"protocol": "udp", "priority": 50, "action": "accept", "direction": 0,
            "val1": port, "val2": port, "val3": "0.0.0.0/0"} in rules
    assert any(r["protocol"] == "tcp" and r["val3"] == "192.168.0.0/16" for r in rules)


def test_a_topology_with_errors_registers_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nclouds: {}\nvpcs:\n  vpc01: {cloud: nowhere, cidr: 192.168.0.0/16}\n")
    with pytest.raises(Exception, match="nothing was deployed"):
        run_program("bad", {"topology": str(bad)})


def test_no_provider_blob_contains_a_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("QY_SECRET_ACCESS_KEY", FAKE_SECRET)
    run = run_program("s2-many-to-many", {"qingcloudAccessKeyId": FAKE_KEY_ID,
                                          "qingcloudSecretAccessKey": FAKE_SECRET})
    blobs = [r.inputs["__provider"] for r in run.resources if "__provider" in r.inputs]
    assert len(blobs) == len([r for r in run.resources if r.typ.startswith("pulumi-python")]) > 17
    for blob in blobs:
        raw = base64.b64decode(blob)
        assert FAKE_SECRET.encode() not in raw and FAKE_KEY_ID.encode() not in raw
        provider = dill.loads(raw)
        assert vars(provider) == {}, "a provider holds no state at all"
        assert FAKE_SECRET not in repr(pickle.dumps(provider))


def test_s3_deploys_the_qingcloud_half_and_the_vultr_half_in_one_program() -> None:
    s3 = run_program("s3-hybrid-vultr")
    assert {r.name for r in s3.of_type("Instance")} == {"qc-vcpe"}
    assert {r.name for r in s3.of_type("Vpc")} == {"qc-vpc"}
    vultr_instances = [r for r in s3.resources if r.typ == "vultr:index/instance:Instance"]
    assert [r.name for r in vultr_instances] == ["vultr-vcpe"]


def test_s3_qingcloud_vcpe_boots_with_the_vultr_reserved_ip_as_its_peer() -> None:
    s3 = run_program("s3-hybrid-vultr")
    reserved = next(r for r in s3.resources if r.typ == "vultr:index/reservedIp:ReservedIp")
    assert reserved.urn in s3.named("qc-vcpe", "Instance").dependencies
    wireguard = [t for p, t in boot_files(s3, "qc-vcpe").items() if p.startswith("/etc/wireguard/")]
    assert any(f"Endpoint = {reserved.state['subnet']}:" in t for t in wireguard)


def test_s4_vpn_server_is_a_qingcloud_host_with_its_vpn_port_open() -> None:
    s4 = run_program("s4-remote-access")
    component = s4.named("vpn01", "netweave:qingcloud:VpnServer")
    instance = s4.named("vpn01", "Instance")
    assert instance.parent == component.urn
    assert instance.inputs["private_ip"] == "192.168.20.5"
    assert instance.inputs["vxnet_id"] == "vxnet-vxnet-apps"
    rules = s4.named("vpn01-sg").inputs["rules"]
    assert any(r["protocol"] == "udp" and r["val1"] == "1194" and r["val3"] == "0.0.0.0/0" for r in rules)
    assert s4.named("vxnet-apps-route-table").inputs["routes"] == [
        {"destination": "10.99.0.0/24", "next_hop": "192.168.20.5"}]


def test_existing_objects_are_adopted_by_id_from_config_not_by_import() -> None:
    run = run_program("s2-many-to-many", {"qingcloudImport": '{"vpc01": "rtr-existing", "vcpe01": "i-old"}'})
    assert run.named("vpc01", "Vpc").inputs["adopt_id"] == "rtr-existing"
    assert run.named("vcpe01", "Instance").inputs["adopt_id"] == "i-old"
    assert run.named("vxnet01").inputs.get("adopt_id") is None
    assert all(r.import_id == "" for r in run.resources), "never the engine's import_"


def test_exports_name_ids_private_addresses_and_public_addresses(s2: ProgramRun) -> None:
    qingcloud = s2.outputs["qingcloud"]
    assert qingcloud["vpcs"]["vpc01"] == {"router_id": "rtr-vpc01",
                                          "vxnets": {"vxnet01": "vxnet-vxnet01", "vxnet03": "vxnet-vxnet03"}}
    vcpe01 = qingcloud["hosts"]["vcpe01"]
    assert vcpe01["instance_id"] == "i-vcpe01"
    assert vcpe01["private_addresses"] == ["192.168.128.2", "192.168.129.5"]
    assert vcpe01["public_ip"] == s2.outputs["public_addresses"]["vcpe01"] == \
        s2.named("vcpe01-eip").state["eip_addr"]
