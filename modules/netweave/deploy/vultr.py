"""The Vultr side of a stack (``ediri_vultr``): VPCs, reserved IPs, firewalls, vCPE VMs.

Order matters: reserved IPs first (:func:`reserve_addresses`) — their addresses are the
tunnel endpoints rendered into every peer's configuration, including this vCPE's own
user data — then :func:`build_vultr` with the rendered ``user_data``.

Vultr VPCs have no route tables and no route push: workload VMs get their routes from the
cloud-init snippet rendered per VPC (``netweave.render.workload_route_snippets``), and lint
rule R314 warns where a Vultr VPC's workloads would lack them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import ediri_vultr as vultr
import pulumi

from netweave.design import CloudFirewall, Design, DesignError, FirewallRule
from netweave.model.index import Index
from netweave.model.topology import Topology, Vultr

DEFAULT_IMAGE = "Debian 12 x64 (bookworm)"
DEFAULT_PLAN = "vc2-1c-1gb"


def vultr_vpcs(topology: Topology, index: Index) -> list[str]:
    return sorted(v for v in topology.vpcs if index.cloud_of_vpc(v)[1].provider == "vultr")


def region_of(topology: Topology, index: Index, host: str) -> str:
    if host in topology.vcpes:
        _, cloud = index.vcpe_cloud(host)
    else:
        _, cloud = index.cloud_of_vxnet(topology.vpn_servers[host].vxnet)
    assert isinstance(cloud, Vultr)
    return cloud.region


def reserve_addresses(design: Design, index: Index,
                      parent: pulumi.Resource | None = None) -> dict[str, vultr.ReservedIp]:
    """A reserved IPv4 per Vultr vCPE / VPN server with ``public_ip``: the stable tunnel
    endpoint the peers' (and VPN clients') configurations point at."""
    opts = pulumi.ResourceOptions(parent=parent)
    out = {}
    for name in sorted(design.hosts_in("vultr")):
        logical = design.resources[name].public_ip
        if logical is not None:
            out[name] = vultr.ReservedIp(logical, region=region_of(design.topology, index, name),
                                         ip_type="v4", label=f"netweave {name}", opts=opts)
    return out


@dataclass
class VultrDeployment:
    vpcs: dict[str, vultr.Vpc] = field(default_factory=dict)
    firewall_groups: dict[str, vultr.FirewallGroup] = field(default_factory=dict)
    firewall_rules: dict[str, list[vultr.FirewallRule]] = field(default_factory=dict)
    instances: dict[str, vultr.Instance] = field(default_factory=dict)
    reserved_ips: Mapping[str, vultr.ReservedIp] = field(default_factory=dict)


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


def build_vultr(design: Design, index: Index, user_data: Mapping[str, pulumi.Input[str]],
                reserved_ips: Mapping[str, vultr.ReservedIp],
                public_addresses: Mapping[str, pulumi.Input[str]],
                parent: pulumi.Resource | None = None,
                stack: str | None = None) -> VultrDeployment:
    """VPCs, then per Vultr vCPE and VPN server: firewall group + rules, the instance with
    its user data.

    ``public_addresses``: every host's public address (QingCloud EIPs and Vultr reserved
    IPs): the firewall admits a tunnel's port only from its peer.
    """
    topology = design.topology
    stack = stack or pulumi.get_stack()
    opts = pulumi.ResourceOptions(parent=parent)
    out = VultrDeployment(reserved_ips=reserved_ips)
    for name in vultr_vpcs(topology, index):
        vpc = topology.vpcs[name]
        _, cloud = index.cloud_of_vpc(name)
        assert isinstance(cloud, Vultr)
        out.vpcs[name] = vultr.Vpc(name, region=cloud.region, description=f"netweave {stack} {name}",
                                   v4_subnet=str(vpc.cidr.network), v4_subnet_mask=vpc.cidr.prefixlen,
                                   opts=opts)

    for name in design.hosts_in("vultr"):
        if name not in user_data:
            kind = "vCPE" if name in design.vcpes else "VPN server"
            raise DesignError(f"no rendered user data for Vultr {kind} {name}")
        group, rules = _firewall(design.firewalls[name], design, public_addresses, stack, opts, out)
        if name in design.vcpes:
            node = topology.vcpes[name]
            vpcs, plan, image = list(design.vcpes[name].vpcs), node.instance_type, node.image
        else:
            vpcs, plan, image = [design.vpn_servers[name].vpc], None, None
        out.instances[name] = _instance(topology, index, name, plan, image, vpcs, group, rules, out,
                                        user_data[name], stack, parent)
    return out


def _firewall(firewall: CloudFirewall, design: Design,
              public_addresses: Mapping[str, pulumi.Input[str]], stack: str,
              opts: pulumi.ResourceOptions,
              out: VultrDeployment) -> tuple[vultr.FirewallGroup, list[vultr.FirewallRule]]:
    """A host's firewall group and its rules (children of the group)."""
    name, names = firewall.host, design.resources[firewall.host]
    group = vultr.FirewallGroup(names.firewall, description=f"netweave {stack} {name}", opts=opts)
    rule_opts = pulumi.ResourceOptions(parent=group)
    specs = [firewall_rule_args(names.firewall_rule(r.key), r, public_addresses)
             for r in firewall.rules]
    rules = [vultr.FirewallRule(spec.name, firewall_group_id=group.id,
                                protocol=spec.protocol, ip_type="v4", subnet=spec.subnet,
                                subnet_size=spec.subnet_size, port=spec.port,
                                notes=spec.notes, opts=rule_opts)
             for spec in specs]
    out.firewall_groups[name], out.firewall_rules[name] = group, rules
    return group, rules


def _instance(topology: Topology, index: Index, name: str, plan: str | None, image: str | None,
              vpcs: list[str], group: vultr.FirewallGroup, rules: list[vultr.FirewallRule],
              out: VultrDeployment, user_data: pulumi.Input[str], stack: str,
              parent: pulumi.Resource | None) -> vultr.Instance:
    os_id = vultr.get_os_output(filters=[vultr.GetOsFilterArgs(name="name",
                                                               values=[image or DEFAULT_IMAGE])]).id
    reserved = out.reserved_ips.get(name)
    return vultr.Instance(
        name, region=region_of(topology, index, name), plan=plan or DEFAULT_PLAN,
        os_id=os_id.apply(int), vpc_ids=[out.vpcs[v].id for v in vpcs if v in out.vpcs],
        hostname=name, label=f"netweave {name}", tags=["netweave", stack], enable_ipv6=False,
        firewall_group_id=group.id, reserved_ip_id=reserved.id if reserved is not None else None,
        user_data=pulumi.Output.secret(user_data),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=rules))


def exports(deployment: VultrDeployment) -> dict[str, object]:
    return {
        "vpcs": {n: v.id for n, v in deployment.vpcs.items()},
        "instances": {n: i.id for n, i in deployment.instances.items()},
        "reserved_ips": {n: r.subnet for n, r in deployment.reserved_ips.items()},
    }
