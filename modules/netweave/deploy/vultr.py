"""The Vultr side of a stack (``ediri_vultr``): ComponentResources that mirror the topology.

- ``VultrVpc``: the VPC (its CIDR).
- ``VultrVcpe`` (and ``VultrVpnServer``): the host's reserved IP, created at once (its
  address is the tunnel endpoint rendered into every peer's configuration, including this
  host's own user data), then — ``launch``, once the boot configuration is known — its
  firewall group (rules as children) and its instance.

Vultr assigns the instance's VPC address when it attaches to the VPC: the attach call takes
only ``vpc_ids`` (ediri_vultr 2.27.1 ``Instance``; govultr ``instanceVPCReq``). The program
reads it afterwards from the instance's ``internal_ip`` output — one string per instance,
blank when the instance has more than one private network (terraform-provider-vultr issue
#173; lint A214 keeps each Vultr host in one Vultr VPC) — and feeds it to what depends on
it: the workload routes of the VPC (``workload_routes``) and the stack outputs. Nothing
the instance itself boots with depends on it: the VM reads it from its metadata.

Vultr VPCs have no route tables and no route push: workload VMs get their routes from the
cloud-init snippet rendered per VPC (``netweave.render.workload_route_snippets``), and lint
rule R314 warns where a Vultr VPC's workloads would lack them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ediri_vultr as vultr
import netaddr
import pulumi

from netweave.design import CloudFirewall, Design, DesignError, FirewallRule
from netweave.design.firewall import with_management
from netweave.model.index import Index
from netweave.model.topology import Topology, Vultr
from netweave.render import workload_route_snippets

DEFAULT_IMAGE = "Debian 12 x64 (bookworm)"
DEFAULT_PLAN = "vc2-1c-1gb"
# Before these components existed, the resources sat at the stack root: the alias keeps
# their URNs, so a stack deployed then is updated in place, not replaced.
AT_ROOT = [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]


def vultr_vpcs(topology: Topology, index: Index) -> list[str]:
    return sorted(v for v in topology.vpcs if index.cloud_of_vpc(v)[1].provider == "vultr")


def region_of(topology: Topology, index: Index, host: str) -> str:
    if host in topology.vcpes:
        _, cloud = index.vcpe_cloud(host)
    else:
        _, cloud = index.cloud_of_vxnet(topology.vpn_servers[host].vxnet)
    assert isinstance(cloud, Vultr)
    return cloud.region


@dataclass(frozen=True)
class FirewallRuleArgs:
    """One rule of a Vultr firewall group as the provider takes it (the peer's public
    address may still be an Output here)."""

    name: str
    protocol: str
    subnet: pulumi.Input[str]
    subnet_size: int
    port: str | None
    notes: str


def firewall_rule_args(resource: str, rule: FirewallRule,
                       public_addresses: Mapping[str, pulumi.Input[str]]) -> FirewallRuleArgs:
    """A rule of the design's firewall group -> ``vultr.FirewallRule`` arguments."""
    if rule.peer_host is not None:
        if rule.peer_host not in public_addresses:
            raise DesignError(f"{resource}: no public address for {rule.peer_host}")
        subnet: pulumi.Input[str] = public_addresses[rule.peer_host]
        size = 32
    else:
        subnet, size = str(rule.peer.network), rule.peer.prefixlen
    return FirewallRuleArgs(resource, rule.protocol, subnet, size, rule.port_text, rule.note)


def checked_vpc_address(host: str, vpc: str, cidr: netaddr.IPNetwork, reported: str | None) -> str:
    """``internal_ip`` as Vultr reported it, refused when it cannot be the VPC address."""
    if not reported:
        raise pulumi.RunError(
            f"netweave: Vultr reported no internal_ip for {host}: its address in VPC {vpc} is "
            "unknown, so the workload routes cannot name it. The provider leaves it blank while "
            "the VPC attach is pending, or when the instance has more than one private network "
            "(terraform-provider-vultr issue #173); run `pulumi refresh` and `pulumi up` again")
    if netaddr.IPAddress(reported) not in cidr:
        raise pulumi.RunError(
            f"netweave: Vultr reported internal_ip {reported} for {host}, which is not in VPC "
            f"{vpc} ({cidr}): refusing to route the VPC's workloads to it")
    return reported


