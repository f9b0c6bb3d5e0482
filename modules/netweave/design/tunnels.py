"""Tunnels with both ends: interface names, listen ports, endpoints and MTUs.

Computed for the whole topology at once because names and ports depend on the other
tunnels (unique interface names, one listen port per tunnel and type on a vCPE). The
endpoint of an internet tunnel is the peer's public address, which exists only once the
EIP / reserved IP does: the design names the peer, the renderer fills the address in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import netaddr

from netweave.design.names import tunnel_names
from netweave.model.index import Index
from netweave.model.topology import Topology

BASE_PORT = {"wireguard": 51820, "openvpn": 1194}
# Bytes of outer headers a tunnel adds to every packet, by underlay IP version.
# WireGuard: outer IP (20/40) + UDP 8 + WireGuard header 16 + auth tag 16.
# OpenVPN (UDP, AES-GCM, tun): IP 20 + UDP 8 + opcode/peer-id 4 + packet id 4 + tag 16
# + compression/padding slack; 69 is the figure users quote for a working MTU.
# The public underlays netweave deploys are IPv4.
OVERHEAD_BY_VERSION = {"wireguard": {4: 60, 6: 80}, "openvpn": {4: 69, 6: 89}}
OVERHEAD = {kind: sizes[4] for kind, sizes in OVERHEAD_BY_VERSION.items()}
MSS_HEADERS = 40  # IPv4 + TCP headers: MSS = MTU - 40


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one end sends its tunnel packets: ``port`` on ``host`` — at ``address`` over
    a private transport (the peer's primary NIC), else at the peer's public address."""

    host: str
    port: int
    address: netaddr.IPAddress | None

    @property
    def public(self) -> bool:
        return self.address is None


@dataclass(frozen=True, slots=True)
class TunnelSide:
    """A tunnel as one of its two vCPEs sees it."""

    label: str
    index: int  # position in topology.tunnels
    end: int  # 0 or 1: which end this vCPE is
    type: str  # wireguard | openvpn
    local: str  # this vCPE
    peer: str
    interface: str
    local_address: netaddr.IPNetwork  # 169.254.100.1/30
    peer_address: netaddr.IPNetwork
    listen_port: int
    peer_port: int
    endpoint: Endpoint
    transport: str
    mtu: int
    keepalive: int
    psk: bool
    peer_prefixes: tuple[netaddr.IPNetwork, ...]  # what the peer declares (BGP accept list)

    @property
    def key_id(self) -> str:
        return f"{self.label}/{self.local}"

    @property
    def peer_key_id(self) -> str:
        return f"{self.label}/{self.peer}"

    @property
    def mss(self) -> int:
        return self.mtu - MSS_HEADERS


@dataclass(frozen=True, slots=True)
class TunnelLink:
    """One usable tunnel (two distinct vCPE ends) with both of its sides."""

    label: str
    index: int
    type: str
    transport: str
    mtu: int
    sides: tuple[TunnelSide, TunnelSide]


def build_tunnels(topology: Topology, index: Index,
                  declared: Mapping[str, tuple[netaddr.IPNetwork, ...]]
                  ) -> tuple[tuple[TunnelLink, ...], tuple[str, ...]]:
    """The usable tunnels, and the labels of those without two distinct ends (lint R307)."""
    raw: list[tuple[int, str, int, str, str]] = []  # (tunnel index, label, end, local, peer)
    unusable: list[str] = []
    for i, tunnel in enumerate(topology.tunnels):
        label = tunnel.label(i)
        if len(tunnel.ends) != 2 or tunnel.ends[0].vcpe == tunnel.ends[1].vcpe:
            unusable.append(label)
            continue
        for end in (0, 1):
            raw.append((i, label, end, tunnel.ends[end].vcpe, tunnel.ends[1 - end].vcpe))
    names = tunnel_names((label, local, peer, topology.tunnels[i].type)
                         for i, label, _, local, peer in raw)

    ports: dict[tuple[str, str], int] = {}
    used: dict[str, int] = {}
    for i, label, _, local, _ in raw:
        tunnel = topology.tunnels[i]
        if tunnel.port is not None:
            ports[(label, local)] = tunnel.port
            continue
        ordinal = used.get(f"{local}/{tunnel.type}", 0)
        used[f"{local}/{tunnel.type}"] = ordinal + 1
        ports[(label, local)] = BASE_PORT[tunnel.type] + ordinal

    sides: dict[int, list[TunnelSide]] = {}
    for i, label, end, local, peer in raw:
        tunnel = topology.tunnels[i]
        private = topology.vcpes[peer].nics[0].address if tunnel.transport == "private" else None
        mtu = tunnel.mtu or (min(index.vcpe_cloud(local)[1].mtu, index.vcpe_cloud(peer)[1].mtu)
                             - OVERHEAD[tunnel.type])
        sides.setdefault(i, []).append(TunnelSide(
            label=label, index=i, end=end, type=tunnel.type, local=local, peer=peer,
            interface=names[(label, local)],
            local_address=tunnel.ends[end].address, peer_address=tunnel.ends[1 - end].address,
            listen_port=ports[(label, local)], peer_port=ports[(label, peer)],
            endpoint=Endpoint(peer, ports[(label, peer)], private), transport=tunnel.transport,
            mtu=mtu, keepalive=tunnel.keepalive, psk=tunnel.psk,
            peer_prefixes=declared.get(peer, ())))
    links = tuple(TunnelLink(s[0].label, i, s[0].type, s[0].transport, s[0].mtu, (s[0], s[1]))
                  for i, s in sides.items())
    return links, tuple(unusable)
