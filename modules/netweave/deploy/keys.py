"""Keys as Pulumi resources: created once, kept in state as secrets, never regenerated.

Every key the design lists (``netweave.design.keys``) becomes one dynamic
resource: a WireGuard key pair (X25519, ``cryptography``), a pre-shared key, or an OpenVPN
identity (Ed25519 key + self-signed certificate, peers pin its fingerprint). ``create``
generates the key; ``diff`` reports no change while the key id stays the same, so
``pulumi up`` twice changes nothing. Private parts are ``additional_secret_outputs``:
encrypted in state, ``[secret]`` in every output and log.

The providers capture nothing (no credentials exist for them) and live in this
importable module, so dill pickles them by reference (pulumi.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi import dynamic

from netweave.design.keys import KeySpec
from netweave.render.material import (
    KeyMaterial,
    SshHostKey,
    TlsIdentity,
    WireGuardKey,
    new_psk,
    new_ssh_host_key,
    new_tls_identity,
    new_wireguard_key,
)

SECRET_FIELDS = {"wireguard": ["private_key"], "psk": ["psk"], "tls": ["key_pem"], "ssh": ["private_key"]}


def _generate(kind: str, key_id: str) -> dict[str, str]:
    if kind == "wireguard":
        pair = new_wireguard_key()
        return {"private_key": pair.private_key, "public_key": pair.public_key}
    if kind == "psk":
        return {"psk": new_psk()}
    if kind == "ssh":
        host_key = new_ssh_host_key()
        return {"private_key": host_key.private_key, "public_key": host_key.public_key}
    if kind == "tls":
        tls = new_tls_identity(key_id)
        return {"key_pem": tls.key_pem, "cert_pem": tls.cert_pem, "fingerprint": tls.fingerprint}
    raise ValueError(f"unknown key kind {kind!r}")


class KeyProvider(dynamic.ResourceProvider):
    """One provider for the three kinds: inputs ``{key_id, kind}``, outputs the key."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        failures = []
        if news.get("kind") not in SECRET_FIELDS:
            failures.append(dynamic.CheckFailure("kind", "kind must be wireguard, psk, tls or ssh"))
        if not news.get("key_id"):
            failures.append(dynamic.CheckFailure("key_id", "key_id is required"))
        return dynamic.CheckResult({"key_id": news.get("key_id"), "kind": news.get("kind")}, failures)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {"key_id": props["key_id"], "kind": props["kind"],
                **_generate(props["kind"], props["key_id"])}
        return dynamic.CreateResult(f"{props['kind']}-{uuid.uuid4().hex}", outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # A key changes only when it is a key for something else (renamed tunnel or
        # vCPE); then it is replaced, never silently regenerated in place.
        changed = [k for k in ("key_id", "kind") if olds.get(k) != news.get(k)]
        return dynamic.DiffResult(changes=bool(changed), replaces=changed,
                                  delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing exists outside the state


class WireGuardKeyPair(dynamic.Resource, module="netweave", name="WireGuardKeyPair"):
    private_key: pulumi.Output[str]
    public_key: pulumi.Output[str]

    def __init__(self, key_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KeyProvider(), KeySpec(key_id, "wireguard").resource_name,
                         {"key_id": key_id, "kind": "wireguard", "private_key": None,
                          "public_key": None}, _secret(opts, "wireguard"))


class PresharedKey(dynamic.Resource, module="netweave", name="PresharedKey"):
    psk: pulumi.Output[str]

    def __init__(self, key_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KeyProvider(), KeySpec(key_id, "psk").resource_name,
                         {"key_id": key_id, "kind": "psk", "psk": None}, _secret(opts, "psk"))


class OpenVpnIdentity(dynamic.Resource, module="netweave", name="OpenVpnIdentity"):
    key_pem: pulumi.Output[str]
    cert_pem: pulumi.Output[str]
    fingerprint: pulumi.Output[str]

    def __init__(self, key_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KeyProvider(), KeySpec(key_id, "tls").resource_name,
                         {"key_id": key_id, "kind": "tls", "key_pem": None, "cert_pem": None,
                          "fingerprint": None}, _secret(opts, "tls"))


class SshHostKeyPair(dynamic.Resource, module="netweave", name="SshHostKey"):
    """The host key a vCPE / VPN server presents to SSH: delivered in its user data, pinned
    by the deploying machine when it reconfigures the host in place."""

    private_key: pulumi.Output[str]
    public_key: pulumi.Output[str]

    def __init__(self, key_id: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KeyProvider(), KeySpec(key_id, "ssh").resource_name,
                         {"key_id": key_id, "kind": "ssh", "private_key": None,
                          "public_key": None}, _secret(opts, "ssh"))


def _secret(opts: pulumi.ResourceOptions | None, kind: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(
        opts or pulumi.ResourceOptions(),
        pulumi.ResourceOptions(additional_secret_outputs=SECRET_FIELDS[kind]))


class KeyRing(pulumi.ComponentResource):
    """Every key of one topology; ``material`` is what the renderer takes (a secret)."""

    material: pulumi.Output[KeyMaterial]

    def __init__(self, name: str, specs: Sequence[KeySpec],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:index:KeyRing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.specs: list[KeySpec] = list(specs)
        self.resources: dict[str, pulumi.CustomResource] = {}
        for spec in self.specs:
            if spec.kind == "wireguard":
                self.resources[spec.id] = WireGuardKeyPair(spec.id, child)
            elif spec.kind == "psk":
                self.resources[spec.id] = PresharedKey(spec.id, child)
            elif spec.kind == "ssh":
                self.resources[spec.id] = SshHostKeyPair(spec.id, child)
            else:
                self.resources[spec.id] = OpenVpnIdentity(spec.id, child)
        self.material = pulumi.Output.secret(self._material())
        self.public_keys = {s.id: r.public_key for s in self.specs
                            if isinstance(r := self.resources[s.id], WireGuardKeyPair)}
        # host -> its SSH host key's public half (plain: what known_hosts pins)
        self.host_keys: dict[str, pulumi.Output[str]] = {
            s.id.removeprefix("ssh/"): r.public_key for s in self.specs
            if isinstance(r := self.resources[s.id], SshHostKeyPair)}
        self.register_outputs({"public_keys": self.public_keys})

    def _material(self) -> pulumi.Output[KeyMaterial]:
        fields: list[pulumi.Output[Any]] = []
        for spec in self.specs:
            res: Any = self.resources[spec.id]
            if spec.kind in ("wireguard", "ssh"):
                fields += [res.private_key, res.public_key]
            elif spec.kind == "psk":
                fields += [res.psk]
            else:
                fields += [res.key_pem, res.cert_pem, res.fingerprint]
        return pulumi.Output.all(*fields).apply(lambda values: assemble(self.specs, values))


def assemble(specs: list[KeySpec], values: list[Any]) -> KeyMaterial:
    """Resource outputs, in ``specs`` order, -> the renderer's KeyMaterial."""
    wireguard: dict[str, WireGuardKey] = {}
    psk: dict[str, str] = {}
    tls: dict[str, TlsIdentity] = {}
    ssh: dict[str, SshHostKey] = {}
    it = iter(values)
    for spec in specs:
        if spec.kind == "wireguard":
            wireguard[spec.id] = WireGuardKey(next(it), next(it))
        elif spec.kind == "psk":
            psk[spec.id] = next(it)
        elif spec.kind == "ssh":
            ssh[spec.id] = SshHostKey(next(it), next(it))
        else:
            tls[spec.id] = TlsIdentity(next(it), next(it), next(it))
    return KeyMaterial(wireguard, psk, tls, ssh=ssh)


def public_key_outputs(ring: KeyRing) -> Mapping[str, pulumi.Output[str]]:
    return ring.public_keys
