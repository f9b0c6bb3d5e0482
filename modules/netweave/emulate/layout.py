"""The lab as data: which namespaces, links, bridges and addresses a topology becomes.

Pure (no root needed, unit-tested): built from the topology model for the L2/L3
skeleton — VPC routers, vxnet bridges, hosts, vCPE NIC links, the underlay. What runs
*on* a vCPE (its addresses, FRR, tunnels) comes from the render output instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import netaddr

from netweave.design import Design
from netweave.design.pushes import PushedRoute
from netweave.emulate.naming import Names
from netweave.model.index import Index
from netweave.model.topology import Topology

UNDERLAY = netaddr.IPNetwork("198.18.0.0/15")  # RFC 2544 benchmark range: "the internet"
CLIENTS = netaddr.IPNetwork("198.19.0.0/16")  # remote-access clients' own addresses
UNDERLAY_BRIDGE = "inet"


@dataclass(frozen=True)
class Bridge:
    vxnet: str
    name: str                  # inside the VPC router namespace
    gateway: netaddr.IPNetwork  # the VPC router's .1 with the vxnet's prefix length


@dataclass(frozen=True)
class RouterLayout:
    vpc: str
    ns: str
    cloud: str                 # "qingcloud" | "vultr" | "site" (the site's home router)
    bridges: dict[str, Bridge]
    wan: netaddr.IPNetwork | None = None  # a site behind NAT: its NAT router's underlay leg


@dataclass(frozen=True)
class HostLayout:
    name: str
    ns: str
    vpc: str
    vxnet: str
    address: netaddr.IPNetwork  # with the vxnet's prefix length
    gateway: netaddr.IPAddress
    mac: str
    port: str                   # veth end in the router namespace
    dhcp: bool                  # QingCloud: address and pushes by DHCP; Vultr: cloud-init
    security_groups: tuple[str, ...]


@dataclass(frozen=True)
class NicLayout:
    index: int
    ifname: str                 # inside the vCPE namespace ("eth0", ...)
    vxnet: str
    address: netaddr.IPNetwork
    port: str                   # veth end in the router namespace
    router_ns: str
    gateway: netaddr.IPAddress
    # A NIC whose address the cloud assigns at deploy (Vultr): the lab picks a stand-in
    # address, gives the NIC a MAC and a name no rendered file uses, and the host finds it
    # by that MAC in the lab's metadata service (emulate/metadata.py)
    assigned: bool = False
    mac: str | None = None


@dataclass(frozen=True)
class VcpeLayout:
    name: str
    ns: str
    vpc: str
    cloud: str
    nics: tuple[NicLayout, ...]
    public: netaddr.IPNetwork | None  # underlay address (its EIP / reserved IP)
    security_groups: tuple[str, ...]


@dataclass(frozen=True)
class ClientLayout:
    """A remote-access client (a laptop on the internet) of a VPN server."""

    name: str
    server: str
    ns: str
    address: netaddr.IPNetwork  # its own underlay address
    port: str                   # veth end in the underlay namespace


@dataclass
class LabLayout:
    names: Names
    routers: dict[str, RouterLayout] = field(default_factory=dict)
    # vxnet -> (destination, next hop) its VMs hold (DHCP option 121 on QingCloud, the
    # workload-routes snippet on Vultr), and VPC -> the routes its router holds (a
    # QingCloud route table): the design's fan-out.
    pushes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    router_routes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    hosts: dict[str, HostLayout] = field(default_factory=dict)
    vcpes: dict[str, VcpeLayout] = field(default_factory=dict)
    # a VPN server is wired like a vCPE: NIC in its vxnet, public address on the underlay
    vpn_servers: dict[str, VcpeLayout] = field(default_factory=dict)
    clients: dict[tuple[str, str], ClientLayout] = field(default_factory=dict)
    underlay_ns: str = ""
    # router -> the VPC address the lab gives it where the cloud assigns one at deploy
    # (Vultr): the lab's stand-in, said in its notes
    assigned: dict[str, str] = field(default_factory=dict)
    # the deploying machine on the underlay (``--change``: it reaches the vCPEs over SSH)
    deployer_ns: str = ""

    @property
    def namespaces(self) -> list[str]:
        found = [r.ns for r in self.routers.values()] + [h.ns for h in self.hosts.values()]
        found += [v.ns for v in self.vcpes.values()] + [s.ns for s in self.vpn_servers.values()]
        found += [c.ns for c in self.clients.values()]
        found += [self.deployer_ns] if self.deployer_ns else []
        return [*found, self.underlay_ns] if self.underlay_ns else found

    def public_addresses(self) -> dict[str, str]:
        return {name: str(v.public.ip) for name, v in [*self.vcpes.items(), *self.vpn_servers.items()]
                if v.public is not None}


def gateway(cidr: netaddr.IPNetwork) -> netaddr.IPAddress:
    """The VPC router sits at the first host address of each vxnet."""
    return netaddr.IPAddress(cidr.first + 1)


def _mac(kind: int, n: int) -> str:
    return f"02:6e:77:{kind:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"


def stand_in_address(cidr: netaddr.IPNetwork, taken: set[int]) -> netaddr.IPAddress:
    """The lab's stand-in for an address the cloud assigns: the highest usable address of
    the vxnet that nothing in the topology holds (far from the low ones people write)."""
    for value in range(cidr.last - (1 if cidr.version == 4 else 0), cidr.first + 1, -1):
        if value not in taken:
            return netaddr.IPAddress(value, cidr.version)
    raise ValueError(f"no free address left in {cidr} for an address assigned at deploy")


def build_layout(topology: Topology, index: Index, names: Names,
               design: Design | None = None) -> LabLayout:
    design = design if design is not None else Design.build(topology, index)
    layout = LabLayout(names)
    for vpc_name, vpc in topology.vpcs.items():
        _, cloud = index.cloud_of_vpc(vpc_name)
        ns = names.router(vpc_name)
        bridges = {vx: Bridge(vx, f"b{i}", netaddr.IPNetwork(f"{gateway(v.cidr)}/{v.cidr.prefixlen}"))
                   for i, (vx, v) in enumerate(vpc.vxnets.items())}
        layout.routers[vpc_name] = RouterLayout(vpc_name, ns, cloud.provider, bridges)
    public_n = 0
    for name, site in topology.sites.items():  # the home router: the LAN's switch, the NAT
        lan = site.lan[0]
        used = {int(site.gateway)} | {int(h.address) for h in topology.hosts.values() if h.site == name}
        router_at = next(a for a in range(lan.last - 1, lan.first, -1) if a not in used)
        wan = None
        if site.nat:
            wan = netaddr.IPNetwork(f"{netaddr.IPAddress(UNDERLAY.first + 2 + public_n)}"
                                    f"/{UNDERLAY.prefixlen}")
            public_n += 1
        layout.routers[name] = RouterLayout(
            name, names.node("n", name), "site",
            {f"lan:{name}": Bridge(f"lan:{name}", "b0",
                                   netaddr.IPNetwork(f"{netaddr.IPAddress(router_at)}/{lan.prefixlen}"))},
            wan)
    for n, (name, host) in enumerate(topology.hosts.items()):
        if host.vxnet is None:  # at a site: a static address, everything else via its gateway
            site = topology.sites[host.site or ""]
            layout.hosts[name] = HostLayout(
                name, names.host(name), host.site or "", f"lan:{host.site}",
                netaddr.IPNetwork(f"{host.address}/{site.lan[0].prefixlen}"), site.gateway,
                _mac(1, n), f"h{n}", False, tuple(host.security_groups))
            continue
        vpc_name = index.vpc_of(host.vxnet)
        cidr = index.vxnets[host.vxnet].cidr
        layout.hosts[name] = HostLayout(
            name, names.host(name), vpc_name, host.vxnet,
            netaddr.IPNetwork(f"{host.address}/{cidr.prefixlen}"), gateway(cidr), _mac(1, n),
            f"h{n}", layout.routers[vpc_name].cloud == "qingcloud", tuple(host.security_groups))
    taken = {int(o.address) for o in index.owners}

    def leg(name: str, i: int, vxnet: str, address: netaddr.IPAddress | None, ifname: str,
            port: str, serial: int) -> NicLayout:
        cidr = index.vxnets[vxnet].cidr
        router_ns = layout.routers[index.vpc_of(vxnet)].ns
        if address is not None:
            return NicLayout(i, ifname, vxnet, netaddr.IPNetwork(f"{address}/{cidr.prefixlen}"),
                             port, router_ns, gateway(cidr))
        # assigned by the cloud at deploy: the lab's stand-in address, a Vultr-like MAC and
        # a name the rendered files never use (older Vultr images called it ens7)
        stand_in = stand_in_address(cidr, taken)
        taken.add(int(stand_in))
        layout.assigned[name] = str(stand_in)
        return NicLayout(i, f"ens{7 + i}", vxnet, netaddr.IPNetwork(f"{stand_in}/{cidr.prefixlen}"),
                         port, router_ns, gateway(cidr), True,
                         f"5a:00:6e:77:{(serial >> 8) & 0xFF:02x}:{serial & 0xFF:02x}")

    for v, (name, vcpe) in enumerate(topology.vcpes.items()):
        nics = [leg(name, i, nic.vxnet, nic.address, f"eth{i}", f"v{v}n{i}", v * 16 + i)
                for i, nic in enumerate(vcpe.nics)]
        public = None
        if vcpe.public_ip:
            public = netaddr.IPNetwork(f"{netaddr.IPAddress(UNDERLAY.first + 2 + public_n)}"
                                       f"/{UNDERLAY.prefixlen}")
            public_n += 1
        layout.vcpes[name] = VcpeLayout(name, names.vcpe(name), index.vcpe_vpc(name),
                                    index.vcpe_cloud(name)[1].provider, tuple(nics), public,
                                    tuple(vcpe.security_groups))
    for name, site in topology.sites.items():  # the gateway: wired like a vCPE
        lan = site.lan[0]
        router = layout.routers[name]
        gateway_leg = NicLayout(0, "lan0", f"lan:{name}",
                                netaddr.IPNetwork(f"{site.gateway}/{lan.prefixlen}"),
                                f"g{len(layout.vcpes)}n0", router.ns,
                                router.bridges[f"lan:{name}"].gateway.ip)
        public = None
        if not site.nat:
            public = netaddr.IPNetwork(f"{netaddr.IPAddress(UNDERLAY.first + 2 + public_n)}"
                                       f"/{UNDERLAY.prefixlen}")
            public_n += 1
        layout.vcpes[name] = VcpeLayout(name, names.node("g", name), name, "site", (gateway_leg,),
                                        public, ())
    for s, (name, server) in enumerate(topology.vpn_servers.items()):
        home = index.vpc_of(server.vxnet)
        server_leg = leg(name, 0, server.vxnet, server.address, "eth0", f"s{s}n0", 0x8000 + s)
        public = None
        if server.public_ip:
            public = netaddr.IPNetwork(f"{netaddr.IPAddress(UNDERLAY.first + 2 + public_n)}"
                                       f"/{UNDERLAY.prefixlen}")
            public_n += 1
            for client in server.clients:  # laptops dial in from the internet
                n = len(layout.clients)
                layout.clients[(name, client)] = ClientLayout(
                    client, name, names.node("c", f"{name}/{client}"),
                    netaddr.IPNetwork(f"{netaddr.IPAddress(CLIENTS.first + 2 + n)}/{UNDERLAY.prefixlen}"),
                    f"c{n}")
        layout.vpn_servers[name] = VcpeLayout(name, names.node("s", name), home,
                                          layout.routers[home].cloud, (server_leg,), public, ())
    if any(v.public is not None for v in [*layout.vcpes.values(), *layout.vpn_servers.values()]) \
            or any(r.wan is not None for r in layout.routers.values()):
        layout.underlay_ns = names.underlay
    # what the VPC routers hand out, a next hop assigned at deploy as the lab's stand-in
    for vxnet, received in design.vxnet_pushes.items():
        held = _routes(received.held, layout.assigned)
        if held:
            layout.pushes[vxnet] = held
    for vpc_name, by_router in design.router_pushes().items():
        layout.router_routes[vpc_name] = _routes(by_router, layout.assigned)
    return layout


def _routes(pushes: Iterable[PushedRoute], assigned: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(destination, next hop), first occurrence kept; a router's address the cloud assigns
    at deploy is the lab's stand-in for it."""
    seen: dict[tuple[str, str], None] = {}
    for p in pushes:
        hop = str(p.next_hop) if p.next_hop is not None else assigned.get(p.router or "")
        if hop is not None:
            seen.setdefault((str(p.destination), hop), None)
    return tuple(seen)
