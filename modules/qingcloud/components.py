"""ComponentResources that mirror the topology on QingCloud.

- ``QingCloudVpc``: the VPC's router, its vxnets (joined with their networks) and its
  route pushes (one ``RoutePush`` per receiving vxnet).
- ``QingCloudVcpe``: the vCPE's EIP and security group (created at once: the public
  address is needed to render the boot configuration), then — once the boot
  configuration is known — its instance, extra NICs and the EIP association.

Dependencies come from Outputs (ids passed as inputs), so the engine orders create and
destroy correctly and runs everything else in parallel; nothing is serialized by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from modules.index import Index
from modules.model import FirewallRule, Topology
from modules.model import SecurityGroup as TopologySecurityGroup
from modules.qingcloud.eip import Eip, EipAssociation
from modules.qingcloud.instance import Instance
from modules.qingcloud.nic import Nic
from modules.qingcloud.route_push import RoutePush
from modules.qingcloud.security_group import SecurityGroup
from modules.qingcloud.vpc import Vpc
from modules.qingcloud.vxnet import Vxnet

DEFAULT_IMAGE = "debian12x64"
DEFAULT_INSTANCE_TYPE = "c1m1"   # 1 vCPU, 1 GB: plenty for FRR + WireGuard
WIREGUARD_PORTS = (51820, 51899)   # render assigns listen ports from 51820 up
OPENVPN_PORTS = (1194, 1293)


def physical_name(stack: str, logical: str) -> str:
    """Deterministic cloud name: how an interrupted create is found and adopted next run."""
    return f"nw-{stack}-{logical}"


def route_push_targets(topology: Topology, index: Index, vpc_name: str) -> dict[str, list[dict[str, str]]]:
    """vxnet -> the routes its VMs receive (explicit ``vxnets``, else where next_hop is on-link)."""
    vpc = topology.vpcs[vpc_name]
    targets: dict[str, list[dict[str, str]]] = {}
    for push in vpc.route_push:
        names = push.vxnets or [n for n, vx in vpc.vxnets.items() if push.next_hop in vx.cidr]
        for name in names:
            route = {"destination": str(push.destination), "next_hop": str(push.next_hop)}
            if route not in targets.setdefault(name, []):
                targets[name].append(route)
    return targets


class QingCloudVpc(pulumi.ComponentResource):
    """A QingCloud VPC: router + vxnets + route pushes."""

    router: Vpc
    vxnets: dict[str, Vxnet]
    route_pushes: dict[str, RoutePush]

    def __init__(self, name: str, *, topology: Topology, index: Index, stack: str, zone: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vpc", name, None, opts)
        vpc = topology.vpcs[name]
        child = pulumi.ResourceOptions(parent=self)
        self.router = Vpc(name, zone=zone, name=physical_name(stack, name),
                          vpc_network=str(vpc.cidr), opts=child)
        self.vxnets = {
            vx_name: Vxnet(vx_name, zone=zone, name=physical_name(stack, vx_name),
                           router_id=self.router.router_id, ip_network=str(vx.cidr),
                           manager_ip=str(vx.cidr.network + 1), opts=child)
            for vx_name, vx in vpc.vxnets.items()}
        self.route_pushes = {
            vx_name: RoutePush(f"{vx_name}-route-push", zone=zone,
                               name=physical_name(stack, f"{vx_name}-route-push"),
                               vxnet_id=self.vxnets[vx_name].vxnet_id, routes=routes, opts=child)
            for vx_name, routes in route_push_targets(topology, index, name).items()}
        self.register_outputs({
            "router_id": self.router.router_id,
            "vxnet_ids": {n: v.vxnet_id for n, v in self.vxnets.items()},
        })


def _rule(protocol: str, source: str, ports: tuple[int, int] | None = None,
          action: str = "accept", priority: int = 50, direction: int = 0) -> dict[str, Any]:
    return {"protocol": protocol, "priority": priority, "action": action, "direction": direction,
            "val1": str(ports[0]) if ports else None, "val2": str(ports[1]) if ports else None,
            "val3": source}


def firewall_rules(rule: FirewallRule) -> list[dict[str, Any]]:
    """A topology firewall rule -> QingCloud rules ("any" = tcp + udp + icmp)."""
    ports: tuple[int, int] | None = None
    if rule.ports:
        low, _, high = rule.ports.partition("-")
        ports = (int(low), int(high or low))
    protocols = ["tcp", "udp", "icmp"] if rule.protocol == "any" else [rule.protocol]
    return [_rule(p, str(rule.source), ports if p != "icmp" else None, rule.action, 40,
                  0 if rule.direction == "ingress" else 1) for p in protocols]


def vcpe_rules(topology: Topology, index: Index, name: str) -> list[dict[str, Any]]:
    """What a vCPE must accept: its tunnels, ICMP, everything from the VPCs it routes for,
    SSH from ``ssh_from``, plus the topology security groups it names."""
    vcpe = topology.vcpes[name]
    rules: list[dict[str, Any]] = [_rule("icmp", "0.0.0.0/0")]
    for tunnel in topology.tunnels:
        if name not in {e.vcpe for e in tunnel.ends}:
            continue
        ports = (tunnel.port, tunnel.port) if tunnel.port else (
            WIREGUARD_PORTS if tunnel.type == "wireguard" else OPENVPN_PORTS)
        rule = _rule("udp", "0.0.0.0/0", ports)
        if rule not in rules:
            rules.append(rule)
    for vpc in sorted({index.vpc_of(nic.vxnet) for nic in vcpe.nics}):
        cidr = str(topology.vpcs[vpc].cidr)
        rules += [_rule("tcp", cidr, (1, 65535)), _rule("udp", cidr, (1, 65535)), _rule("icmp", cidr)]
    for source in vcpe.ssh_from:
        rules.append(_rule("tcp", str(source), (22, 22)))
    for group in vcpe.security_groups:
        spec: TopologySecurityGroup = topology.security_groups[group]
        for fw in spec.rules:
            rules += [r for r in firewall_rules(fw) if r not in rules]
    return rules


@dataclass
class VcpeLaunch:
    """What the instance needs that only exists after the VPCs are declared."""

    vxnet_ids: Mapping[str, pulumi.Output[str]]
    userdata_type: str
    userdata: pulumi.Input[Any]
    image_id: str = DEFAULT_IMAGE
    instance_type: str = DEFAULT_INSTANCE_TYPE
    login_keypair: str | None = None


class QingCloudVcpe(pulumi.ComponentResource):
    """A vCPE on QingCloud: EIP + security group first, then instance + NICs + association."""

    eip: Eip | None
    security_group: SecurityGroup
    instance: Instance | None
    nics: list[Nic]
    association: EipAssociation | None

    def __init__(self, name: str, *, topology: Topology, index: Index, stack: str, zone: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vcpe", name, None, opts)
        self._name, self._stack, self._zone = name, stack, zone
        self._vcpe = topology.vcpes[name]
        child = pulumi.ResourceOptions(parent=self)
        self.eip = (Eip(f"{name}-eip", zone=zone, name=physical_name(stack, f"{name}-eip"), opts=child)
                    if self._vcpe.public_ip else None)
        self.security_group = SecurityGroup(
            f"{name}-sg", zone=zone, name=physical_name(stack, f"{name}-sg"),
            rules=vcpe_rules(topology, index, name), opts=child)
        self.instance, self.nics, self.association = None, [], None

    @property
    def public_ip(self) -> pulumi.Output[str] | None:
        return self.eip.eip_addr if self.eip else None

    def launch(self, launch: VcpeLaunch) -> None:
        """Declare the instance (with its boot configuration), extra NICs, EIP binding."""
        name, stack, zone, vcpe = self._name, self._stack, self._zone, self._vcpe
        child = pulumi.ResourceOptions(parent=self)
        primary = vcpe.nics[0]
        self.instance = Instance(
            name, zone=zone, name=physical_name(stack, name), image_id=vcpe.image or launch.image_id,
            instance_type=vcpe.instance_type or launch.instance_type,
            vxnet_id=launch.vxnet_ids[primary.vxnet], private_ip=str(primary.address),
            security_group_id=self.security_group.security_group_id,
            login_keypair=launch.login_keypair, userdata_type=launch.userdata_type,
            userdata=launch.userdata, opts=child)
        self.nics = [
            Nic(f"{name}-nic{i}", zone=zone, name=physical_name(stack, f"{name}-nic{i}"),
                vxnet_id=launch.vxnet_ids[nic.vxnet], private_ip=str(nic.address),
                instance_id=self.instance.instance_id, opts=child)
            for i, nic in enumerate(vcpe.nics) if i > 0]
        if self.eip is not None:
            self.association = EipAssociation(f"{name}-eip-association", zone=zone,
                                              eip_id=self.eip.eip_id,
                                              instance_id=self.instance.instance_id, opts=child)
        self.register_outputs(self.exports())

    def exports(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance.instance_id if self.instance else None,
            "private_addresses": [str(n.address) for n in self._vcpe.nics],
            "nic_ids": [n.nic_id for n in self.nics],
            "public_ip": self.public_ip,
            "security_group_id": self.security_group.security_group_id,
        }
