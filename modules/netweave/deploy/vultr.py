"""The Vultr side of a stack (``ediri_vultr``): VPCs, reserved IPs, firewalls, vCPE VMs.

Order matters: reserved IPs first (:func:`reserve_addresses`) — their addresses are the
tunnel endpoints rendered into every peer's configuration, including this vCPE's own
user data — then :func:`build_vultr` with the rendered ``user_data``.

Vultr VPCs have no route tables and no route push: workload VMs get their routes from the
cloud-init snippet rendered per VPC (``netweave.render.workload_route_snippets``), and lint
rule R314 warns where a Vultr VPC's workloads would lack them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ediri_vultr as vultr
import pulumi

from netweave.model.index import Index
from netweave.model.topology import Topology, Vultr
from netweave.render import RenderError
from netweave.render.tunnels import TunnelEnd, plan_tunnels
from netweave.render.vpn_server import PORTS as VPN_PORTS

DEFAULT_IMAGE = "Debian 12 x64 (bookworm)"
DEFAULT_PLAN = "vc2-1c-1gb"
SSH_PORT = "22"


def vultr_vcpes(topology: Topology, index: Index) -> list[str]:
    return sorted(n for n in topology.vcpes if index.vcpe_cloud(n)[1].provider == "vultr")


def vultr_vpcs(topology: Topology, index: Index) -> list[str]:
    return sorted(v for v in topology.vpcs if index.cloud_of_vpc(v)[1].provider == "vultr")


def vultr_vpn_servers(topology: Topology, index: Index) -> list[str]:
    return sorted(n for n, s in topology.vpn_servers.items()
                  if index.cloud_of_vxnet(s.vxnet)[1].provider == "vultr")


def region_of(topology: Topology, index: Index, host: str) -> str:
    if host in topology.vcpes:
        _, cloud = index.vcpe_cloud(host)
    else:
        _, cloud = index.cloud_of_vxnet(topology.vpn_servers[host].vxnet)
    assert isinstance(cloud, Vultr)
    return cloud.region


def reserve_addresses(topology: Topology, index: Index,
                      parent: pulumi.Resource | None = None) -> dict[str, vultr.ReservedIp]:
    """A reserved IPv4 per Vultr vCPE / VPN server with ``public_ip``: the stable tunnel
    endpoint the peers' (and VPN clients') configurations point at."""
    opts = pulumi.ResourceOptions(parent=parent)
    wanted = [n for n in vultr_vcpes(topology, index) if topology.vcpes[n].public_ip]
    wanted += [n for n in vultr_vpn_servers(topology, index) if topology.vpn_servers[n].public_ip]
    return {name: vultr.ReservedIp(f"{name}-ip", region=region_of(topology, index, name),
                                   ip_type="v4", label=f"netweave {name}", opts=opts)
            for name in sorted(wanted)}


@dataclass
class VultrDeployment:
    vpcs: dict[str, vultr.Vpc] = field(default_factory=dict)
    firewall_groups: dict[str, vultr.FirewallGroup] = field(default_factory=dict)
    firewall_rules: dict[str, list[vultr.FirewallRule]] = field(default_factory=dict)
    instances: dict[str, vultr.Instance] = field(default_factory=dict)
    reserved_ips: Mapping[str, vultr.ReservedIp] = field(default_factory=dict)


def tunnel_ports(topology: Topology, index: Index) -> dict[str, list[TunnelEnd]]:
    # Only names, ports and peers are used here: addresses may still be unknown Outputs.
    dummy = {n: "0.0.0.0" for n in [*topology.vcpes, *topology.vpn_servers]}
    return plan_tunnels(topology, index, dummy)


@dataclass(frozen=True)
class FirewallSpec:
    """One rule of a Vultr firewall group, as data: the Pulumi program creates it, the
    emulator enforces it (Vultr firewalls filter the public interface only, statefully)."""

    key: str                      # resource name suffix
    protocol: str
    subnet: pulumi.Input[str]     # a peer's public address may still be an Output here
    subnet_size: int
    port: str
    notes: str


def vcpe_firewall(topology: Topology, name: str, tunnels: Mapping[str, list[TunnelEnd]],
                  public_addresses: Mapping[str, pulumi.Input[str]]) -> list[FirewallSpec]:
    """A tunnel's port only from its peer's public address; SSH only from ``ssh_from``."""
    rules = []
    for t in tunnels[name]:
        if t.transport != "internet":
            continue
        if t.peer not in public_addresses:
            raise RenderError(f"{name}: no public address for tunnel peer {t.peer}")
        rules.append(FirewallSpec(t.interface, "udp", public_addresses[t.peer], 32,
                                  str(t.listen_port), f"{t.type} tunnel {t.label} from {t.peer}"))
    for i, source in enumerate(topology.vcpes[name].ssh_from):
        rules.append(FirewallSpec(f"ssh-{i}", "tcp", str(source.network), source.prefixlen,
                                  SSH_PORT, "ssh_from"))
    return rules


def vpn_server_firewall(topology: Topology, name: str) -> list[FirewallSpec]:
    """Clients dial in from anywhere: the VPN port is open, and only the VPN port."""
    server = topology.vpn_servers[name]
    return [FirewallSpec("vpn", "udp", "0.0.0.0", 0, str(server.port or VPN_PORTS[server.type]),
                         f"{server.type} remote access")]


def build_vultr(topology: Topology, index: Index, user_data: Mapping[str, pulumi.Input[str]],
                reserved_ips: Mapping[str, vultr.ReservedIp],
                public_addresses: Mapping[str, pulumi.Input[str]],
                parent: pulumi.Resource | None = None,
                stack: str | None = None) -> VultrDeployment:
    """VPCs, then per Vultr vCPE and VPN server: firewall group + rules, the instance with
    its user data.

    ``public_addresses``: every host's public address (QingCloud EIPs and Vultr reserved
    IPs): the firewall admits a tunnel's port only from its peer.
    """
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

    tunnels = tunnel_ports(topology, index)
    for name in vultr_vcpes(topology, index):
        node = topology.vcpes[name]
        if name not in user_data:
            raise RenderError(f"no rendered user data for Vultr vCPE {name}")
        group, rules = _firewall(name, vcpe_firewall(topology, name, tunnels, public_addresses),
                                 stack, opts, out)

        vpcs = sorted({index.vpc_of(nic.vxnet) for nic in node.nics})
        out.instances[name] = _instance(topology, index, name, node.instance_type, node.image, vpcs,
                                        group, rules, out, user_data[name], stack, parent)

    for name in vultr_vpn_servers(topology, index):
        server = topology.vpn_servers[name]
        if name not in user_data:
            raise RenderError(f"no rendered user data for Vultr VPN server {name}")
        group, rules = _firewall(name, vpn_server_firewall(topology, name), stack, opts, out)
        out.instances[name] = _instance(topology, index, name, None, None,
                                        [index.vpc_of(server.vxnet)], group, rules, out,
                                        user_data[name], stack, parent)
    return out


def _firewall(name: str, specs: Iterable[FirewallSpec], stack: str, opts: pulumi.ResourceOptions,
              out: VultrDeployment) -> tuple[vultr.FirewallGroup, list[vultr.FirewallRule]]:
    """A host's firewall group and its rules (children of the group)."""
    group = vultr.FirewallGroup(f"{name}-fw", description=f"netweave {stack} {name}", opts=opts)
    rule_opts = pulumi.ResourceOptions(parent=group)
    rules = [vultr.FirewallRule(f"{name}-fw-{spec.key}", firewall_group_id=group.id,
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
