"""ComponentResources that mirror the topology on QingCloud.

- ``QingCloudVpc``: the VPC's router, its vxnets (joined with their networks) and its
  route pushes by mechanism (``design/qingcloud_pushes.py``): one ``InstanceRoutes`` (a
  DHCP option) per declared host that names its instance, one ``RouteTableRoutes`` (rules
  in the route table bound to the vxnet) per next-hop vxnet of the route-table pushes.
- ``QingCloudVcpe`` (and ``QingCloudVpnServer``): the host's EIP and security group
  (created at once: the public address is needed to render the boot configuration),
  then — once the boot configuration is known — its instance, extra NICs and the EIP
  association.

Dependencies come from Outputs (ids passed as inputs), so the engine orders create and
destroy correctly and runs everything else in parallel; nothing is serialized by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from netweave.design import CloudFirewall, Design, FirewallRule, HostResources
from netweave.design.firewall import with_management
from netweave.design.qingcloud_pushes import vpc_pushes
from netweave.design.resources import physical_name
from netweave.providers.hostconfig import HostConfig
from netweave.providers.qingcloud.eip import EipAssociationResource, EipResource
from netweave.providers.qingcloud.instance import InstanceResource
from netweave.providers.qingcloud.instance_routes import InstanceRoutes
from netweave.providers.qingcloud.nic import NicResource
from netweave.providers.qingcloud.route_table import RouteTableRoutes
from netweave.providers.qingcloud.security_group import SecurityGroupResource
from netweave.providers.qingcloud.vpc import VpcResource
from netweave.providers.qingcloud.vxnet import VxnetResource

DEFAULT_IMAGE = "debian12x64"
DEFAULT_INSTANCE_TYPE = "c1m1"   # 1 vCPU, 1 GB: plenty for FRR + WireGuard


def child_options(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


def adopt(imports: Mapping[str, str] | None, logical: str) -> str | None:
    """``netweave:qingcloudImport`` (logical name -> cloud id): the provider adopts that object
    on create (``adopt_id``) instead of creating one. Not the engine's ``import_``, which
    cannot reach a dynamic provider (pulumi/pulumi#16175; see providers/qingcloud/base.py)."""
    return (imports or {}).get(logical)


def _routes(routes: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"destination": dest, "next_hop": hop} for dest, hop in routes]


