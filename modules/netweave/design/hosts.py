"""The hosts netweave deploys — vCPEs and VPN servers — as they will run: their cloud,
NICs with interface names, addresses, gateways and policy-routing tables, tunnels, static
routes (with the interface a connected one leaves by) and, for a VPN server, its port,
MTU, interface and client addresses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import netaddr

from netweave.design.addresses import assigns_addresses
from netweave.design.bgp import BgpSpeaker
from netweave.design.names import IFNAMSIZ, nic_name, short_name
from netweave.design.tunnels import OVERHEAD, TunnelSide
from netweave.model.index import Index
from netweave.model.topology import Topology

TABLE_BASE = 100  # policy-routing table of extra NIC i: 100 + i
VPN_PORTS = {"openvpn": 1194, "wireguard": 51820}
# IKE, NAT-T and L2TP: what an L2TP/IPsec server listens on (ESP besides, without NAT)
L2TP_PORTS = (500, 4500, 1701)


@dataclass(frozen=True, slots=True)
class NicInterface:
    """One NIC of a deployed host, as its image names and configures it.

    A NIC in a Vultr VPC has no name, address or MTU here: Vultr assigns the address when
    the VM attaches, cloud-init configures the NIC by MAC from Vultr's metadata (with the
    MTU the metadata gives), and the VM finds it by MAC at boot (render/vpc_nic.py)."""

    index: int                 # 0: the primary NIC
    name: str | None           # eth0 (QingCloud); None: found by MAC on the VM (Vultr)
    vxnet: str
    vpc: str
    cidr: netaddr.IPNetwork    # the vxnet's network
    address: netaddr.IPAddress | None  # None: assigned by the cloud at deploy (Vultr)
    gateway: netaddr.IPAddress  # the VPC router sits at .1 of every vxnet
    mtu: int | None            # None: the cloud's (Vultr's metadata, via cloud-init)
    # Vultr: the internet default route belongs to the public NIC (Vultr's own config);
    # a Vultr VPC has no router at .1 to send it to.
    default_route: bool
    table: int | None          # extra NICs answer from their own address: own table

    @property
    def assigned_at_deploy(self) -> bool:
        return self.address is None

    @property
    def interface(self) -> str:
        return f"{self.address}/{self.cidr.prefixlen}"


@dataclass(frozen=True, slots=True)
class ResolvedStaticRoute:
    """A vCPE static route with where it goes: its next hop, or — for a connected
    destination — the NIC it leaves by."""

    destination: netaddr.IPNetwork
    next_hop: netaddr.IPAddress | None
    interface: str | None

    @property
    def via(self) -> str:
        return str(self.next_hop) if self.next_hop is not None else str(self.interface)


@dataclass(frozen=True, slots=True)
class VcpeDesign:
    name: str
    cloud: str                 # qingcloud | vultr
    vpc: str                   # of the primary NIC
    vpcs: tuple[str, ...]      # of all its NICs, sorted
    nics: tuple[NicInterface, ...]
    tunnels: tuple[TunnelSide, ...]
    static_routes: tuple[ResolvedStaticRoute, ...]
    bgp: BgpSpeaker | None
    public_ip: bool
    cloud_name: str = ""       # its clouds.<name>
    underlay_mtu: int = 1500   # that cloud's mtu: what its internet tunnels ride on


@dataclass(frozen=True, slots=True)
class VpnServerDesign:
    name: str
    cloud: str
    vpc: str
    type: str
    nics: tuple[NicInterface, ...]
    port: int | None           # None for l2tp / pptp (not rendered by netweave)
    mtu: int
    interface: str
    client_addresses: tuple[tuple[str, netaddr.IPAddress], ...]  # WireGuard: fixed per client
    public_ip: bool


def nic_interfaces(index: Index, cloud: str,
                   nics: list[tuple[str, netaddr.IPAddress | None, int | None]]) -> tuple[NicInterface, ...]:
    """nics: (vxnet, address, mtu) in NIC order; the first is the primary."""
    out = []
    for i, (vxnet, address, mtu) in enumerate(nics):
        cidr, vpc = index.vxnets[vxnet].cidr, index.vpc_of(vxnet)
        gateway = netaddr.IPAddress(cidr.first + 1, cidr.version)
        if assigns_addresses(cloud):  # name, address and MTU are the cloud's (lint A212/A213)
            out.append(NicInterface(i, None, vxnet, vpc, cidr, None, gateway, None, False, None))
            continue
        out.append(NicInterface(i, nic_name(cloud, i), vxnet, vpc, cidr, address, gateway, mtu or 1500,
                                i == 0 and cloud == "qingcloud", TABLE_BASE + i if i > 0 else None))
    return tuple(out)


def static_routes(topology: Topology, index: Index, vcpe: str,
                  nics: tuple[NicInterface, ...]) -> tuple[ResolvedStaticRoute, ...]:
    routes = []
    for route in topology.vcpes[vcpe].static_routes:
        if route.next_hop is not None:
            routes.append(ResolvedStaticRoute(route.destination, route.next_hop, None))
            continue
        # a connected destination: route it out of the NIC whose vxnet holds it
        nic = next((nic for nic in nics
                    if route.destination in nic.cidr or nic.cidr in route.destination), nics[0])
        if nic.name is None:
            # A NIC found by MAC on the VM (Vultr) has no name here: its whole network is
            # connected anyway (the kernel's route); a part of it needs a next hop (R330).
            continue
        routes.append(ResolvedStaticRoute(route.destination, None, nic.name))
    return tuple(routes)


def vpn_interface_name(server: str, kind: str) -> str:
    prefix = "ovpn-" if kind == "openvpn" else "wg-"
    name = f"{prefix}{server}"
    return name if len(name) <= IFNAMSIZ else short_name(prefix, f"vpn/{server}")


def build_hosts(topology: Topology, index: Index, tunnels: Mapping[str, list[TunnelSide]],
                speakers: Mapping[str, BgpSpeaker]
                ) -> tuple[dict[str, VcpeDesign], dict[str, VpnServerDesign]]:
    vcpes = {}
    for name, node in topology.vcpes.items():
        cloud_name, cloud_cfg = index.vcpe_cloud(name)
        cloud = cloud_cfg.provider
        nics = nic_interfaces(index, cloud, [(n.vxnet, n.address, n.mtu) for n in node.nics])
        vcpes[name] = VcpeDesign(
            name, cloud, index.vcpe_vpc(name), tuple(sorted({index.vpc_of(n.vxnet) for n in node.nics})),
            nics, tuple(tunnels.get(name, ())), static_routes(topology, index, name, nics),
            speakers.get(name), node.public_ip, cloud_name, cloud_cfg.mtu)
    servers = {}
    for name, server in topology.vpn_servers.items():
        cloud_cfg = index.cloud_of_vxnet(server.vxnet)[1]
        overhead = OVERHEAD.get(server.type, 0)
        clients = tuple((c, netaddr.IPAddress(server.client_pool.first + 2 + i, server.client_pool.version))
                        for i, c in enumerate(server.clients))  # .1 is the server itself
        servers[name] = VpnServerDesign(
            name, cloud_cfg.provider, index.vpc_of(server.vxnet), server.type,
            nic_interfaces(index, cloud_cfg.provider, [(server.vxnet, server.address, None)]),
            server.port or VPN_PORTS.get(server.type), server.mtu or cloud_cfg.mtu - overhead,
            vpn_interface_name(name, server.type), clients, server.public_ip)
    return vcpes, servers
