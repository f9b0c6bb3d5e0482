"""Tunnel ends as each vCPE sees them: interface, ports, endpoint, MTU, allowed IPs.

Computed for the whole topology at once because names and ports depend on the other
tunnels (unique interface names, one listen port per tunnel on a vCPE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import netaddr

from netweave.design.declared import declared_prefixes
from netweave.model.index import Index
from netweave.model.topology import Topology
from netweave.render.artifacts import RenderError
from netweave.render.names import tunnel_names

BASE_PORT = {"wireguard": 51820, "openvpn": 1194}
# Bytes of outer headers a tunnel adds to every packet (IPv4 underlay): WireGuard 20 IP +
# 8 UDP + 32 WireGuard = 60; OpenVPN over UDP with an AEAD cipher is about 69.
OVERHEAD = {"wireguard": 60, "openvpn": 69}
MSS_HEADERS = 40  # IPv4 + TCP headers: MSS = MTU - 40


@dataclass(frozen=True, slots=True)
class TunnelEnd:
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
    endpoint_host: str  # the peer's public (internet) or private (shared VPC) address
    endpoint_placeholder: bool
    transport: str
    mtu: int
    keepalive: int
    psk: bool
    peer_prefixes: tuple[netaddr.IPNetwork, ...]  # what the peer declares (BGP accept list)

    @property
    def peer_endpoint(self) -> str:
        return f"{self.endpoint_host}:{self.peer_port}"

    @property
    def key_id(self) -> str:
        return f"{self.label}/{self.local}"

    @property
    def peer_key_id(self) -> str:
        return f"{self.label}/{self.peer}"

    @property
    def mss(self) -> int:
        return self.mtu - MSS_HEADERS


def underlay_mtu(topology: Topology, index: Index, vcpe: str) -> int:
    _, cloud = index.vcpe_cloud(vcpe)
    return cloud.mtu


def plan_tunnels(topology: Topology, index: Index,
                 public_addresses: Mapping[str, str],
                 placeholder_names: frozenset[str] = frozenset()) -> dict[str, list[TunnelEnd]]:
    """vCPE name -> its tunnel ends, in topology order."""
    raw: list[tuple[int, str, int, str, str]] = []  # (tunnel index, label, end, local, peer)
    for i, tunnel in enumerate(topology.tunnels):
        if len(tunnel.ends) != 2 or tunnel.ends[0].vcpe == tunnel.ends[1].vcpe:
            raise RenderError(f"tunnel {tunnel.label(i)} needs exactly two distinct ends (lint R307)")
        label = tunnel.label(i)
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

    plans: dict[str, list[TunnelEnd]] = {name: [] for name in topology.vcpes}
    for i, label, end, local, peer in raw:
        tunnel = topology.tunnels[i]
        if tunnel.transport == "private":
            host, placeholder = str(topology.vcpes[peer].nics[0].address), False
        elif peer in public_addresses:
            host, placeholder = public_addresses[peer], peer in placeholder_names
        else:
            raise RenderError(f"no public address for {peer} (tunnel {label})")
        mtu = tunnel.mtu or (min(underlay_mtu(topology, index, local),
                                 underlay_mtu(topology, index, peer)) - OVERHEAD[tunnel.type])
        plans[local].append(TunnelEnd(
            label=label, index=i, end=end, type=tunnel.type, local=local, peer=peer,
            interface=names[(label, local)],
            local_address=tunnel.ends[end].address, peer_address=tunnel.ends[1 - end].address,
            listen_port=ports[(label, local)], peer_port=ports[(label, peer)],
            endpoint_host=host, endpoint_placeholder=placeholder, transport=tunnel.transport,
            mtu=mtu, keepalive=tunnel.keepalive, psk=tunnel.psk,
            peer_prefixes=tuple(declared_prefixes(topology, peer))))
    return plans
