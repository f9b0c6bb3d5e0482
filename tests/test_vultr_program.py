"""The Vultr side of S3 under set_mocks: resources, inputs, secrets, repeatability."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pulumi
import pytest
import yaml
from netweave.deploy import keys as keys_module
from netweave.render.material import wireguard_from_private

from tests.support.qingcloud_program import ProgramRun, run_program
from tests.support.render_helpers import STACKS
from tests.support.vultr_program import OS_ID, QC_EIP, RESERVED, Recorder, run_s3

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _declare(text: str | None = None) -> tuple[Recorder, dict[str, Any]]:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="netweave", stack="s3", preview=False)
    declared: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[Any]:
        declared.update(run_s3(recorder, text))
        instances = declared["deployment"].instances.values()
        seen = declared["rendered"].apply(lambda r: declared.__setitem__("rendered_value", r))
        return pulumi.Output.all(*[i.urn for i in instances], declared["ring"].material, seen)

    program()
    return recorder, declared


def _one(recorder: Recorder, typ: str) -> pulumi.runtime.MockResourceArgs:
    (found,) = recorder.by_type(typ)
    return found


def _value(wrapped: Any) -> Any:
    return wrapped["value"] if isinstance(wrapped, dict) and SECRET_SIG in wrapped else wrapped


def test_vultr_vpc_is_created_from_the_vpc_cidr() -> None:
    recorder, _ = _declare()
    vpc = _one(recorder, "vultr:index/vpc:Vpc")
    assert (vpc.name, vpc.inputs["region"], vpc.inputs["v4Subnet"], vpc.inputs["v4SubnetMask"]) == (
        "vultr-vpc", "ams", "10.8.0.0", 20)


def test_vcpe_instance_has_plan_region_os_vpc_firewall_and_reserved_ip() -> None:
    recorder, _ = _declare()
    instance = _one(recorder, "vultr:index/instance:Instance")
    assert instance.inputs["plan"] == "vc2-1c-1gb"
    assert instance.inputs["region"] == "ams"
    assert instance.inputs["osId"] == OS_ID
    assert instance.inputs["vpcIds"] == ["vultr-vpc-id"]
    assert instance.inputs["firewallGroupId"] == "vultr-vcpe-fw-id"
    assert instance.inputs["reservedIpId"] == "vultr-vcpe-ip-id"
    assert instance.inputs["hostname"] == "vultr-vcpe"


def test_os_image_is_looked_up_by_name() -> None:
    recorder, _ = _declare()
    (call,) = [c for c in recorder.calls if c.token == "vultr:index/getOs:getOs"]
    assert call.args["filters"] == [{"name": "name", "values": ["Debian 12 x64 (bookworm)"]}]


def test_reserved_ip_is_the_stable_tunnel_endpoint() -> None:
    recorder, declared = _declare()
    reserved = _one(recorder, "vultr:index/reservedIp:ReservedIp")
    assert (reserved.inputs["region"], reserved.inputs["ipType"]) == ("ams", "v4")
    assert "instanceId" not in reserved.inputs  # attached by the instance: no cycle
    qc_wg = declared["rendered_value"].hosts["qc-vcpe"].file("/etc/wireguard/wg-vultr-vcpe.conf")
    assert f"Endpoint = {RESERVED['vultr-vcpe-ip']}:51820" in qc_wg.content


def test_firewall_admits_the_tunnel_port_only_from_the_peer() -> None:
    recorder, _ = _declare()
    (rule,) = recorder.by_type("vultr:index/firewallRule:FirewallRule")
    assert {k: rule.inputs[k] for k in ("protocol", "subnet", "subnetSize", "port", "ipType")} == {
        "protocol": "udp", "subnet": QC_EIP, "subnetSize": 32, "port": "51820", "ipType": "v4"}


def test_ssh_is_admitted_only_from_ssh_from() -> None:
    text = (STACKS / "s3-hybrid-vultr.yaml").read_text().replace(
        "    instance_type: vc2-1c-1gb\n", "    instance_type: vc2-1c-1gb\n    ssh_from: [203.0.113.0/24]\n")
    recorder, _ = _declare(text)
    ssh = [r for r in recorder.by_type("vultr:index/firewallRule:FirewallRule") if r.inputs["port"] == "22"]
    assert [(r.inputs["protocol"], r.inputs["subnet"], r.inputs["subnetSize"]) for r in ssh] == [
        ("tcp", "203.0.113.0", 24)]


def test_user_data_is_a_secret_cloud_config() -> None:
    recorder, _ = _declare()
    user_data = _one(recorder, "vultr:index/instance:Instance").inputs["userData"]
    assert isinstance(user_data, dict) and SECRET_SIG in user_data, "user_data must be a secret"
    doc = _value(user_data)
    assert doc.startswith("#cloud-config\n")
    parsed = yaml.safe_load(io.StringIO(doc))
    paths = {f["path"] for f in parsed["write_files"]}
    assert "/etc/wireguard/wg-qc-vcpe.conf" in paths and "/etc/frr/frr.conf" in paths
    wg = next(f["content"] for f in parsed["write_files"] if f["path"] == "/etc/wireguard/wg-qc-vcpe.conf")
    assert f"Endpoint = {QC_EIP}:51820" in wg
    assert "PLACEHOLDER" not in wg  # keys come from the key resources


def test_two_runs_register_identical_inputs() -> None:
    first, _ = _declare()
    second, _ = _declare()

    def inputs(r: Recorder) -> list[tuple[str, str, Any]]:
        # registration order depends on when Outputs resolve; the set of inputs must not
        return sorted(((a.typ, a.name, a.inputs) for a in r.registered), key=lambda x: x[:2])

    assert inputs(first) == inputs(second)


def test_key_material_handed_to_the_renderer_is_secret() -> None:
    _, declared = _declare()
    secret: list[bool] = []

    @pulumi.runtime.test  # type: ignore[misc]
    def check() -> Any:
        return pulumi.Output.from_input(declared["ring"].material.is_secret()).apply(secret.append)

    check()
    assert secret == [True]


def test_private_key_fields_are_additional_secret_outputs() -> None:
    for kind, fields in keys_module.SECRET_FIELDS.items():
        opts = keys_module._secret(None, kind)
        assert opts.additional_secret_outputs == fields
    assert keys_module.SECRET_FIELDS["wireguard"] == ["private_key"]


def test_key_provider_creates_a_matching_x25519_pair() -> None:
    created = keys_module.KeyProvider().create({"key_id": "t/a", "kind": "wireguard"})
    outs = created.outs or {}
    assert wireguard_from_private(base64.b64decode(outs["private_key"])).public_key == outs["public_key"]


def test_key_provider_reports_no_change_for_the_same_key() -> None:
    provider = keys_module.KeyProvider()
    olds = {"key_id": "t/a", "kind": "wireguard", "private_key": "x", "public_key": "y"}
    assert provider.diff("id", olds, {"key_id": "t/a", "kind": "wireguard"}).changes is False
    renamed = provider.diff("id", olds, {"key_id": "t/b", "kind": "wireguard"})
    assert renamed.changes is True and renamed.replaces == ["key_id"]


@pytest.mark.parametrize("kind", ["psk", "tls"])
def test_key_provider_creates_the_other_kinds(kind: str) -> None:
    outs = keys_module.KeyProvider().create({"key_id": "vpn/x", "kind": kind}).outs or {}
    assert set(keys_module.SECRET_FIELDS[kind]) <= set(outs)


def test_vultr_vpn_server_gets_an_instance_open_only_on_its_vpn_port() -> None:
    text = (STACKS / "s4-remote-access.yaml").read_text().replace(
        "  qc-pek3a:\n    provider: qingcloud\n    zone: pek3a\n",
        "  vultr-ams:\n    provider: vultr\n    region: ams\n").replace("cloud: qc-pek3a", "cloud: vultr-ams")
    # Vultr assigns the VPN host's VPC address: none written, the push names the host
    text = text.replace("    address: 192.168.20.5\n", "").replace("next_hop: 192.168.20.5",
                                                                "next_hop: vpn01")
    recorder, _ = _declare(text)
    instance = _one(recorder, "vultr:index/instance:Instance")
    assert (instance.name, instance.inputs["reservedIpId"]) == ("vpn01", "vpn01-ip-id")
    (rule,) = recorder.by_type("vultr:index/firewallRule:FirewallRule")
    assert (rule.inputs["protocol"], rule.inputs["port"], rule.inputs["subnetSize"]) == ("udp", "1194", 0)
    doc = yaml.safe_load(io.StringIO(_value(instance.inputs["userData"])))
    assert "/etc/openvpn/server/ovpn-vpn01.conf" in {f["path"] for f in doc["write_files"]}


# --- the VPC address is Vultr's: read from the instance, fed to what needs it -------------

def _s3_program() -> ProgramRun:
    return run_program("s3-hybrid-vultr")


def _topology_addresses() -> set[str]:
    text = (STACKS / "s3-hybrid-vultr.yaml").read_text()
    return set(re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", text))


def test_vultr_resources_are_children_of_components_in_one_tree() -> None:
    run = _s3_program()
    vcpe = run.named("vultr-vcpe", "netweave:vultr:Vcpe")
    vpc = run.named("vultr-vpc", "netweave:vultr:Vpc")
    group = run.named("vultr-vcpe-fw", "vultr:index/firewallGroup:FirewallGroup")
    assert run.named("vultr-vcpe", "vultr:index/instance:Instance").parent == vcpe.urn
    assert run.named("vultr-vcpe-ip", "vultr:index/reservedIp:ReservedIp").parent == vcpe.urn
    assert group.parent == vcpe.urn
    assert {r.parent for r in run.of_type("vultr:index/firewallRule:FirewallRule")} == {group.urn}
    assert run.named("vultr-vpc", "vultr:index/vpc:Vpc").parent == vpc.urn
    qc = run.named("qc-vcpe", "netweave:qingcloud:Vcpe")
    assert vcpe.parent == qc.parent  # both clouds' hosts side by side under the stack


def test_resources_keep_the_urns_they_had_at_the_stack_root_as_aliases() -> None:
    run = _s3_program()
    # an alias spec with noParent: the engine derives the URN the resource had at the root
    # (same name and type) and updates it in place instead of replacing it
    for name, typ in [("vultr-vcpe", "vultr:index/instance:Instance"),
                      ("vultr-vcpe-ip", "vultr:index/reservedIp:ReservedIp"),
                      ("vultr-vcpe-fw", "vultr:index/firewallGroup:FirewallGroup"),
                      ("vultr-vpc", "vultr:index/vpc:Vpc")]:
        assert run.named(name, typ).alias_urns == ["spec:::root"], name


def test_workload_routes_go_through_the_address_vultr_assigned_not_one_the_topology_names() -> None:
    run = _s3_program()
    assigned = run.outputs["vultr"]["vpc_addresses"]["vultr-vcpe"]
    instance = run.named("vultr-vcpe", "vultr:index/instance:Instance")
    assert assigned == instance.state["internalIp"] == "10.8.8.5"
    assert assigned not in _topology_addresses()
    snippet = yaml.safe_load(run.outputs["workload_routes"]["vultr-vpc"])
    assert snippet["bootcmd"] == [["ip", "route", "replace", "192.168.10.0/24", "via", assigned]]


def test_the_instance_boots_with_nothing_that_waits_for_its_own_vpc_address() -> None:
    run = _s3_program()
    instance = run.named("vultr-vcpe", "vultr:index/instance:Instance")
    doc = instance.inputs["userData"]
    assert "10.8.8.5" not in doc and "10.8.0.2" not in doc
    assert not re.search(r"\b(enp\d+s\d+|ens\d+)\b", doc)  # no guessed interface name


def _workload_routes_with(internal_ip: str) -> Any:
    recorder = Recorder()
    recorder.vultr.internal_ip["vultr-vcpe"] = internal_ip
    pulumi.runtime.set_mocks(recorder, project="netweave", stack="s3", preview=False)
    got: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        return run_s3(recorder)["workload_routes"].apply(got.update)

    program()
    return got


def test_a_blank_internal_ip_stops_the_update_instead_of_routing_nowhere() -> None:
    # terraform-provider-vultr #173: blank with several private networks or mid-attach
    with pytest.raises(pulumi.RunError, match=r"Vultr reported no internal_ip for vultr-vcpe"):
        _workload_routes_with("")


def test_an_internal_ip_outside_the_vpc_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match=r"internal_ip 10\.9\.0\.7 .* not in VPC vultr-vpc"):
        _workload_routes_with("10.9.0.7")


def test_the_workload_routes_follow_whatever_address_vultr_gives() -> None:
    got = _workload_routes_with("10.8.12.34")
    assert '"192.168.10.0/24", via, "10.8.12.34"]' in got["vultr-vpc"]