class QingCloudVpc(pulumi.ComponentResource):
    """A QingCloud VPC: router + vxnets + route pushes (per instance, in the route table)."""

    router: VpcResource
    vxnets: dict[str, VxnetResource]
    instance_routes: dict[str, InstanceRoutes]    # by host
    route_table_routes: dict[str, RouteTableRoutes]  # by next-hop vxnet

    def __init__(self, name: str, *, design: Design, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vpc", name, None, opts)
        vpc = design.topology.vpcs[name]
        self.router = VpcResource(name, zone=zone, name=physical_name(stack, name),
                          vpc_network=str(vpc.cidr), adopt_id=adopt(imports, name),
                          opts=child_options(self))
        self.vxnets = {
            vx_name: VxnetResource(vx_name, zone=zone, name=physical_name(stack, vx_name),
                           router_id=self.router.router_id, ip_network=str(vx.cidr),
                           manager_ip=str(vx.cidr.network + 1), adopt_id=adopt(imports, vx_name),
                           opts=child_options(self))
            for vx_name, vx in vpc.vxnets.items()}
        pushes = vpc_pushes(design.topology, design.pushes_of(name))
        self.instance_routes = {
            p.host: InstanceRoutes(f"{p.host}-routes", zone=zone,
                                   name=physical_name(stack, f"{p.host}-routes"), host=p.host,
                                   router_id=self.router.router_id,
                                   vxnet_id=self.vxnets[p.vxnet].vxnet_id, address=p.address,
                                   instance=p.instance.as_input(), routes=_routes(p.routes),
                                   opts=child_options(self))
            for p in pushes.instance}
        self.route_table_routes = {
            p.vxnet: RouteTableRoutes(f"{p.vxnet}-route-table", zone=zone,
                                      name=physical_name(stack, f"{p.vxnet}-route-table"),
                                      vxnet_id=self.vxnets[p.vxnet].vxnet_id, routes=_routes(p.routes),
                                      opts=child_options(self))
            for p in pushes.route_table}
        self.register_outputs({
            "router_id": self.router.router_id,
            "vxnet_ids": {n: v.vxnet_id for n, v in self.vxnets.items()},
        })


def security_group_rule(rule: FirewallRule) -> dict[str, Any]:
    """One rule of the design's security group -> AddSecurityGroupRules' fields."""
    low, high = rule.ports if rule.ports else (None, None)
    return {"protocol": rule.protocol, "priority": rule.priority, "action": rule.action,
            "direction": 0 if rule.direction == "ingress" else 1,
            "val1": None if low is None else str(low), "val2": None if high is None else str(high),
            "val3": str(rule.peer)}


@dataclass(frozen=True)
class HostSpec:
    """A QingCloud VM netweave deploys: a vCPE or a VPN server, in the topology's words."""

    nics: list[tuple[str, str]]  # (vxnet, fixed address); the first is the primary NIC
    resources: HostResources
    firewall: CloudFirewall
    image: str | None = None
    instance_type: str | None = None

    @property
    def rules(self) -> list[dict[str, Any]]:
        return [security_group_rule(r) for r in self.firewall.rules]

    @classmethod
    def vcpe(cls, design: Design, name: str, manage_from: Sequence[str] = ()) -> HostSpec:
        v, node = design.vcpes[name], design.topology.vcpes[name]
        return cls([(n.vxnet, str(n.address)) for n in v.nics], design.resources[name],
                   with_management(design.firewalls[name], manage_from), node.image,
                   node.instance_type)

    @classmethod
    def vpn_server(cls, design: Design, name: str, manage_from: Sequence[str] = ()) -> HostSpec:
        s = design.vpn_servers[name]
        return cls([(n.vxnet, str(n.address)) for n in s.nics], design.resources[name],
                   with_management(design.firewalls[name], manage_from))


@dataclass
class Launch:
    """What the instance needs that only exists after the VPCs and addresses are declared."""

    vxnet_ids: Mapping[str, pulumi.Output[str]]
    userdata_type: str
    userdata: pulumi.Input[Any]
    # day 2: the rendered file set and the pinned host key (``HostConfig``)
    files: pulumi.Input[dict[str, Any]] | None = None
    host_public_key: pulumi.Input[str] | None = None
    image_id: str = DEFAULT_IMAGE
    instance_type: str = DEFAULT_INSTANCE_TYPE
    login_keypair: str | None = None


class QingCloudHost(pulumi.ComponentResource):
    """A VM on QingCloud: EIP + security group first (the address is needed to render the
    boot configuration), then — ``launch`` — instance, extra NICs, EIP association."""

    eip: EipResource | None
    security_group: SecurityGroupResource
    instance: InstanceResource | None
    nics: list[NicResource]
    association: EipAssociationResource | None
    config: HostConfig | None

    def __init__(self, token: str, name: str, spec: HostSpec, *, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(token, name, None, opts)
        self._name, self._stack, self._zone, self.spec = name, stack, zone, spec
        self._imports = dict(imports or {})
        names = spec.resources
        self.eip = (EipResource(names.public_ip, zone=zone, name=physical_name(stack, names.public_ip),
                        adopt_id=adopt(self._imports, names.public_ip), opts=self._child())
                    if names.public_ip else None)
        self.security_group = SecurityGroupResource(
            names.firewall, zone=zone, name=physical_name(stack, names.firewall), rules=spec.rules,
            adopt_id=adopt(self._imports, names.firewall), opts=self._child())
        self.instance, self.nics, self.association, self.config = None, [], None, None

    @property
    def public_ip(self) -> pulumi.Output[str] | None:
        return self.eip.eip_addr if self.eip else None

    def _child(self) -> pulumi.ResourceOptions:
        return child_options(self)

    def launch(self, launch: Launch) -> None:
        stack, zone, spec = self._stack, self._zone, self.spec
        names = spec.resources
        name = names.instance
        (primary_vxnet, primary_address), *extra = spec.nics
        self.instance = InstanceResource(
            name, zone=zone, name=physical_name(stack, name), image_id=spec.image or launch.image_id,
            instance_type=spec.instance_type or launch.instance_type,
            vxnet_id=launch.vxnet_ids[primary_vxnet], private_ip=primary_address,
            security_group_id=self.security_group.security_group_id,
            login_keypair=launch.login_keypair, userdata_type=launch.userdata_type,
            userdata=launch.userdata, adopt_id=adopt(self._imports, name), opts=self._child())
        self.nics = [
            NicResource(nic, zone=zone, name=physical_name(stack, nic), vxnet_id=launch.vxnet_ids[vxnet],
                private_ip=address, instance_id=self.instance.instance_id,
                adopt_id=adopt(self._imports, nic), opts=self._child())
            for nic, (vxnet, address) in zip(names.extra_nics, extra, strict=True)]
        if self.eip is not None and names.public_ip_association:
            self.association = EipAssociationResource(names.public_ip_association, zone=zone,
                                              eip_id=self.eip.eip_id,
                                              instance_id=self.instance.instance_id,
                                              opts=self._child())
        if launch.files is not None and launch.host_public_key is not None:
            # Later configuration changes are applied here, in place, over SSH: after the
            # NICs are attached (the apply script configures them) and the EIP is bound.
            address = self.eip.eip_addr if self.eip is not None else primary_address
            after: list[pulumi.Resource] = [self.instance, *self.nics]
            if self.association is not None:
                after.append(self.association)
            self.config = HostConfig(f"{name}-config", host=self._name, address=address,
                                     host_public_key=launch.host_public_key, files=launch.files,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=after))
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

    def __init__(self, name: str, *, design: Design, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None, manage_from: Sequence[str] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:Vcpe", name, HostSpec.vcpe(design, name, manage_from),
                         stack=stack, zone=zone, imports=imports, opts=opts)


class QingCloudVpnServer(QingCloudHost):
    """A remote-access VPN host on QingCloud."""

    def __init__(self, name: str, *, design: Design, stack: str, zone: str,
                 imports: Mapping[str, str] | None = None, manage_from: Sequence[str] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:qingcloud:VpnServer", name,
                         HostSpec.vpn_server(design, name, manage_from),
                         stack=stack, zone=zone, imports=imports, opts=opts)
