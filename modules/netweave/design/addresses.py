"""Addresses the topology gives, and addresses the cloud assigns at deploy.

QingCloud: every vCPE NIC and VPN host has the fixed private address the topology gives
(``RunInstances``/``CreateNics`` take ``private_ip``). Vultr: an instance joins a VPC by
its id only — the attach call's body is ``{"vpc_id": ...}`` (govultr ``instance.go``
``instanceVPCReq``; ediri_vultr 2.27.1 ``Instance(vpc_ids=...)`` has no address) — and
Vultr picks the address. It is published to the VM in its metadata
(``http://169.254.169.254/v1.json``, ``interfaces[].ipv4.address`` with the NIC's
``mac``), which cloud-init applies by MAC on first boot (``cloudinit/sources/helpers/
vultr.py``), and to the API as the instance's ``internal_ip`` (one string per instance:
blank with more than one private network, terraform-provider-vultr issue #173).

Before deploy nothing knows that address. Lint, reach and render reason about its
*holder* (the vCPE or VPN server) instead of a number; the Pulumi program reads the
number from ``internal_ip`` once the instance exists, the VM from its metadata, and the
emulator picks one and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import netaddr

from netweave.model.topology import RoutePush, Topology

# Providers whose VPC addresses the cloud assigns when a VM attaches.
ASSIGNING_PROVIDERS = frozenset({"vultr"})
PROVIDER_NAMES = {"qingcloud": "QingCloud", "vultr": "Vultr"}


@dataclass(frozen=True, slots=True)
class AssignedAtDeploy:
    """The address a router holds in a vxnet, assigned by the cloud at deploy."""

    holder: str                 # vCPE or VPN server name
    vxnet: str
    nic_index: int | None = None  # None: a VPN server's one leg

    def __str__(self) -> str:
        return self.holder


# A router's address in a vxnet: the number the topology gives, or assigned at deploy.
RouterAddress: TypeAlias = "netaddr.IPAddress | AssignedAtDeploy"


@dataclass(frozen=True, slots=True)
class RouterLeg:
    """One leg of a router (a vCPE NIC, a VPN host) in a vxnet."""

    name: str
    vxnet: str
    nic_index: int | None
    address: RouterAddress


def assigns_addresses(provider: str) -> bool:
    return provider in ASSIGNING_PROVIDERS


def shown(address: netaddr.IPAddress | None) -> str:
    """An address as people read it: a NIC without one has one the cloud assigns."""
    return str(address) if address is not None else "(address assigned at deploy)"


def router_legs(topology: Topology, name: str) -> list[RouterLeg]:
    """The legs of vCPE or VPN server ``name``, NIC order."""
    vcpe = topology.vcpes.get(name)
    if vcpe is not None:
        return [RouterLeg(name, nic.vxnet, i, nic.address if nic.address is not None
                          else AssignedAtDeploy(name, nic.vxnet, i))
                for i, nic in enumerate(vcpe.nics)]
    server = topology.vpn_servers.get(name)
    if server is None:
        return []
    return [RouterLeg(name, server.vxnet, None, server.address if server.address is not None
                      else AssignedAtDeploy(name, server.vxnet))]


def router_in_vpc(topology: Topology, name: str, vpc: str) -> RouterLeg | None:
    """The first leg of router ``name`` in VPC ``vpc``, if it has one."""
    vxnets = topology.vpcs[vpc].vxnets
    return next((leg for leg in router_legs(topology, name) if leg.vxnet in vxnets), None)


def push_next_hop(topology: Topology, vpc: str, push: RoutePush) -> RouterAddress | None:
    """What a route push's ``next_hop`` stands for in ``vpc``: the address written, or
    the named router's address there — its first NIC in the VPC (a number, or assigned at
    deploy); None when the named router has no leg in ``vpc`` (lint R301)."""
    hop = push.next_hop
    if not isinstance(hop, str):
        address: netaddr.IPAddress = hop
        return address
    leg = router_in_vpc(topology, hop, vpc)
    return leg.address if leg is not None else None


def named_on_link(topology: Topology, vpc: str, router: str) -> tuple[str, ...]:
    """The vxnet of ``vpc`` where ``next_hop: <router>`` is on-link: that of the router's
    first leg in the VPC, whose address the name stands for (a router with NICs in two
    vxnets of one VPC is named by the address of the other one)."""
    leg = router_in_vpc(topology, router, vpc)
    return (leg.vxnet,) if leg is not None else ()


def router_id(topology: Topology, vcpe: str) -> netaddr.IPAddress | None:
    """The BGP router-id: ``bgp.router_id``, else the primary NIC's address when the
    topology gives it, else (Vultr: assigned at deploy, and the rendered configuration is
    an input of the instance, so it cannot wait for it) the vCPE's lowest tunnel address
    — unique, since lint refuses a tunnel address used twice (A207). None: no tunnel
    either, and FRR picks one itself (the vCPE has no BGP peer then: R312)."""
    node = topology.vcpes[vcpe]
    if node.bgp is not None and node.bgp.router_id is not None:
        return node.bgp.router_id
    if node.nics and node.nics[0].address is not None:
        return node.nics[0].address
    ends = [end.address.ip for tunnel in topology.tunnels for end in tunnel.ends if end.vcpe == vcpe]
    return min(ends, key=lambda a: (a.version, int(a))) if ends else None
