"""The CrossGuard pack: its validation functions called with fabricated arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from netweave.deploy import policy
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

ROOT = Path(__file__).resolve().parent.parent
ROUTE_TYPO = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"


def opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 additional_secret_outputs=[],
                                 custom_timeouts=None, parent=None)  # type: ignore[arg-type]


def resource(stack: str, typ: str = "pulumi-python:dynamic/qingcloud:Vxnet", name: str = "vxnet01"
             ) -> PolicyResource:
    return PolicyResource(typ, {}, f"urn:pulumi:{stack}::netweave::{typ}::{name}", name, opts(), None,
                          None, [], {})


def stack_args(stack: str, config: dict[str, Any] | None = None) -> StackValidationArgs:
    return StackValidationArgs([resource(stack)], config or {})


def violations(validate: Any, args: Any) -> list[str]:
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


def resource_args(typ: str, props: dict[str, Any], name: str = "r") -> ResourceValidationArgs:
    return ResourceValidationArgs(typ, props, f"urn:pulumi:s::netweave::{typ}::{name}", name, opts(), None)


def test_a_clean_stack_passes_the_lint_policy() -> None:
    assert violations(policy.validate_lint, stack_args("s2-many-to-many")) == []


def test_lint_errors_of_the_stacks_topology_are_violations(tmp_path: Path) -> None:
    bad = tmp_path / "stacks" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text((ROOT / "stacks" / "s2-many-to-many.yaml").read_text().replace(
        "cidr: 172.17.0.0/16", "cidr: 172.17.0.0/33"))
    found = violations(policy.validate_lint, stack_args("broken", {"project_dir": str(tmp_path)}))
    assert len(found) == 1 and "broken.yaml:" in found[0] and "S104" in found[0]


def test_the_topology_is_found_from_the_stack_config_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(f"config:\n  netweave:topology: {ROUTE_TYPO}\n")
    assert policy.topology_file("prod", {"project_dir": str(tmp_path)}) == ROUTE_TYPO


def test_the_policy_config_topology_wins(tmp_path: Path) -> None:
    assert policy.topology_file("prod", {"project_dir": str(tmp_path), "topology": "x/y.yaml"}) == \
        tmp_path / "x" / "y.yaml"


def test_a_missing_topology_file_is_a_violation(tmp_path: Path) -> None:
    found = violations(policy.validate_lint, stack_args("nowhere", {"project_dir": str(tmp_path)}))
    assert len(found) == 1 and "S000" in found[0]


def test_the_lint_policy_is_mandatory_and_warnings_advisory() -> None:
    levels = {p.name: p.enforcement_level for p in policy.policies()}
    assert levels["netweave-lint"] is EnforcementLevel.MANDATORY
    assert levels["netweave-lint-warnings"] is EnforcementLevel.ADVISORY
    assert levels["no-ssh-from-internet"] is EnforcementLevel.MANDATORY


def _sg(rules: list[dict[str, Any]]) -> ResourceValidationArgs:
    return resource_args(policy.QINGCLOUD_SECURITY_GROUP, {"rules": rules}, "vcpe01-sg")


def test_ssh_open_to_the_internet_on_a_vcpe_is_refused() -> None:
    rule = {"protocol": "tcp", "action": "accept", "direction": 0, "val1": "22", "val2": "22",
            "val3": "0.0.0.0/0"}
    (message,) = violations(policy.validate_no_ssh_from_internet, _sg([rule]))
    assert "vcpe01-sg rule 0 opens SSH" in message


@pytest.mark.parametrize("change", [{"val3": "198.51.100.0/24"}, {"val1": "80", "val2": "80"},
                                    {"protocol": "udp"}, {"action": "drop"}])
def test_ssh_rules_that_do_not_open_port_22_to_everyone_pass(change: dict[str, Any]) -> None:
    rule = {"protocol": "tcp", "action": "accept", "direction": 0, "val1": "22", "val2": "22",
            "val3": "0.0.0.0/0", **change}
    assert violations(policy.validate_no_ssh_from_internet, _sg([rule])) == []


def test_vultr_firewall_rule_opening_ssh_to_everyone_is_refused() -> None:
    args = resource_args(policy.VULTR_FIREWALL_RULE, {"protocol": "tcp", "subnet": "0.0.0.0",
                                                      "subnetSize": 0, "port": "22"})
    assert len(violations(policy.validate_no_ssh_from_internet, args)) == 1


@pytest.mark.parametrize("kind", policy.QINGCLOUD_ROUTE_PUSHES)
def test_route_push_with_two_next_hops_for_one_destination_is_refused(kind: str) -> None:
    args = resource_args(kind, {"routes": [
        {"destination": "172.17.0.0/24", "next_hop": "192.168.128.2"},
        {"destination": "172.17.0.0/24", "next_hop": "192.168.128.4"}]}, "vxnet01-route-push")
    (message,) = violations(policy.validate_route_push, args)
    assert "two next hops" in message


@pytest.mark.parametrize("kind", policy.QINGCLOUD_ROUTE_PUSHES)
def test_route_push_next_hop_inside_its_destination_is_refused(kind: str) -> None:
    args = resource_args(kind, {"routes": [
        {"destination": "172.17.0.0/24", "next_hop": "172.17.0.9"}]})
    assert "inside its own destination" in violations(policy.validate_route_push, args)[0]


def test_the_planned_route_pushes_of_s2_pass() -> None:
    from netweave.deploy import plan
    planned = plan.run(ROOT / "stacks" / "s2-many-to-many.yaml", "s2-many-to-many")
    assert {r.type for r in planned.resources} >= set(policy.QINGCLOUD_ROUTE_PUSHES)
    for r in planned.resources:
        if r.type in policy.QINGCLOUD_ROUTE_PUSHES:
            assert violations(policy.validate_route_push, resource_args(r.type, r.inputs, r.name)) == []
        if r.type == policy.QINGCLOUD_SECURITY_GROUP:
            assert violations(policy.validate_no_ssh_from_internet, resource_args(r.type, r.inputs)) == []


def test_the_pack_entry_point_imports_the_policies() -> None:
    text = (ROOT / "policy" / "__main__.py").read_text()
    assert "from netweave.deploy.policy import serve" in text
    assert "virtualenv: ../venv" in (ROOT / "policy" / "PulumiPolicy.yaml").read_text()


def test_the_pack_serves_the_analyzer_protocol_the_cli_talks_to() -> None:
    """Start the pack as `pulumi preview --policy-pack policy` would, then ask it over gRPC."""
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    proc = subprocess.Popen([sys.executable, "-u", "__main__.py"], cwd=ROOT / "policy",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert {p.name for p in info.policies} == {p.name for p in policy.policies()}
            props = struct_pb2.Struct()
            props.update({"rules": [{"protocol": "tcp", "action": "accept", "direction": 0, "val1": "22",
                                     "val2": "22", "val3": "0.0.0.0/0"}]})
            typ = policy.QINGCLOUD_SECURITY_GROUP
            sg = analyzer_pb2.AnalyzerResource(type=typ, properties=props, name="vcpe01-sg",
                                               urn=f"urn:pulumi:s2-many-to-many::netweave::{typ}::vcpe01-sg")
            answer = stub.Analyze(analyzer_pb2.AnalyzeRequest(type=typ, properties=props, name="vcpe01-sg",
                                                              urn=sg.urn), timeout=30)
            assert [d.policyName for d in answer.diagnostics] == ["no-ssh-from-internet"]
            stack = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[sg]), timeout=60)
            assert [d.policyName for d in stack.diagnostics] == []  # S2 lints clean
    finally:
        proc.terminate()
        proc.wait(timeout=10)
