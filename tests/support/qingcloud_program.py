"""Run the Pulumi program under ``pulumi.runtime.set_mocks`` and record what it registers:
type, name, inputs (``__provider`` blob included), parent and dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from tests.support.vultr_program import OS_ID, VpcAddresses, _key_outputs

QC = "pulumi-python:dynamic/qingcloud:"


@dataclass
class Registered:
    typ: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    id: str = ""
    secret_inputs: set[str] = field(default_factory=set)
    state: dict[str, Any] = field(default_factory=dict)  # the mock outputs the program saw
    import_id: str = ""
    alias_urns: list[str] = field(default_factory=list)  # the URNs it was known by before

    @property
    def short_type(self) -> str:
        return self.typ.removeprefix(QC)


FAKE_IDS = {"Vpc": ("router_id", "rtr-"), "Vxnet": ("vxnet_id", "vxnet-"), "Eip": ("eip_id", "eip-"),
            "SecurityGroup": ("security_group_id", "sg-"), "Instance": ("instance_id", "i-"),
            "Nic": ("nic_id", "52:54:"), "RouteTableRoutes": ("routing_table_id", "rt-"),
            "InstanceRoutes": ("router_static_id", "rtrs-")}


class FakeCloud(pulumi.runtime.Mocks):
    """QingCloud ids and EIPs; keys and Vultr as the render helper's recorder answers them."""

    def __init__(self) -> None:
        self.eips = 0
        self.vultr = VpcAddresses()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.startswith("pulumi-python:dynamic/netweave:"):
            outputs.update(_key_outputs(outputs))
            return f"{args.name}-id", outputs
        if args.typ == "vultr:index/vpc:Vpc":
            self.vultr.vpc(f"{args.name}-id", args.inputs)
        if args.typ == "vultr:index/instance:Instance":
            outputs["internalIp"] = self.vultr.instance(args.name, args.inputs)
        if args.typ == "vultr:index/reservedIp:ReservedIp":
            outputs["subnet"] = f"203.0.113.{10 + len(outputs.get('label', '')) % 200}"
        kind = args.typ.removeprefix(QC)
        if kind in FAKE_IDS:
            key, prefix = FAKE_IDS[kind]
            outputs[key] = f"{prefix}{args.name}"
            if kind == "Eip":
                self.eips += 1
                outputs["eip_addr"] = f"198.18.0.{self.eips}"
            return outputs[key], outputs
        if kind == "EipAssociation":
            return f"{args.inputs['eip_id']}|{args.inputs['instance_id']}", outputs
        return (f"{args.name}-id" if args.custom else None), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "vultr:index/getOs:getOs":
            return {"id": str(OS_ID), "name": "Debian 12 x64 (bookworm)", "arch": "x64",
                    "family": "debian", "filters": args.args.get("filters")}, []
        return {}, []


def unwrap(value: Any) -> Any:
    """Secrets arrive wrapped (``{sig: ..., value: ...}``); the recorder keeps the value."""
    value = pulumi.runtime.rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            raw = pulumi.runtime.rpc.deserialize_properties(request.object)
            inputs = {k: unwrap(v) for k, v in raw.items()}
            secrets = {k for k, v in raw.items() if pulumi.runtime.rpc.is_rpc_secret(v)}
            self.registered.append(Registered(
                request.type, request.name, response.urn, inputs, request.parent,
                list(request.dependencies),
                {k: list(v.urns) for k, v in request.propertyDependencies.items()}, response.id,
                secrets, dict(self.resources[response.urn].state), request.importId,
                list(request.aliasURNs) + [_alias_text(a) for a in request.aliases]))
        return response


def _alias_text(alias: Any) -> str:
    """An alias as the engine gets it: a URN, or a spec (noParent: it was at the root)."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    where = "root" if spec.noParent else (spec.parentUrn or "parent")
    return f"spec:{spec.name or ''}:{spec.type or ''}:{where}"


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, short: str) -> list[Registered]:
        return [r for r in self.resources if r.short_type == short or r.typ == short]

    def named(self, name: str, short: str | None = None) -> Registered:
        found = [r for r in self.resources if r.name == name and (short is None or r.short_type == short)]
        assert len(found) == 1, f"{name}: {len(found)} registrations"
        return found[0]

    def urn(self, name: str, short: str | None = None) -> str:
        return self.named(name, short).urn


def run_program(stack: str, config: dict[str, str] | None = None) -> ProgramRun:
    """The real entry point (``netweave.deploy.program.main``: lint gate, components, exports)."""
    cloud = FakeCloud()
    monitor = RecordingMonitor(cloud)
    pulumi.runtime.set_mocks(cloud, project="netweave", stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({f"netweave:{k}" if ":" not in k else k: v
                                   for k, v in (config or {}).items()})
    from netweave.deploy import program

    exported: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def body() -> Any:
        root = pulumi.runtime.settings.get_root_resource()
        if root is not None:  # set_mocks keeps one root stack: drop the last run's exports
            root.outputs = {}  # type: ignore[attr-defined]
        program.main()
        stack = pulumi.runtime.settings.get_root_resource()
        outputs = getattr(stack, "outputs", {})  # what pulumi.export collected, resolved below
        return pulumi.Output.from_input(dict(outputs)).apply(exported.update)

    body()
    return ProgramRun(monitor.registered, exported)
