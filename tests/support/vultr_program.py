"""The Vultr side of S3 under ``pulumi.runtime.set_mocks``: every registration recorded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pulumi
from netweave.render.material import tls_from_private, wireguard_from_private

OS_ID = 2136
RESERVED = {"vultr-vcpe-ip": "203.0.113.20", "vpn01-ip": "203.0.113.30"}


@dataclass
class Recorder(pulumi.runtime.Mocks):
    registered: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)
    calls: list[pulumi.runtime.MockCallArgs] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(args)
        state = dict(args.inputs)
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
    """What the key provider would create; fixed here so that two runs can be compared."""
    raw = hashlib.sha256(f"mock {state['key_id']}".encode()).digest()
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
    reserved = vultr.reserve_addresses(design, index)
    addresses: dict[str, Any] = {n: QC_EIP for n in topology.vcpes if n.startswith("qc-")}
    addresses.update({n: r.subnet for n, r in reserved.items()})
    rendered = rendered_output(topology, index, addresses, ring.material, design=design)
    user_data = {n: vultr_user_data(rendered, n) for n in design.hosts_in("vultr")}
    deployment = vultr.build_vultr(design, index, user_data, reserved, addresses, stack="s3")
    return {"ring": ring, "rendered": rendered, "user_data": user_data, "deployment": deployment}


QC_EIP = "198.18.0.1"
