"""Key material the rendered hosts need, and where it comes from.

Real keys live in Pulumi state (``netweave.deploy.keys``); the emulator generates fresh ones
(:func:`generate_keys`); ``netweave render`` without state uses :func:`placeholder_keys`,
derived from a fixed string so the render is byte-for-byte deterministic and plainly fake.

Key ids: a tunnel end is ``"<tunnel label>/<vcpe>"``, a tunnel PSK ``"<tunnel label>"``,
a VPN server ``"vpn/<server>"`` and its clients ``"vpn/<server>/<client>"``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import NameOID

from netweave.design.keys import KeySpec, key_specs, ssh_key_id
from netweave.model.topology import Topology
from netweave.render.artifacts import RenderError

PLACEHOLDER_SEED = "netweave placeholder key material - not a real key"
PLACEHOLDER_LABEL = "PLACEHOLDER — not a real key"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WireGuardKey:
    private_key: str  # base64, as wg(8) writes it
    public_key: str


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    """A self-signed certificate for OpenVPN (peers pin each other's fingerprint)."""

    key_pem: str
    cert_pem: str
    fingerprint: str  # SHA256, colon-separated hex, as OpenVPN's peer-fingerprint wants


@dataclass(frozen=True, slots=True)
class SshHostKey:
    """An Ed25519 SSH host key: the host presents it, the deploying machine pins it."""

    private_key: str  # OpenSSH private key file
    public_key: str   # "ssh-ed25519 AAAA..." (a known_hosts entry without the host name)


@dataclass(frozen=True)
class KeyMaterial:
    wireguard: Mapping[str, WireGuardKey] = field(default_factory=dict)
    psk: Mapping[str, str] = field(default_factory=dict)
    tls: Mapping[str, TlsIdentity] = field(default_factory=dict)
    placeholder: bool = False
    ssh: Mapping[str, SshHostKey] = field(default_factory=dict)

    def wg(self, key_id: str) -> WireGuardKey:
        return _get(self.wireguard, key_id, "WireGuard key pair")

    def tls_identity(self, key_id: str) -> TlsIdentity:
        return _get(self.tls, key_id, "OpenVPN certificate")

    def preshared(self, key_id: str) -> str:
        return _get(self.psk, key_id, "pre-shared key")

    def ssh_host(self, host: str) -> SshHostKey:
        return _get(self.ssh, ssh_key_id(host), "SSH host key")


def _get(table: Mapping[str, T], key_id: str, what: str) -> T:
    try:
        return table[key_id]
    except KeyError:
        raise RenderError(f"no {what} for '{key_id}' in the key material "
                          f"(known: {', '.join(sorted(table)) or 'none'})") from None


# --- generation ------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def wireguard_from_private(private: bytes) -> WireGuardKey:
    key = X25519PrivateKey.from_private_bytes(private)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return WireGuardKey(_b64(raw), _b64(pub))


def new_wireguard_key() -> WireGuardKey:
    return wireguard_from_private(X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def ssh_host_from_private(private: bytes) -> SshHostKey:
    """An Ed25519 key in OpenSSH's private key format (PROTOCOL.key), written here rather
    than by ``cryptography`` because that draws its "checkint" at random: the same key
    must give the same bytes (renders are a pure function of their inputs)."""
    key = Ed25519PrivateKey.from_private_bytes(private)
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    kind = b"ssh-ed25519"
    blob = _ssh_string(kind) + _ssh_string(raw_public)
    check = hashlib.sha256(b"netweave ssh checkint\0" + private).digest()[:4]
    section = (check + check + _ssh_string(kind) + _ssh_string(raw_public)
               + _ssh_string(private + raw_public) + _ssh_string(b""))
    section += bytes(range(1, 1 + (-len(section)) % 8))
    body = (b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
            + (1).to_bytes(4, "big") + _ssh_string(blob) + _ssh_string(section))
    text = base64.b64encode(body).decode()
    label = "OPENSSH PRIVATE KEY"  # OpenSSH's armour (PROTOCOL.key), 70 columns like ssh-keygen
    pem = (f"-----BEGIN {label}-----\n"
           + "".join(text[i:i + 70] + "\n" for i in range(0, len(text), 70))
           + f"-----END {label}-----\n")
    return SshHostKey(pem, f"ssh-ed25519 {_b64(blob)}")


def new_ssh_host_key() -> SshHostKey:
    import secrets
    return ssh_host_from_private(secrets.token_bytes(32))


def new_psk() -> str:
    import secrets
    return _b64(secrets.token_bytes(32))


# Fixed validity so that a certificate is a pure function of its key and name: Ed25519
# signatures are deterministic, which keeps placeholder renders byte-identical.
_NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_NOT_AFTER = datetime.datetime(2124, 1, 1, tzinfo=datetime.UTC)


def tls_from_private(private: bytes, common_name: str) -> TlsIdentity:
    key = Ed25519PrivateKey.from_private_bytes(private)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    serial = int.from_bytes(hashlib.sha256(private + common_name.encode()).digest()[:16]) >> 1
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial or 1)
            .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
            .sign(key, None))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
    return TlsIdentity(key_pem, cert_pem, fingerprint)


def new_tls_identity(common_name: str) -> TlsIdentity:
    import secrets
    return tls_from_private(secrets.token_bytes(32), common_name)


def _material(specs: tuple[KeySpec, ...], seed: bytes | None) -> KeyMaterial:
    wireguard: dict[str, WireGuardKey] = {}
    psk: dict[str, str] = {}
    tls: dict[str, TlsIdentity] = {}
    ssh: dict[str, SshHostKey] = {}
    for spec in specs:
        raw = (hashlib.sha256(seed + b"\0" + spec.id.encode() + b"\0" + spec.kind.encode()).digest()
               if seed is not None else None)
        if spec.kind == "wireguard":
            wireguard[spec.id] = wireguard_from_private(raw) if raw else new_wireguard_key()
        elif spec.kind == "psk":
            psk[spec.id] = _b64(raw) if raw else new_psk()
        elif spec.kind == "ssh":
            ssh[spec.id] = ssh_host_from_private(raw) if raw else new_ssh_host_key()
        else:
            tls[spec.id] = tls_from_private(raw, spec.id) if raw else new_tls_identity(spec.id)
    return KeyMaterial(wireguard, psk, tls, placeholder=seed is not None, ssh=ssh)


def placeholder_keys(topology: Topology) -> KeyMaterial:
    """Deterministic, publicly derivable keys: fine for review and emulation, never for use."""
    return _material(key_specs(topology), PLACEHOLDER_SEED.encode())


def generate_keys(topology: Topology) -> KeyMaterial:
    """Fresh random keys (the emulator's choice: real keys, never written outside its run)."""
    return _material(key_specs(topology), None)


def carried_over(previous: KeyMaterial, topology: Topology) -> KeyMaterial:
    """The keys ``topology`` needs, reusing every key ``previous`` already holds under the
    same id and generating only the new ones: what the key resources in Pulumi state do
    across a change (a key is created once and never regenerated)."""
    fresh = generate_keys(topology) if not previous.placeholder else placeholder_keys(topology)

    def keep(new: Mapping[str, T], old: Mapping[str, T]) -> dict[str, T]:
        return {**new, **{k: v for k, v in old.items() if k in new}}

    return KeyMaterial(keep(fresh.wireguard, previous.wireguard), keep(fresh.psk, previous.psk),
                       keep(fresh.tls, previous.tls), placeholder=previous.placeholder,
                       ssh=keep(fresh.ssh, previous.ssh))
