"""IPsec tunnels for strongSwan: swanctl connections, their PSKs, charon's settings and the
XFRM interfaces that make them route-based.

IKEv2 with a pre-shared key; traffic selectors 0.0.0.0/0 both ways and an XFRM interface
id on both SAs of a tunnel (strongSwan's "route-based VPN" with ``if_id_in``/``if_id_out``),
so that BGP runs over the interface like over a WireGuard or OpenVPN one. Proposals use
only algorithms of strongSwan's base plugins (aes, sha2, hmac, gmp), which Debian's
``charon-systemd`` brings without the recommended extras, and which the QingCloud VPC
router offers (AES, SHA2, DH group 14: ``manual/tunnel/ipsec.md``).
"""

from __future__ import annotations

from typing import Any

from netweave.design import TunnelSide
from netweave.render.artifacts import File
from netweave.render.material import PLACEHOLDER_LABEL, KeyMaterial
from netweave.render.templating import render
from netweave.render.tunnels import PeerEndpoint

CONNECTIONS = "/etc/swanctl/conf.d/netweave.conf"
SECRETS = "/etc/swanctl/conf.d/netweave-secrets.conf"
SETTINGS = "/etc/strongswan.d/netweave.conf"
XFRM_SCRIPT = "/etc/netweave/xfrm.sh"
XFRM_UNIT = "/etc/systemd/system/netweave-xfrm.service"
UNIT = "strongswan.service"  # Debian 12's charon-systemd: loads swanctl.conf when it starts
PACKAGES = ("charon-systemd", "strongswan-swanctl")
# IKE: AES-256/128-CBC, SHA-256 (PRF and integrity), DH group 14 (MODP 2048).
# ESP: the same, with PFS in group 14. The overhead lint budgets (77 + 8 bytes) is CBC's.
IKE_PROPOSALS = "aes256-sha256-modp2048,aes128-sha256-modp2048"
ESP_PROPOSALS = "aes256-sha256-modp2048,aes128-sha256-modp2048"
DEFAULT_KEEP_ALIVE = 20  # charon's own default for NAT keepalives (strongswan.conf(5))


def ike_id(node: str) -> str:
    """The IKE identity of a tunnel end: its name, an FQDN-type id. Addresses would not do:
    behind NAT an end's own address is not the one its peer sees."""
    return node


def connection(t: TunnelSide, endpoint: PeerEndpoint) -> dict[str, Any]:
    return {"label": t.label, "local": t.local, "peer": t.peer, "transport": t.transport,
            "endpoint_placeholder": endpoint.placeholder,
            "remote_addrs": endpoint.host or "%any",  # behind NAT: from whatever address it comes
            "keepalive": t.keepalive, "initiator": t.initiator, "local_id": ike_id(t.local),
            "remote_id": ike_id(t.peer), "if_id": t.if_id}


def files(host: str, ends: list[tuple[TunnelSide, PeerEndpoint]], keys: KeyMaterial,
          underlay: str | None) -> list[File]:
    """Every strongSwan file of one host; empty when it has no IPsec tunnel. ``underlay``:
    the NIC the XFRM interfaces sit on; None where netweave names no public NIC (Vultr's
    follows the PCI slot), and the interfaces are created without a lower device."""
    ipsec = [t for t, _ in ends if t.type == "ipsec"]
    if not ipsec:
        return []
    conns = [connection(t, endpoint) for t, endpoint in ends if t.type == "ipsec"]
    secrets = [{"label": c["label"], "local_id": c["local_id"], "remote_id": c["remote_id"],
                "psk": keys.preshared(c["label"])} for c in conns]
    keep_alive = min([DEFAULT_KEEP_ALIVE, *(t.keepalive for t in ipsec if t.keepalive)])
    return [
        File(CONNECTIONS, render("swanctl.conf.j2", host=host, tunnels=conns,
                                 proposals=IKE_PROPOSALS, esp_proposals=ESP_PROPOSALS)),
        File(SECRETS, render("swanctl-secrets.conf.j2", host=host, secrets=secrets,
                             placeholder=keys.placeholder, placeholder_label=PLACEHOLDER_LABEL),
             0o600, secret=True),
        File(SETTINGS, render("strongswan.conf.j2", keep_alive=keep_alive)),
        File(XFRM_SCRIPT, render("xfrm.sh.j2", host=host, tunnels=ipsec, underlay=underlay), 0o755),
        File(XFRM_UNIT, render("netweave-xfrm.service.j2", script=XFRM_SCRIPT)),
    ]
