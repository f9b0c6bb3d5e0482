"""Derived facts about a topology that every later layer asks for.

The model says what was written; the index answers questions about it: which VPC a
vxnet is in, which cloud a vCPE runs in, who owns an address. Built once, in linear
time, after references were checked (every name resolves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import netaddr

from netweave.model.source import PathKey
from netweave.model.topology import Cloud, Host, Nic, Topology, Vcpe, Vpc, VpnServer, Vxnet


@dataclass(frozen=True, slots=True)
class VxnetInfo:
    name: str
    vpc: str
    vxnet: Vxnet
    path: PathKey

    @property
    def cidr(self) -> netaddr.IPNetwork:
        return self.vxnet.cidr


@dataclass(frozen=True, slots=True)
class AddressOwner:
    """Something holding a fixed address in a vxnet: a host, a vCPE NIC or a VPN host
    (NICs and VPN hosts whose address the cloud assigns at deploy hold none here)."""

    kind: str  # "host" | "nic" | "vpn_server"
    name: str  # host / vCPE / VPN server name
    vxnet: str
    address: netaddr.IPAddress
    path: PathKey  # path of the address value
    nic_index: int | None = None

    def describe(self) -> str:
        if self.kind == "nic":
            return f"{self.name} NIC {self.nic_index} ({self.address})"
        return f"{self.kind.replace('_', ' ')} {self.name} ({self.address})"


@dataclass
class Index:
    topology: Topology
    vxnets: dict[str, VxnetInfo] = field(default_factory=dict)
    owners: list[AddressOwner] = field(default_factory=list)

    @classmethod
    def build(cls, topology: Topology) -> Index:
        index = cls(topology)
        for vpc_name, vpc in topology.vpcs.items():
            for vx_name, vx in vpc.vxnets.items():
                index.vxnets[vx_name] = VxnetInfo(vx_name, vpc_name, vx,
                                                  ("vpcs", vpc_name, "vxnets", vx_name, "cidr"))
        for name, host in topology.hosts.items():
            if host.vxnet is None:  # a host at a site: not in any VPC
                continue
            index.owners.append(AddressOwner("host", name, host.vxnet, host.address,
                                             ("hosts", name, "address")))
        # A NIC or VPN host without an address has one the cloud assigns at deploy
        # (Vultr): it owns no address the topology could point at.
        for name, vcpe in topology.vcpes.items():
            for i, nic in enumerate(vcpe.nics):
                if nic.address is None:
                    continue
                index.owners.append(AddressOwner("nic", name, nic.vxnet, nic.address,
                                                 ("vcpes", name, "nics", i, "address"), i))
        for name, vpn in topology.vpn_servers.items():
            if vpn.address is None:
                continue
            index.owners.append(AddressOwner("vpn_server", name, vpn.vxnet, vpn.address,
                                             ("vpn_servers", name, "address")))
        return index

    # --- lookups -----------------------------------------------------------------------

    def vpc(self, name: str) -> Vpc:
        return self.topology.vpcs[name]

    def vpc_of(self, vxnet: str) -> str:
        return self.vxnets[vxnet].vpc

    def cloud_of_vpc(self, vpc: str) -> tuple[str, Cloud]:
        name = self.topology.vpcs[vpc].cloud
        return name, self.topology.clouds[name]

    def cloud_of_vxnet(self, vxnet: str) -> tuple[str, Cloud]:
        return self.cloud_of_vpc(self.vpc_of(vxnet))

    def vcpe_cloud(self, vcpe: str) -> tuple[str, Cloud]:
        """A vCPE runs where its primary NIC's vxnet is."""
        return self.cloud_of_vxnet(self.topology.vcpes[vcpe].nics[0].vxnet)

    def vcpe_vpc(self, vcpe: str) -> str:
        return self.vpc_of(self.topology.vcpes[vcpe].nics[0].vxnet)

    def host(self, name: str) -> Host:
        return self.topology.hosts[name]

    def vcpe(self, name: str) -> Vcpe:
        return self.topology.vcpes[name]

    def vpn_server(self, name: str) -> VpnServer:
        return self.topology.vpn_servers[name]

    @cached_property
    def owners_by_address(self) -> dict[tuple[str, int], list[AddressOwner]]:
        """(VPC, address) -> owners: addresses are unique per VPC, not globally."""
        table: dict[tuple[str, int], list[AddressOwner]] = {}
        for owner in self.owners:
            key = (self.vpc_of(owner.vxnet), int(owner.address))
            table.setdefault(key, []).append(owner)
        return table

    def owner_at(self, vpc: str, address: netaddr.IPAddress) -> AddressOwner | None:
        found = self.owners_by_address.get((vpc, int(address)))
        return found[0] if found else None

    def nics_in_vxnet(self, vxnet: str) -> list[tuple[str, int, Nic]]:
        return [(name, i, nic) for name, vcpe in self.topology.vcpes.items()
                for i, nic in enumerate(vcpe.nics) if nic.vxnet == vxnet]

    def vxnet_containing(self, vpc: str, address: netaddr.IPAddress) -> str | None:
        for name, vx in self.topology.vpcs[vpc].vxnets.items():
            if address in vx.cidr:
                return name
        return None

    def hosts_in(self, endpoint: str) -> list[str]:
        """Hosts an intent endpoint stands for: a host, every host of a vxnet or a VPC."""
        topo = self.topology
        if endpoint in topo.hosts:
            return [endpoint]
        if endpoint in self.vxnets:
            return list(self._hosts_by_vxnet.get(endpoint, ()))
        if endpoint in topo.vpcs:
            return list(self._hosts_by_vpc.get(endpoint, ()))
        if endpoint in topo.sites:
            return [name for name, host in topo.hosts.items() if host.site == endpoint]
        return []

    @cached_property
    def _hosts_by_vxnet(self) -> dict[str, list[str]]:
        """vxnet -> its hosts in file order: one pass, not one per intent endpoint."""
        out: dict[str, list[str]] = {}
        for name, host in self.topology.hosts.items():
            if host.vxnet is not None:
                out.setdefault(host.vxnet, []).append(name)
        return out

    @cached_property
    def _hosts_by_vpc(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, host in self.topology.hosts.items():
            if host.vxnet is not None:
                out.setdefault(self.vpc_of(host.vxnet), []).append(name)
        return out

    # --- tunnel ends: vCPEs and sites ------------------------------------------------------

    def underlay(self, node: str) -> tuple[int, str]:
        """The MTU of the path a tunnel end's packets leave by, and whose it is: a vCPE's
        cloud, or a site's own uplink."""
        site = self.topology.sites.get(node)
        if site is not None:
            return site.mtu, f"site {node}"
        name, cloud = self.vcpe_cloud(node)
        return cloud.mtu, f"cloud {name}"

    def reachable(self, node: str) -> bool:
        """Whether the other end of a tunnel can send to this end: a vCPE with a public
        address, a site with a public address and not behind NAT."""
        site = self.topology.sites.get(node)
        if site is not None:
            return not site.nat and site.public_address is not None
        vcpe = self.topology.vcpes.get(node)
        return vcpe is not None and vcpe.public_ip
