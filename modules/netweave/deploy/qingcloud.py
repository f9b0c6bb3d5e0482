"""ComponentResources that mirror the topology on QingCloud.

- ``QingCloudVpc``: the VPC's router, its vxnets (joined with their networks) and its
  route pushes (one ``RoutePush`` per receiving vxnet).
- ``QingCloudVcpe`` (and ``QingCloudVpnServer``): the host's EIP and security group
  (created at once: the public address is needed to render the boot configuration),
  then — once the boot configuration is known — its instance, extra NICs and the EIP
  association.

Dependencies come from Outputs (ids passed as inputs), so the engine orders create and
destroy correctly and runs everything else in parallel; nothing is serialized by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from netweave.model.index import Index
from netweave.model.topology import FirewallRule, Topology
from netweave.model.topology import SecurityGroup as TopologySecurityGroup
from netweave.providers.qingcloud.eip import Eip, EipAssociation
from netweave.providers.qingcloud.instance import Instance
from netweave.providers.qingcloud.nic import Nic
from netweave.providers.qingcloud.route_push import RoutePush
from netweave.providers.qingcloud.security_group import SecurityGroup
from netweave.providers.qingcloud.vpc import Vpc
from netweave.providers.qingcloud.vxnet import Vxnet
from netweave.render.tunnels import plan_tunnels
from netweave.render.vpn_server import PORTS as VPN_PORTS

DEFAULT_IMAGE = "debian12x64"
DEFAULT_INSTANCE_TYPE = "c1m1"   # 1 vCPU, 1 GB: plenty for FRR + WireGuard


def child_options(parent: pulumi.Resource, logical: str,
                  imports: Mapping[str, str] | None) -> pulumi.ResourceOptions:
    """Children of a component; ``imports`` (logical name -> cloud id) adopts existing
    objects with ``pulumi up`` (the engine reads them and checks they match the program)."""
    import_id = (imports or {}).get(logical)
    return pulumi.ResourceOptions(parent=parent, import_=import_id) if import_id else \
        pulumi.ResourceOptions(parent=parent)


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
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vpc", name, None, opts)
        vpc = topology.vpcs[name]
        self.router = Vpc(name, zone=zone, name=physical_name(stack, name),
                          vpc_network=str(vpc.cidr), opts=child_options(self, name, imports))
        self.vxnets = {
            vx_name: Vxnet(vx_name, zone=zone, name=physical_name(stack, vx_name),
                           router_id=self.router.router_id, ip_network=str(vx.cidr),
                           manager_ip=str(vx.cidr.network + 1), opts=child_options(self, vx_name, imports))
            for vx_name, vx in vpc.vxnets.items()}
        self.route_pushes = {
            vx_name: RoutePush(f"{vx_name}-route-push", zone=zone,
                               name=physical_name(stack, f"{vx_name}-route-push"),
                               vxnet_id=self.vxnets[vx_name].vxnet_id, routes=routes,
                               opts=child_options(self, f"{vx_name}-route-push", imports))
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


def _vpc_rules(topology: Topology, vpcs: set[str]) -> list[dict[str, Any]]:
    """Everything from the VPCs a host routes for (their VMs' traffic passes through it)."""
    rules = []
    for vpc in sorted(vpcs):
        cidr = str(topology.vpcs[vpc].cidr)
        rules += [_rule("tcp", cidr, (1, 65535)), _rule("udp", cidr, (1, 65535)), _rule("icmp", cidr)]
    return rules


def _named_groups(topology: Topology, groups: list[str], rules: list[dict[str, Any]]) -> None:
    for group in groups:
        spec: TopologySecurityGroup = topology.security_groups[group]
        for fw in spec.rules:
            rules += [r for r in firewall_rules(fw) if r not in rules]


def vcpe_rules(topology: Topology, index: Index, name: str) -> list[dict[str, Any]]:
    """What a vCPE must accept: its tunnels' listen ports (as the renderer plans them), ICMP,
    everything from the VPCs it routes for, SSH from ``ssh_from``, and the topology security
    groups it names."""
    vcpe = topology.vcpes[name]
    rules: list[dict[str, Any]] = [_rule("icmp", "0.0.0.0/0")]
    anywhere = {n: "0.0.0.0" for n in [*topology.vcpes, *topology.vpn_servers]}
    for end in plan_tunnels(topology, index, anywhere).get(name, []):
        rule = _rule("udp", "0.0.0.0/0", (end.listen_port, end.listen_port))
        if end.transport == "internet" and rule not in rules:
            rules.append(rule)
    rules += _vpc_rules(topology, {index.vpc_of(nic.vxnet) for nic in vcpe.nics})
    for source in vcpe.ssh_from:
        rules.append(_rule("tcp", str(source), (22, 22)))
    _named_groups(topology, vcpe.security_groups, rules)
    return rules


def vpn_server_rules(topology: Topology, index: Index, name: str) -> list[dict[str, Any]]:
    """A remote-access host: its VPN port from anywhere, ICMP, its VPC (return traffic)."""
    server = topology.vpn_servers[name]
    rules: list[dict[str, Any]] = [_rule("icmp", "0.0.0.0/0")]
    if server.type == "l2tp":  # IKE, NAT-T, L2TP; ESP for IPsec without NAT
        rules += [_rule("udp", "0.0.0.0/0", (p, p)) for p in (500, 4500, 1701)]
        rules.append(_rule("esp", "0.0.0.0/0"))
    else:
        port = server.port or VPN_PORTS.get(server.type, 1194)
        rules.append(_rule("udp", "0.0.0.0/0", (port, port)))
    rules += _vpc_rules(topology, {index.vpc_of(server.vxnet)})
    return rules


@dataclass(frozen=True)
class HostSpec:
    """A QingCloud VM netweave deploys: a vCPE or a VPN server, in the topology's words."""

    nics: list[tuple[str, str]]  # (vxnet, fixed address); the first is the primary NIC
    public_ip: bool
    rules: list[dict[str, Any]]
    image: str | None = None
    instance_type: str | None = None

    @classmethod
    def vcpe(cls, topology: Topology, index: Index, name: str) -> HostSpec:
        v = topology.vcpes[name]
        return cls([(n.vxnet, str(n.address)) for n in v.nics], v.public_ip,
                   vcpe_rules(topology, index, name), v.image, v.instance_type)

    @classmethod
    def vpn_server(cls, topology: Topology, index: Index, name: str) -> HostSpec:
        s = topology.vpn_servers[name]
        return cls([(s.vxnet, str(s.address))], s.public_ip, vpn_server_rules(topology, index, name))


@dataclass
class Launch:
    """What the instance needs that only exists after the VPCs and addresses are declared."""

    vxnet_ids: Mapping[str, pulumi.Output[str]]
    userdata_type: str
    userdata: pulumi.Input[Any]
    image_id: str = DEFAULT_IMAGE
    instance_type: str = DEFAULT_INSTANCE_TYPE
    login_keypair: str | None = None


class QingCloudHost(pulumi.ComponentResource):
    """A VM on QingCloud: EIP + security group first (the address is needed to render the
    boot configuration), then — ``launch`` — instance, extra NICs, EIP association."""

    eip: Eip | None
    security_group: SecurityGroup
    instance: Instance | None
    nics: list[Nic]
    association: EipAssociation | None

    def __init__(self, token: str, name: str, spec: HostSpec, *, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(token, name, None, opts)
        self._name, self._stack, self._zone, self.spec = name, stack, zone, spec
        self._imports = dict(imports or {})
        self.eip = (Eip(f"{name}-eip", zone=zone, name=physical_name(stack, f"{name}-eip"),
                        opts=self._child(f"{name}-eip")) if spec.public_ip else None)
        self.security_group = SecurityGroup(
            f"{name}-sg", zone=zone, name=physical_name(stack, f"{name}-sg"), rules=spec.rules,
            opts=self._child(f"{name}-sg"))
        self.instance, self.nics, self.association = None, [], None

    @property
    def public_ip(self) -> pulumi.Output[str] | None:
        return self.eip.eip_addr if self.eip else None

    def _child(self, logical: str) -> pulumi.ResourceOptions:
        return child_options(self, logical, self._imports)

    def launch(self, launch: Launch) -> None:
        name, stack, zone, spec = self._name, self._stack, self._zone, self.spec
        (primary_vxnet, primary_address), *extra = spec.nics
        self.instance = Instance(
            name, zone=zone, name=physical_name(stack, name), image_id=spec.image or launch.image_id,
            instance_type=spec.instance_type or launch.instance_type,
            vxnet_id=launch.vxnet_ids[primary_vxnet], private_ip=primary_address,
            security_group_id=self.security_group.security_group_id,
            login_keypair=launch.login_keypair, userdata_type=launch.userdata_type,
            userdata=launch.userdata, opts=self._child(name))
        self.nics = [
            Nic(f"{name}-nic{i}", zone=zone, name=physical_name(stack, f"{name}-nic{i}"),
                vxnet_id=launch.vxnet_ids[vxnet], private_ip=address,
                instance_id=self.instance.instance_id, opts=self._child(f"{name}-nic{i}"))
            for i, (vxnet, address) in enumerate(extra, start=1)]
        if self.eip is not None:
            self.association = EipAssociation(f"{name}-eip-association", zone=zone,
                                              eip_id=self.eip.eip_id,
                                              instance_id=self.instance.instance_id,
                                              opts=self._child(f"{name}-eip-association"))
        self.register_outputs(self.exports())

    def exports(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance.instance_id if self.instance else None,
            "private_addresses": [address for _, address in self.spec.nics],
            "nic_ids": [n.nic_id for n in self.nics],
            "public_ip": self.public_ip,
            "security_group_id": self.security_group.security_group_id,
        }


class QingCloudVcpe(QingCloudHost):
    """A vCPE on QingCloud (its NICs, EIP and security group as children)."""

    def __init__(self, name: str, *, topology: Topology, index: Index, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vcpe", name, HostSpec.vcpe(topology, index, name),
                         stack=stack, zone=zone, imports=imports, opts=opts)


class QingCloudVpnServer(QingCloudHost):
    """A remote-access VPN host on QingCloud."""

    def __init__(self, name: str, *, topology: Topology, index: Index, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:VpnServer", name, HostSpec.vpn_server(topology, index, name),
                         stack=stack, zone=zone, imports=imports, opts=opts)