class VultrVpc(pulumi.ComponentResource):
    """A Vultr VPC: one subnet, the VPC's CIDR."""

    vpc: vultr.Vpc

    def __init__(self, name: str, *, topology: Topology, index: Index, stack: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:vultr:Vpc", name, None, opts)
        spec = topology.vpcs[name]
        _, cloud = index.cloud_of_vpc(name)
        assert isinstance(cloud, Vultr)
        self.vpc = vultr.Vpc(name, region=cloud.region, description=f"netweave {stack} {name}",
                             v4_subnet=str(spec.cidr.network), v4_subnet_mask=spec.cidr.prefixlen,
                             opts=pulumi.ResourceOptions(parent=self, aliases=AT_ROOT))
        self.register_outputs({"vpc_id": self.vpc.id})


class VultrHost(pulumi.ComponentResource):
    """A VM on Vultr: the reserved IP first (the address is needed to render the boot
    configuration), then — ``launch`` — firewall group, rules and instance."""

    reserved_ip: vultr.ReservedIp | None
    firewall_group: vultr.FirewallGroup | None
    firewall_rules: list[vultr.FirewallRule]
    instance: vultr.Instance | None

    def __init__(self, token: str, name: str, *, design: Design, index: Index, stack: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(token, name, None, opts)
        self._name, self._design, self._index, self._stack = name, design, index, stack
        self._region = region_of(design.topology, index, name)
        logical = design.resources[name].public_ip
        self.reserved_ip = (vultr.ReservedIp(logical, region=self._region, ip_type="v4",
                                             label=f"netweave {name}", opts=self._child())
                            if logical is not None else None)
        self.firewall_group, self.firewall_rules, self.instance = None, [], None
        self._vpc: tuple[str, netaddr.IPNetwork] | None = None

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, aliases=AT_ROOT, **kw)

    @property
    def public_ip(self) -> pulumi.Output[str] | None:
        return self.reserved_ip.subnet if self.reserved_ip is not None else None

    def _placement(self) -> tuple[list[str], str | None, str | None]:
        """(VPCs, plan, image) as the topology says."""
        name, design = self._name, self._design
        if name in design.vcpes:
            node = design.topology.vcpes[name]
            return list(design.vcpes[name].vpcs), node.instance_type, node.image
        return [design.vpn_servers[name].vpc], None, None

    def launch(self, user_data: pulumi.Input[str], vpcs: Mapping[str, VultrVpc],
               public_addresses: Mapping[str, pulumi.Input[str]],
               manage_from: Sequence[str] = ()) -> None:
        name, design = self._name, self._design
        self.firewall_group, self.firewall_rules = self._firewall(
            with_management(design.firewalls[name], manage_from), public_addresses)
        attached, plan, image = self._placement()
        attached = [v for v in attached if v in vpcs]
        if attached:
            vpc = attached[0]
            self._vpc = (vpc, design.topology.vpcs[vpc].cidr)
        os_id = vultr.get_os_output(filters=[vultr.GetOsFilterArgs(
            name="name", values=[image or DEFAULT_IMAGE])], opts=pulumi.InvokeOptions(parent=self)).id
        reserved = self.reserved_ip
        self.instance = vultr.Instance(
            name, region=self._region, plan=plan or DEFAULT_PLAN, os_id=os_id.apply(int),
            vpc_ids=[vpcs[v].vpc.id for v in attached], hostname=name, label=f"netweave {name}",
            tags=["netweave", self._stack], enable_ipv6=False,
            firewall_group_id=self.firewall_group.id,
            reserved_ip_id=reserved.id if reserved is not None else None,
            user_data=pulumi.Output.secret(user_data),
            # cloud-init reads user data at first boot only, and Vultr replaces an instance whose
            # user data changes: later configuration changes travel in place instead (HostConfig)
            opts=self._child(depends_on=self.firewall_rules, ignore_changes=["userData"]))
        self.register_outputs(self.exports())

    def _firewall(self, firewall: CloudFirewall, public_addresses: Mapping[str, pulumi.Input[str]]
                  ) -> tuple[vultr.FirewallGroup, list[vultr.FirewallRule]]:
        """The host's firewall group and its rules (children of the group)."""
        names = self._design.resources[firewall.host]
        group = vultr.FirewallGroup(names.firewall, description=f"netweave {self._stack} {firewall.host}",
                                    opts=self._child())
        rule_opts = pulumi.ResourceOptions(parent=group)  # the group's alias covers them
        specs = [firewall_rule_args(names.firewall_rule(r.key), r, public_addresses)
                 for r in firewall.rules]
        rules = [vultr.FirewallRule(spec.name, firewall_group_id=group.id, protocol=spec.protocol,
                                    ip_type="v4", subnet=spec.subnet, subnet_size=spec.subnet_size,
                                    port=spec.port, notes=spec.notes, opts=rule_opts)
                 for spec in specs]
        return group, rules

    @property
    def vpc_address(self) -> pulumi.Output[str] | None:
        """The address Vultr gave the instance in its VPC (``internal_ip``), checked."""
        if self.instance is None or self._vpc is None:
            return None
        name, (vpc, cidr) = self._name, self._vpc
        return self.instance.internal_ip.apply(
            lambda reported: checked_vpc_address(name, vpc, cidr, reported))

    def exports(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance.id if self.instance else None,
            "reserved_ip": self.public_ip,
            "vpc_address": self.vpc_address,
            "firewall_group_id": self.firewall_group.id if self.firewall_group else None,
        }


class VultrVcpe(VultrHost):
    """A vCPE on Vultr (its reserved IP, firewall group and instance as children)."""

    def __init__(self, name: str, *, design: Design, index: Index, stack: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:vultr:Vcpe", name, design=design, index=index, stack=stack,
                         opts=opts)


class VultrVpnServer(VultrHost):
    """A remote-access VPN host on Vultr."""

    def __init__(self, name: str, *, design: Design, index: Index, stack: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("netweave:vultr:VpnServer", name, design=design, index=index, stack=stack,
                         opts=opts)


@dataclass
class VultrDeployment:
    vpcs: dict[str, VultrVpc] = field(default_factory=dict)
    hosts: dict[str, VultrHost] = field(default_factory=dict)

    @property
    def instances(self) -> dict[str, vultr.Instance]:
        return {n: h.instance for n, h in self.hosts.items() if h.instance is not None}

    @property
    def reserved_ips(self) -> dict[str, vultr.ReservedIp]:
        return {n: h.reserved_ip for n, h in self.hosts.items() if h.reserved_ip is not None}

    @property
    def vpc_addresses(self) -> dict[str, pulumi.Output[str]]:
        return {n: a for n, h in self.hosts.items() if (a := h.vpc_address) is not None}


def declare_hosts(design: Design, index: Index, stack: str | None = None) -> dict[str, VultrHost]:
    """The Vultr vCPEs and VPN servers, each with its reserved IP: their public addresses
    are needed to render every host's boot configuration."""
    stack = stack or pulumi.get_stack()
    hosts: dict[str, VultrHost] = {}
    for name in design.hosts_in("vultr"):
        kind = VultrVcpe if name in design.vcpes else VultrVpnServer
        hosts[name] = kind(name, design=design, index=index, stack=stack)
    return hosts


def build_vultr(design: Design, index: Index, hosts: Mapping[str, VultrHost],
                user_data: Mapping[str, pulumi.Input[str]],
                public_addresses: Mapping[str, pulumi.Input[str]],
                stack: str | None = None, manage_from: Sequence[str] = ()) -> VultrDeployment:
    """The VPCs, then every host's firewall and instance with its user data.

    ``public_addresses``: every host's public address (QingCloud EIPs and Vultr reserved
    IPs): the firewall admits a tunnel's port only from its peer.
    """
    stack = stack or pulumi.get_stack()
    out = VultrDeployment(hosts=dict(hosts))
    for name in vultr_vpcs(design.topology, index):
        out.vpcs[name] = VultrVpc(name, topology=design.topology, index=index, stack=stack)
    for name, host in hosts.items():
        if name not in user_data:
            kind = "vCPE" if name in design.vcpes else "VPN server"
            raise DesignError(f"no rendered user data for Vultr {kind} {name}")
        host.launch(user_data[name], out.vpcs, public_addresses, manage_from)
    return out


def workload_routes(design: Design, index: Index,
                    deployment: VultrDeployment) -> pulumi.Output[dict[str, str]]:
    """Per Vultr VPC, the cloud-init snippet for its workloads, with the VPC addresses
    Vultr gave the routers they route through."""
    addresses = deployment.vpc_addresses
    names = sorted(addresses)
    return pulumi.Output.all(*[addresses[n] for n in names]).apply(
        lambda values: workload_route_snippets(design.topology, index, design,
                                               dict(zip(names, values, strict=True))))


def exports(deployment: VultrDeployment) -> dict[str, object]:
    return {
        "vpcs": {n: v.vpc.id for n, v in deployment.vpcs.items()},
        "instances": {n: i.id for n, i in deployment.instances.items()},
        "reserved_ips": {n: r.subnet for n, r in deployment.reserved_ips.items()},
        "vpc_addresses": deployment.vpc_addresses,
    }
