"""CrossGuard policies: netweave's lint as a mandatory gate of ``pulumi preview/up``.

``pulumi preview --policy-pack policy`` loads ``policy/__main__.py``, which builds the
pack from this module. Users who run the Pulumi CLI directly (and never ``netweave
lint``) still cannot deploy a topology that lint refuses.

- ``netweave-lint`` (stack, mandatory): re-lints the topology file the stack is built
  from — found exactly as the program finds it: policy config ``topology``, else the
  stack's ``netweave:topology`` in ``Pulumi.<stack>.yaml``, else ``stacks/<stack>.yaml``.
- ``netweave-lint-warnings`` (stack, advisory): lint's warnings.
- ``no-ssh-from-internet`` (resource, mandatory): a vCPE security group / Vultr
  firewall rule must not open SSH to 0.0.0.0/0.
- ``route-push-unambiguous`` (resource, mandatory): one next hop per destination in a
  route push — a DHCP option's classless routes or a route table's rules (one per
  destination) — and no next hop inside its own destination.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import netaddr
import yaml

from netweave.lint import LintResult, lint_file
from netweave.lint.findings import Finding, Severity
from netweave.paths import project_dir

PROJECT_DIR = project_dir()
QINGCLOUD_SECURITY_GROUP = "pulumi-python:dynamic/qingcloud:SecurityGroup"
QINGCLOUD_ROUTE_PUSHES = ("pulumi-python:dynamic/qingcloud:InstanceRoutes",
                          "pulumi-python:dynamic/qingcloud:RouteTableRoutes")
VULTR_FIREWALL_RULE = "vultr:index/firewallRule:FirewallRule"

Report = Callable[..., None]  # report_violation(message, urn=None)


def stack_of(urns: Sequence[str]) -> str | None:
    """``urn:pulumi:<stack>::<project>::<type>::<name>`` -> the stack name."""
    for urn in urns:
        if urn.startswith("urn:pulumi:"):
            return urn.removeprefix("urn:pulumi:").split("::", 1)[0]
    return None


def topology_file(stack: str, config: Mapping[str, Any]) -> Path:
    project = Path(config.get("project_dir") or PROJECT_DIR)
    configured = config.get("topology")
    if not configured:
        settings = project / f"Pulumi.{stack}.yaml"
        if settings.is_file():
            data = yaml.safe_load(settings.read_text(encoding="utf-8")) or {}
            configured = (data.get("config") or {}).get("netweave:topology")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else project / path
    return project / "stacks" / f"{stack}.yaml"


def _violation(f: Finding) -> str:
    where = f"{f.file}:{f.line}:{f.column}" if f.line else f.file
    hint = f" (hint: {f.hint})" if f.hint else ""
    return f"{where}: {f.code} {f.rule.slug}: {f.message}{hint}"


def _lint_of(args: Any) -> LintResult | None:
    stack = stack_of([r.urn for r in args.resources])
    if stack is None:
        return None
    return lint_file(str(topology_file(stack, args.get_config())))


def validate_lint(args: Any, report_violation: Report) -> None:
    """Stack policy: every lint error is a violation (the deployment is refused)."""
    result = _lint_of(args)
    if result is None:
        return
    for f in result.findings:
        if f.level is Severity.ERROR:
            report_violation(_violation(f))


def validate_lint_warnings(args: Any, report_violation: Report) -> None:
    result = _lint_of(args)
    if result is None:
        return
    for f in result.findings:
        if f.level is Severity.WARNING:
            report_violation(_violation(f))


def _covers_ssh(low: Any, high: Any) -> bool:
    try:
        lo = int(low) if low not in (None, "") else 1
        hi = int(high) if high not in (None, "") else lo if low not in (None, "") else 65535
    except (TypeError, ValueError):
        return False
    return lo <= 22 <= hi


def _anywhere(source: Any) -> bool:
    try:
        return bool(netaddr.IPNetwork(str(source or "0.0.0.0/0")).prefixlen == 0)
    except (netaddr.AddrFormatError, ValueError):
        return False


def validate_no_ssh_from_internet(args: Any, report_violation: Report) -> None:
    props: Mapping[str, Any] = args.props
    if args.resource_type == QINGCLOUD_SECURITY_GROUP:
        for i, rule in enumerate(props.get("rules") or []):
            if (rule.get("protocol") == "tcp" and rule.get("action", "accept") == "accept"
                    and rule.get("direction", 0) == 0 and _covers_ssh(rule.get("val1"), rule.get("val2"))
                    and _anywhere(rule.get("val3"))):
                report_violation(f"security group {args.name} rule {i} opens SSH (tcp/22) to the "
                                 "whole internet: list your admin networks in the vCPE's ssh_from")
    elif args.resource_type == VULTR_FIREWALL_RULE:
        subnet = f"{props.get('subnet')}/{props.get('subnetSize')}"
        port = str(props.get("port") or "")
        low, _, high = port.partition(":")
        if props.get("protocol") == "tcp" and _covers_ssh(low or None, high or low or None) \
                and _anywhere(subnet):
            report_violation(f"firewall rule {args.name} opens SSH (tcp/22) to the whole internet")


def validate_route_push(args: Any, report_violation: Report) -> None:
    if args.resource_type not in QINGCLOUD_ROUTE_PUSHES:
        return
    hops: dict[str, str] = {}
    for route in args.props.get("routes") or []:
        dest, hop = str(route.get("destination")), str(route.get("next_hop"))
        try:
            if netaddr.IPAddress(hop) in netaddr.IPNetwork(dest):
                report_violation(f"route push {args.name}: next hop {hop} lies inside its own "
                                 f"destination {dest}: the VMs could never reach it")
        except (netaddr.AddrFormatError, ValueError):
            report_violation(f"route push {args.name}: {dest} via {hop} is not a valid route")
            continue
        if dest in hops and hops[dest] != hop:
            report_violation(f"route push {args.name}: {dest} has two next hops ({hops[dest]}, {hop});"
                             " a DHCP option or a route table holds only one")
        hops.setdefault(dest, hop)


def policies() -> list[Any]:
    """The policies (``pulumi_policy`` is imported only here: the policy process)."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyConfigSchema,
        ResourceValidationPolicy,
        StackValidationPolicy,
    )

    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    where = PolicyConfigSchema(properties={
        "topology": {"type": "string", "description": "topology file (default: as the program finds it)"},
        "project_dir": {"type": "string", "description": "the netweave project (default: the pack's parent)"},
    })
    return [
        StackValidationPolicy(
            name="netweave-lint", description="The stack's topology passes netweave lint "
            "(the same rules as `netweave lint`: addressing, routing, paths, VPN).",
            validate=validate_lint, enforcement_level=mandatory, config_schema=where),
        StackValidationPolicy(
            name="netweave-lint-warnings", description="netweave lint warnings, for information.",
            validate=validate_lint_warnings, enforcement_level=advisory, config_schema=where),
        ResourceValidationPolicy(
            name="no-ssh-from-internet", description="vCPEs do not accept SSH from 0.0.0.0/0.",
            validate=validate_no_ssh_from_internet, enforcement_level=mandatory),
        ResourceValidationPolicy(
            name="route-push-unambiguous", description="A route push has one on-link next hop "
            "per destination, outside the destination itself.",
            validate=validate_route_push, enforcement_level=mandatory),
    ]


def serve(name: str = "netweave") -> None:
    """Run the pack: constructing a ``PolicyPack`` starts the analyzer the CLI talks to."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(name=name, enforcement_level=EnforcementLevel.MANDATORY, policies=policies(),
               description="netweave lint as a preview gate")
