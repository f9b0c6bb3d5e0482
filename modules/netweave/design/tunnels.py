"""Tunnels with both ends: interface names, listen ports, endpoints and MTUs.

Computed for the whole topology at once because names and ports depend on the other
tunnels (unique interface names, one listen port per tunnel and type on a vCPE). The
endpoint of an internet tunnel is the peer's public address, which exists only once the
EIP / reserved IP does: the design names the peer, the renderer fills the address in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import netaddr

from netweave.design.names import tunnel_names
from netweave.model.index import Index
from netweave.model.topology import Topology

# IPsec: IKE's UDP 500 (NAT traversal moves to 4500 by itself: ``IKE_PORTS``).
BASE_PORT = {"wireguard": 51820, "openvpn": 1194, "ipsec": 500}
IKE_PORTS = (500, 4500)
# Bytes of outer headers a tunnel adds to every packet, by underlay IP version.
# WireGuard: outer IP (20/40) + UDP 8 + WireGuard header 16 + auth tag 16.
# OpenVPN (UDP, AES-GCM, tun): IP 20 + UDP 8 + opcode/peer-id 4 + packet id 4 + tag 16
# + compression/padding slack; 69 is the figure users quote for a working MTU.
# IPsec (ESP tunnel mode with the rendered proposals, AES-CBC + HMAC-SHA-256-128, RFC 4303
# / RFC 4868): outer IP 20 + SPI 4 + sequence 4 + IV 16 + padding up to 15 + pad length
# and next header 2 + ICV 16 = 77, plus 8 for the UDP header of NAT traversal (RFC 3948):
# strongSwan encapsulates as soon as either end is behind NAT (a site at home, a cloud
# address translated to the VM's private one), so the budget always includes it.
# The public underlays netweave deploys are IPv4.
ESP_OVERHEAD, NAT_T_OVERHEAD = 77, 8
OVERHEAD_BY_VERSION = {"wireguard": {4: 60, 6: 80}, "openvpn": {4: 69, 6: 89},
                       "ipsec": {4: ESP_OVERHEAD + NAT_T_OVERHEAD, 6: ESP_OVERHEAD + NAT_T_OVERHEAD + 20}}
OVERHEAD = {kind: sizes[4] for kind, sizes in OVERHEAD_BY_VERSION.items()}
MSS_HEADERS = 40  # IPv4 + TCP headers: MSS = MTU - 40


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one end sends its tunnel packets: ``port`` on ``host`` — at ``address`` over
    a private transport (the peer's primary NIC), else at the peer's public address."""

    host: str
    port: int
    address: netaddr.IPAddress | None
    # the peer cannot be reached (a site behind NAT, a vCPE without a public address):
    # nothing to dial, it dials this end
    dials_in: bool = False

    @property
    def public(self) -> bool:
        return self.address is None


@dataclass(frozen=True, slots=True)
class TunnelSide:
    """A tunnel as one of its two vCPEs sees it."""

    label: str
    index: int  # position in topology.tunnels
    end: int  # 0 or 1: which end this vCPE is
    type: str  # wireguard | openvpn | ipsec
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
    # IPsec: the XFRM interface id both directions' SAs carry (unique on this host), and
    # whether this end starts IKE (the other end only answers)
    if_id: int = 0
    initiator: bool = True

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
        if len(tunnel.ends) != 2 or tunnel.ends[0].node == tunnel.ends[1].node:
            unusable.append(label)
            continue
        for end in (0, 1):
            raw.append((i, label, end, tunnel.ends[end].node, tunnel.ends[1 - end].node))
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

    if_ids = _if_ids(raw, topology)
    sides: dict[int, list[TunnelSide]] = {}
    for i, label, end, local, peer in raw:
        tunnel = topology.tunnels[i]
        private = topology.vcpes[peer].nics[0].address if tunnel.transport == "private" else None
        mtu = tunnel.mtu or (min(index.underlay(local)[0], index.underlay(peer)[0])
                             - OVERHEAD[tunnel.type])
        sides.setdefault(i, []).append(TunnelSide(
            label=label, index=i, end=end, type=tunnel.type, local=local, peer=peer,
            interface=names[(label, local)],
            local_address=tunnel.ends[end].address, peer_address=tunnel.ends[1 - end].address,
            listen_port=ports[(label, local)], peer_port=ports[(label, peer)],
            endpoint=Endpoint(peer, ports[(label, peer)], private,
                              tunnel.transport == "internet" and not index.reachable(peer)),
            transport=tunnel.transport,
            mtu=mtu, keepalive=tunnel.keepalive, psk=tunnel.psk or tunnel.type == "ipsec",
            peer_prefixes=declared.get(peer, ()),
            if_id=if_ids.get((label, local), 0), initiator=_initiates(topology, index, i, end)))
    links = tuple(TunnelLink(s[0].label, i, s[0].type, s[0].transport, s[0].mtu, (s[0], s[1]))
                  for i, s in sides.items())
    return links, tuple(unusable)


def _initiates(topology: Topology, index: Index, i: int, end: int) -> bool:
    """Which end starts IKE: the one that can reach the other. The second end dials the
    first (as WireGuard's "that end listens, the other dials out"), unless only the
    first can be reached from the internet (a site behind NAT always dials). Two
    initiators would race and build two SAs."""
    tunnel = topology.tunnels[i]
    if tunnel.transport == "private":
        return end == 1
    reachable = [index.reachable(e.node) for e in tunnel.ends]
    initiator = 1 if reachable[0] else 0
    return end == initiator


def _if_ids(raw: list[tuple[int, str, int, str, str]], topology: Topology) -> dict[tuple[str, str], int]:
    """(label, local) -> XFRM interface id for IPsec ends: from a hash of the tunnel's
    label, so that adding a tunnel never renumbers another one (that would change a
    running vCPE's boot configuration); a clash on one host moves to the next free id."""
    found: dict[tuple[str, str], int] = {}
    taken: dict[str, set[int]] = {}
    for i, label, _end, local, _peer in sorted(raw, key=lambda r: (r[3], r[1])):
        if topology.tunnels[i].type != "ipsec":
            continue
        value = 1 + int(hashlib.sha256(label.encode()).hexdigest()[:7], 16)  # 1 .. 2**28
        used = taken.setdefault(local, set())
        while value in used:
            value += 1
        used.add(value)
        found[(label, local)] = value
    return found
