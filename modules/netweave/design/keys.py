"""Every key the topology needs: one spec per tunnel end, tunnel PSK, VPN server and client.

Key ids: a tunnel end is ``"<tunnel label>/<vcpe>"``, a tunnel PSK ``"<tunnel label>"``
(WireGuard with ``psk: true``; every IPsec tunnel),
a VPN server ``"vpn/<server>"`` and its clients ``"vpn/<server>/<client>"``, the SSH host
key of a vCPE or VPN server ``"ssh/<host>"`` (delivered in its user data, pinned by the
deploying machine: ``netweave.providers.ssh``). The order is
stable: Pulumi resource names follow it (``netweave.deploy.keys``), and placeholder keys
are derived from the ids (``netweave.render.material``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netweave.model.topology import Topology

KeyKind = Literal["wireguard", "tls", "psk", "ssh"]


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    kind: KeyKind

    @property
    def resource_name(self) -> str:
        """The Pulumi resource holding the key: ``key-<id, / as -->`` (``-psk`` appended
        for a pre-shared key, whose id is its tunnel's label)."""
        return "key-" + self.id.replace("/", "--") + ("-psk" if self.kind == "psk" else "")


def key_specs(topology: Topology) -> tuple[KeySpec, ...]:
    specs: list[KeySpec] = []
    for i, tunnel in enumerate(topology.tunnels):
        label = tunnel.label(i)
        if tunnel.type == "ipsec":  # IKEv2 with a pre-shared key: one secret, both ends
            specs.append(KeySpec(label, "psk"))
            continue
        kind: KeyKind = "wireguard" if tunnel.type == "wireguard" else "tls"
        specs.extend(KeySpec(f"{label}/{end.node}", kind) for end in tunnel.ends)
        if tunnel.psk and tunnel.type == "wireguard":
            specs.append(KeySpec(label, "psk"))
    for name, server in sorted(topology.vpn_servers.items()):
        if server.type not in ("wireguard", "openvpn"):
            continue
        kind = "wireguard" if server.type == "wireguard" else "tls"
        specs.append(KeySpec(f"vpn/{name}", kind))
        specs.extend(KeySpec(f"vpn/{name}/{client}", kind) for client in server.clients)
    # every host netweave reconfigures in place (over SSH) presents a host key it was given
    specs.extend(KeySpec(ssh_key_id(host), "ssh") for host in [*topology.vcpes, *topology.vpn_servers])
    return tuple(specs)


def ssh_key_id(host: str) -> str:
    return f"ssh/{host}"
