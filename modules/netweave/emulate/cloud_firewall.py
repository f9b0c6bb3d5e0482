"""The cloud's own firewall in front of a vCPE or VPN server, enforced with iptables in
its namespace: what the Pulumi program deploys, read from the same place the program
reads it (``Design.firewalls``: a QingCloud security group or a Vultr firewall group),
never re-derived here.

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

from netweave.design import Design, FirewallRule
from netweave.emulate import shell

IN_CHAIN = "NW-CLOUD-IN"
OUT_CHAIN = "NW-CLOUD-OUT"


def iptables_rule(rule: FirewallRule, chain: str, peer: str, comment: str) -> str:
    """One design rule as an ``iptables-restore`` line; ``peer`` is its network as text
    (a peer host's public address resolved)."""
    args = ["-A", chain]
    if peer not in ("0.0.0.0/0", "0.0.0.0/0.0.0.0"):
        args += ["-s" if rule.direction == "ingress" else "-d", peer]
    if rule.protocol != "any":
        args += ["-p", rule.protocol]
        if rule.ports and rule.protocol in ("tcp", "udp"):
            args += ["-m", rule.protocol, "--dport", str(rule.port_text)]
    args += ["-m", "comment", "--comment", comment, "-j", "ACCEPT" if rule.action == "accept" else "DROP"]
    return " ".join(args)


@dataclass(frozen=True)
class LabRule:
    """A design rule placed in the lab: its peer resolved to a lab address."""

    rule: FirewallRule
    peer: str
    comment: str

    @property
    def ingress(self) -> bool:
        return self.rule.direction == "ingress"

    @property
    def accept(self) -> bool:
        return self.rule.action == "accept"

    @property
    def protocol(self) -> str:
        return self.rule.protocol

    @property
    def ports(self) -> str | None:
        return self.rule.port_text

    def iptables(self, chain: str) -> str:
        return iptables_rule(self.rule, chain, self.peer, self.comment)


@dataclass(frozen=True)
class CloudFirewallChains:
    cloud: str                      # qingcloud | vultr
    interfaces: tuple[str, ...]     # where the cloud filters (in the lab's names)
    rules: tuple[LabRule, ...]
    notes: tuple[str, ...] = ()

    def document(self, jumps_for: Sequence[str] | None = None) -> str:
        """An ``iptables-restore --noflush`` document: our two chains (declared, so their
        rules are replaced) and the jumps to them for ``jumps_for`` (default: every
        interface; a change adds those of newly attached NICs only)."""
        ins = [r for r in self.rules if r.ingress]
        outs = [r for r in self.rules if not r.ingress]
        lines = ["*filter", f":{IN_CHAIN} - [0:0]", f":{OUT_CHAIN} - [0:0]"]
        for iface in self.interfaces if jumps_for is None else jumps_for:
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


def cloud_firewall(design: Design, name: str, nics: Sequence[str], public_if: str | None,
                   public_addresses: Mapping[str, str],
                   manage_from: Sequence[str] = ()) -> CloudFirewallChains:
    """The firewall the program deploys in front of vCPE or VPN server ``name`` (with SSH
    from the deploying machine, ``manage_from``, as config ``netweave:manageFrom`` adds)."""
    from netweave.design.firewall import with_management
    fw = with_management(design.firewalls[name], manage_from)
    rules = []
    # QingCloud evaluates a group's rules by priority (lower first), in order within one
    ordered = sorted(fw.rules, key=lambda r: r.priority) if fw.cloud == "qingcloud" else fw.rules
    for rule in ordered:
        peer = f"{public_addresses[rule.peer_host]}/32" if rule.peer_host else str(rule.peer)
        comment = (f"qingcloud-sg:{name}:p{rule.priority}" if fw.cloud == "qingcloud"
                   else f"vultr-fw:{name}:{rule.key}")
        rules.append(LabRule(rule, peer, comment))
    if fw.cloud == "qingcloud":  # the group sits on every NIC and the EIP
        interfaces = tuple([*nics, *([public_if] if public_if else [])])
    else:  # a Vultr firewall group filters the public interface only
        interfaces = (public_if,) if public_if else ()
    return CloudFirewallChains(fw.cloud, interfaces, tuple(rules), fw.notes)


def reapply(ns: str, firewall: CloudFirewallChains, new_interfaces: Sequence[str]) -> None:
    """The group's rules changed (or a NIC joined it): replace our chains' rules, add the
    jumps of the new NICs; the host's own tables are not touched."""
    if firewall.interfaces:
        shell.run(shell.in_ns(ns, ["iptables-restore", "--noflush"]),
                  input=firewall.document(jumps_for=new_interfaces))


def apply(ns: str, firewall: CloudFirewallChains) -> None:
    """After the host's own rendered rules (whose iptables-restore flushes its tables)."""
    if firewall.interfaces:
        shell.run(shell.in_ns(ns, ["iptables-restore", "--noflush"]), input=firewall.document())
