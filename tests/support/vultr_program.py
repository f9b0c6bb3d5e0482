"""The Vultr side of S3 under ``pulumi.runtime.set_mocks``: every registration recorded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import netaddr
import pulumi
from netweave.render.material import ssh_host_from_private, tls_from_private, wireguard_from_private

OS_ID = 2136
RESERVED = {"vultr-vcpe-ip": "203.0.113.20", "vpn01-ip": "203.0.113.30"}


@dataclass
class VpcAddresses:
    """What Vultr does when an instance attaches to a VPC: it picks the address itself
    (the attach call takes only the VPC id) and reports it as ``internal_ip``. The mock
    hands out addresses from the middle of the VPC's subnet (10.8.8.5, .6, ... in S3):
    none of them is an address the topology names. ``internal_ip`` overrides by name."""

    subnets: dict[str, netaddr.IPNetwork] = field(default_factory=dict)  # VPC id -> subnet
    given: int = 0
    internal_ip: dict[str, str] = field(default_factory=dict)

    def vpc(self, vpc_id: str, inputs: dict[str, Any]) -> None:
        self.subnets[vpc_id] = netaddr.IPNetwork(f"{inputs['v4Subnet']}/{int(inputs['v4SubnetMask'])}")

    def instance(self, name: str, inputs: dict[str, Any]) -> str:
        if name in self.internal_ip:
            return self.internal_ip[name]
        ids = [i for i in inputs.get("vpcIds") or [] if i in self.subnets]
        if len(ids) != 1:  # none, or several: blank (terraform-provider-vultr #173)
            return ""
        subnet = self.subnets[ids[0]]
        self.given += 1
        return str(subnet.network + subnet.size // 2 + 4 + self.given)


@dataclass
class Recorder(pulumi.runtime.Mocks):
    registered: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)
    calls: list[pulumi.runtime.MockCallArgs] = field(default_factory=list)
    vultr: VpcAddresses = field(default_factory=VpcAddresses)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(args)
        state = dict(args.inputs)
        if args.typ == "vultr:index/vpc:Vpc":
            self.vultr.vpc(f"{args.name}-id", args.inputs)
        if args.typ == "vultr:index/instance:Instance":
            state["internalIp"] = self.vultr.instance(args.name, args.inputs)
        if args.typ == "vultr:index/reservedIp:ReservedIp":
            state["subnet"] = RESERVED[args.name]
        if args.typ.startswith("pulumi-python:dynamic/netweave:"):
            state.update(_key_outputs(state))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]] | dict[str, Any]:
        self.calls.append(args)
        if args.token == "vultr:index/getOs:getOs":
            return {"id": str(OS_ID), "name": "Debian 12 x64 (bookworm)", "arch": "x64",
                    "family": "debian", "filters": args.args.get("filters")}
        return {}

    def by_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.registered if r.typ == typ]


def _key_outputs(state: dict[str, Any]) -> dict[str, Any]:
    """What the key provider would create; fixed here so that two runs can be compared.
    Other netweave resources (HostConfig) keep their inputs."""
    if "key_id" not in state:
        return {}
    raw = hashlib.sha256(f"mock {state['key_id']}".encode()).digest()
    if state["kind"] == "ssh":
        host_key = ssh_host_from_private(raw)
        return {"private_key": host_key.private_key, "public_key": host_key.public_key}
    if state["kind"] == "wireguard":
        pair = wireguard_from_private(raw)
        return {"private_key": pair.private_key, "public_key": pair.public_key}
    if state["kind"] == "psk":
        return {"psk": "bW9jaw=="}
    tls = tls_from_private(raw, state["key_id"])
    return {"key_pem": tls.key_pem, "cert_pem": tls.cert_pem, "fingerprint": tls.fingerprint}



def run_s3(recorder: Recorder, text: str | None = None) -> dict[str, Any]:
    """Declare the Vultr side of S3 as the program does; returns what was declared."""
    from netweave.deploy import vultr
    from netweave.deploy.keys import KeyRing
    from netweave.deploy.outputs import rendered_output, vultr_user_data
    from netweave.design import Design

    from tests.support.render_helpers import from_text, load

    topology, index = from_text(text) if text else load("s3-hybrid-vultr")
    design = Design.build(topology, index)
    ring = KeyRing("keys", design.keys)
    hosts = vultr.declare_hosts(design, index, stack="s3")
    addresses: dict[str, Any] = {n: QC_EIP for n in topology.vcpes if n.startswith("qc-")}
    addresses.update({n: ip for n, h in hosts.items() if (ip := h.public_ip) is not None})
    rendered = rendered_output(topology, index, addresses, ring.material, design=design)
    user_data = {n: vultr_user_data(rendered, n) for n in design.hosts_in("vultr")}
    deployment = vultr.build_vultr(design, index, hosts, user_data, addresses, stack="s3")
    return {"ring": ring, "rendered": rendered, "user_data": user_data, "deployment": deployment,
            "workload_routes": vultr.workload_routes(design, index, deployment), "design": design}


QC_EIP = "198.18.0.1"
