"""The cloud's own firewall in front of a vCPE or VPN server, enforced with iptables in
its namespace: what the Pulumi program deploys, taken from the functions that deploy it
(``netweave.deploy.qingcloud.vcpe_rules`` / ``vpn_server_rules`` for a QingCloud
security group, ``netweave.deploy.vultr.vcpe_firewall`` / ``vpn_server_firewall`` for a Vultr
firewall group), never re-derived here.

Both clouds filter before the VM sees a packet, statefully (replies to what the VM sent
pass). QingCloud binds the group to the instance: every NIC, and its EIP (in the lab, the
underlay interface), for traffic to the VM and traffic it forwards. A Vultr firewall
group filters the public interface only (VPC traffic is not filtered). Inbound traffic no
rule accepts is dropped; outbound passes unless a rule drops it. The rules live in their
own chains, jumped to first, so the host's rendered rules see only what the cloud passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netweave.emulate import shell
from netweave.model.index import Index
from netweave.model.topology import Topology

IN_CHAIN = "NW-CLOUD-IN"
OUT_CHAIN = "NW-CLOUD-OUT"


@dataclass(frozen=True)
class CloudRule:
    protocol: str            # tcp | udp | icmp | esp
    ports: str | None        # "51820" or "1:65535" (tcp/udp only)
    peer: str                # source (ingress) or destination (egress) network
    accept: bool
    ingress: bool
    comment: str

    def iptables(self, chain: str) -> str:
        args = ["-A", chain]
        if self.peer not in ("0.0.0.0/0", "0.0.0.0/0.0.0.0"):
            args += ["-s" if self.ingress else "-d", self.peer]
        args += ["-p", self.protocol]
        if self.ports and self.protocol in ("tcp", "udp"):
            args += ["-m", self.protocol, "--dport", self.ports]
        args += ["-m", "comment", "--comment", self.comment, "-j", "ACCEPT" if self.accept else "DROP"]
        return " ".join(args)


@dataclass(frozen=True)
class CloudFirewall:
    cloud: str                      # qingcloud | vultr
    interfaces: tuple[str, ...]     # where the cloud filters (in the lab's names)
    rules: tuple[CloudRule, ...]
    notes: tuple[str, ...] = ()

    def document(self) -> str:
        """An ``iptables-restore --noflush`` document (adds chains and jumps, flushes nothing)."""
        ins = [r for r in self.rules if r.ingress]
        outs = [r for r in self.rules if not r.ingress]
        lines = ["*filter", f":{IN_CHAIN} - [0:0]", f":{OUT_CHAIN} - [0:0]"]
        for iface in self.interfaces:
            lines += [f"-I INPUT 1 -i {iface} -j {IN_CHAIN}"]
            if self.cloud == "qingcloud":  # the group sits on the NIC: forwarded traffic too
                lines += [f"-I FORWARD 1 -i {iface} -j {IN_CHAIN}"]
            if outs:
                lines += [f"-I OUTPUT 1 -o {iface} -j {OUT_CHAIN}"]
                if self.cloud == "qingcloud":
                    lines += [f"-I FORWARD 1 -o {iface} -j {OUT_CHAIN}"]
        lines.append(f"-A {IN_CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
        lines += [r.iptables(IN_CHAIN) for r in ins]
        lines.append(f"-A {IN_CHAIN} -m comment --comment {self.cloud}:default-deny -j DROP")
        lines += [r.iptables(OUT_CHAIN) for r in outs]
        return "\n".join([*lines, "COMMIT", ""])


def _qingcloud_rule(rule: Mapping[str, Any], name: str) -> CloudRule:
    low, high = rule.get("val1"), rule.get("val2")
    ports = None if low is None else (str(low) if high in (None, low) else f"{low}:{high}")
    return CloudRule(str(rule["protocol"]), ports, str(rule.get("val3") or "0.0.0.0/0"),
                     rule.get("action", "accept") == "accept", int(rule.get("direction", 0)) == 0,
                     f"qingcloud-sg:{name}:p{rule.get('priority', 50)}")


def cloud_firewall(topology: Topology, index: Index, name: str, cloud: str,
                   nics: Sequence[str], public_if: str | None,
                   public_addresses: Mapping[str, str]) -> CloudFirewall:
    """The firewall the program deploys in front of vCPE or VPN server ``name``."""
    interfaces = tuple([*nics, *([public_if] if public_if else [])])
    is_vcpe = name in topology.vcpes
    if cloud == "qingcloud":
        from netweave.deploy.qingcloud import vcpe_rules, vpn_server_rules
        found = vcpe_rules(topology, index, name) if is_vcpe else vpn_server_rules(topology, index, name)
        # QingCloud evaluates a group's rules by priority (lower first), in order within one
        ordered = sorted(found, key=lambda r: int(r.get("priority", 50)))
        return CloudFirewall(cloud, interfaces, tuple(_qingcloud_rule(r, name) for r in ordered))
    from netweave.deploy.vultr import tunnel_ports, vcpe_firewall, vpn_server_firewall
    specs = (vcpe_firewall(topology, name, tunnel_ports(topology, index), public_addresses)
             if is_vcpe else vpn_server_firewall(topology, name))
    rules = tuple(CloudRule(s.protocol, s.port, f"{s.subnet}/{s.subnet_size}", True, True,
                            f"vultr-fw:{name}:{s.key}") for s in specs)
    notes = []
    groups = topology.vcpes[name].security_groups if is_vcpe else []
    if groups:
        notes.append(f"security_groups {', '.join(groups)}: not part of the Vultr firewall group "
                     "the program deploys, so not enforced here either")
    return CloudFirewall(cloud, (public_if,) if public_if else (), rules, tuple(notes))


def apply(ns: str, firewall: CloudFirewall) -> None:
    """After the host's own rendered rules (whose iptables-restore flushes its tables)."""
    if firewall.interfaces:
        shell.run(shell.in_ns(ns, ["iptables-restore", "--noflush"]), input=firewall.document())
