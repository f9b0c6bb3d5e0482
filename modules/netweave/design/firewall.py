"""Firewall rules: one shape for QingCloud security groups, Vultr firewall groups, the
topology's own security groups, and the emulator's iptables rules of all three.

What the cloud puts in front of each vCPE and VPN server is decided here once; the Pulumi
program turns it into API arguments, the emulator into iptables, and neither decides
anything itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import netaddr

from netweave.design.hosts import L2TP_PORTS, VcpeDesign, VpnServerDesign
from netweave.design.tunnels import IKE_PORTS
from netweave.model.topology import Topology

ANYWHERE = netaddr.IPNetwork("0.0.0.0/0")
SSH_PORT = 22
# QingCloud evaluates a group's rules by priority, lower first: the topology's own groups
# (40) before what netweave adds for the host to work (50).
PRIORITY_NAMED, PRIORITY_HOST = 40, 50
ALL_PORTS = (1, 65535)


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """One rule. ``peer`` is the source of an ingress rule, the destination of an egress
    one; ``peer_host`` instead names a host whose public address (a /32, known once
    deployed) is the peer."""

    protocol: str                          # tcp | udp | icmp | esp | any
    ports: tuple[int, int] | None = None   # tcp/udp only
    peer: netaddr.IPNetwork = ANYWHERE
    peer_host: str | None = None
    action: Literal["accept", "drop"] = "accept"
    direction: Literal["ingress", "egress"] = "ingress"
    priority: int = PRIORITY_HOST          # QingCloud's order; Vultr has none
    key: str = ""                          # names the rule's cloud resource (Vultr)
    note: str = ""

    @property
    def port_text(self) -> str | None:
        """``"51820"`` or ``"1:65535"``: how Vultr and iptables write the range."""
        if self.ports is None:
            return None
        low, high = self.ports
        return str(low) if low == high else f"{low}:{high}"


@dataclass(frozen=True, slots=True)
class CloudFirewall:
    """The cloud's firewall in front of one vCPE or VPN server."""

    host: str
    cloud: str                             # qingcloud | vultr
    kind: Literal["security_group", "firewall_group"]
    rules: tuple[FirewallRule, ...]
    notes: tuple[str, ...] = ()


def group_rules(topology: Topology) -> dict[str, tuple[FirewallRule, ...]]:
    """The topology's ``security_groups``, as written (``any`` stays one rule)."""
    out = {}
    for name, group in topology.security_groups.items():
        rules = []
        for rule in group.rules:
            ports = None
            if rule.ports and rule.protocol != "icmp":  # ports mean nothing to ICMP
                low, _, high = rule.ports.partition("-")
                ports = (int(low), int(high or low))
            rules.append(FirewallRule(rule.protocol, ports, rule.source, None, rule.action,
                                      rule.direction, PRIORITY_NAMED, note=f"sg:{name}"))
        out[name] = tuple(rules)
    return out


def _expanded(rule: FirewallRule) -> list[FirewallRule]:
    """QingCloud has no "any" protocol: tcp + udp + icmp (icmp without ports). A group's
    rule joins the security group as it is otherwise, less the note (rules that say the
    same once are one rule)."""
    protocols = ("tcp", "udp", "icmp") if rule.protocol == "any" else (rule.protocol,)
    return [FirewallRule(p, rule.ports if p != "icmp" else None, rule.peer, None, rule.action,
                         rule.direction, rule.priority) for p in protocols]


def _vpc_rules(topology: Topology, vpcs: list[str]) -> list[FirewallRule]:
    """Everything from the VPCs a host routes for (their VMs' traffic passes through it)."""
    rules = []
    for vpc in sorted(vpcs):
        cidr = topology.vpcs[vpc].cidr
        rules += [FirewallRule("tcp", ALL_PORTS, cidr), FirewallRule("udp", ALL_PORTS, cidr),
                  FirewallRule("icmp", None, cidr)]
    return rules


def _add(rules: list[FirewallRule], rule: FirewallRule) -> None:
    if rule not in rules:
        rules.append(rule)


def _vpn_service(server: VpnServerDesign) -> list[FirewallRule]:
    note = f"{server.type} remote access"
    if server.type == "l2tp":  # IKE, NAT-T, L2TP; ESP for IPsec without NAT
        return [*(FirewallRule("udp", (p, p), key=f"vpn-{p}", note=note) for p in L2TP_PORTS),
                FirewallRule("esp", key="vpn-esp", note=note)]
    if server.port is None:
        return []
    return [FirewallRule("udp", (server.port, server.port), key="vpn", note=note)]


def qingcloud_vcpe(topology: Topology, vcpe: VcpeDesign,
                   groups: Mapping[str, tuple[FirewallRule, ...]]) -> CloudFirewall:
    """A vCPE's security group: ICMP, its internet tunnels' listen ports, everything from
    the VPCs it routes for, SSH from ``ssh_from``, and the topology groups it names."""
    rules = [FirewallRule("icmp")]
    for t in vcpe.tunnels:
        if t.transport == "internet" and t.type == "ipsec":
            # IKE, NAT traversal, and ESP when no NAT is in between (the VPC router's own
            # IPsec guide opens the same: manual/tunnel/ipsec.md)
            for port in IKE_PORTS:
                _add(rules, FirewallRule("udp", (port, port)))
            _add(rules, FirewallRule("esp"))
        elif t.transport == "internet":
            _add(rules, FirewallRule("udp", (t.listen_port, t.listen_port)))
    rules += _vpc_rules(topology, list(vcpe.vpcs))
    rules += [FirewallRule("tcp", (SSH_PORT, SSH_PORT), source)
              for source in topology.vcpes[vcpe.name].ssh_from]
    for group in topology.vcpes[vcpe.name].security_groups:
        for rule in groups[group]:
            for r in _expanded(rule):
                _add(rules, r)
    return CloudFirewall(vcpe.name, "qingcloud", "security_group", tuple(rules))


def qingcloud_vpn_server(topology: Topology, server: VpnServerDesign) -> CloudFirewall:
    """A remote-access host: its VPN port from anywhere, ICMP, its VPC (return traffic)."""
    rules = [FirewallRule("icmp"),
             *(FirewallRule(r.protocol, r.ports) for r in _vpn_service(server)),
             *_vpc_rules(topology, [server.vpc])]
    return CloudFirewall(server.name, "qingcloud", "security_group", tuple(rules))


def vultr_vcpe(topology: Topology, vcpe: VcpeDesign) -> CloudFirewall:
    """A tunnel's port only from its peer's public address; SSH only from ``ssh_from``.
    A Vultr firewall group filters the public interface only."""
    rules = []
    for t in vcpe.tunnels:
        if t.transport != "internet":
            continue
        note = f"{t.type} tunnel {t.label} from {t.peer}"
        # a peer that dials in (a site behind NAT) comes from whatever address it has
        peer = None if t.endpoint.dials_in else t.peer
        if t.type == "ipsec":  # IKE, NAT traversal, and ESP itself when no NAT is in between
            rules += [FirewallRule("udp", (port, port), peer_host=peer, key=f"{t.interface}-{port}",
                                   note=note) for port in IKE_PORTS]
            rules.append(FirewallRule("esp", peer_host=peer, key=f"{t.interface}-esp", note=note))
        else:
            rules.append(FirewallRule("udp", (t.listen_port, t.listen_port), peer_host=peer,
                                      key=t.interface, note=note))
    rules += [FirewallRule("tcp", (SSH_PORT, SSH_PORT), source, key=f"ssh-{i}", note="ssh_from")
              for i, source in enumerate(topology.vcpes[vcpe.name].ssh_from)]
    notes = []
    groups = topology.vcpes[vcpe.name].security_groups
    if groups:
        notes.append(f"security_groups {', '.join(groups)}: not part of the Vultr firewall group "
                     "the program deploys, so not enforced here either")
    return CloudFirewall(vcpe.name, "vultr", "firewall_group", tuple(rules), tuple(notes))


def vultr_vpn_server(server: VpnServerDesign) -> CloudFirewall:
    """Clients dial in from anywhere: the VPN port is open, and only the VPN port."""
    return CloudFirewall(server.name, "vultr", "firewall_group", tuple(_vpn_service(server)))


def with_management(firewall: CloudFirewall, sources: Sequence[str]) -> CloudFirewall:
    """SSH from the deploying machine(s) (stack config ``netweave:manageFrom``), added to a
    host's firewall: how later configuration changes reach it in place (``HostConfig``)."""
    if not sources:
        return firewall
    rules = list(firewall.rules)
    for i, source in enumerate(sources):
        _add(rules, FirewallRule("tcp", (SSH_PORT, SSH_PORT), netaddr.IPNetwork(str(source)),
                                 key=f"manage-{i}", note="manageFrom: in-place reconfiguration"))
    return replace(firewall, rules=tuple(rules))


def build_firewalls(topology: Topology, vcpes: Mapping[str, VcpeDesign],
                    servers: Mapping[str, VpnServerDesign],
                    groups: Mapping[str, tuple[FirewallRule, ...]]) -> dict[str, CloudFirewall]:
    out = {}
    for name, vcpe in vcpes.items():
        out[name] = (qingcloud_vcpe(topology, vcpe, groups) if vcpe.cloud == "qingcloud"
                     else vultr_vcpe(topology, vcpe))
    for name, server in servers.items():
        out[name] = (qingcloud_vpn_server(topology, server) if server.cloud == "qingcloud"
                     else vultr_vpn_server(server))
    return out
