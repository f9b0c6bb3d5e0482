"""Security groups as iptables rules inside the namespace of the VM or vCPE they are
attached to. Like a cloud security group: once a group is attached, inbound traffic
is dropped unless a rule accepts it (replies to outbound traffic always pass);
outbound traffic passes unless a rule drops it. Rules apply in order."""

from __future__ import annotations

from collections.abc import Sequence

from netweave.design import Design, FirewallRule
from netweave.emulate import shell


def _match(rule: FirewallRule) -> list[str]:
    args = []
    if rule.protocol != "any":
        args += ["-p", rule.protocol]
        if rule.ports and rule.protocol in ("tcp", "udp"):
            args += ["--dport", str(rule.port_text)]
    if str(rule.peer) != "0.0.0.0/0":
        args += ["-s" if rule.direction == "ingress" else "-d", str(rule.peer)]
    return args


def rules_for(design: Design, groups: Sequence[str]) -> str:
    """An iptables-restore document for the namespace (empty when no group is attached)."""
    if not groups:
        return ""
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A INPUT -i lo -j ACCEPT",
             "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]
    for group in groups:
        for rule in design.security_groups[group]:
            chain = "INPUT" if rule.direction == "ingress" else "OUTPUT"
            target = "ACCEPT" if rule.action == "accept" else "DROP"
            lines.append(" ".join(["-A", chain, *_match(rule), "-m", "comment",
                                   "--comment", f"sg:{group}", "-j", target]))
    return "\n".join([*lines, "COMMIT", ""])


def apply(ns: str, design: Design, groups: Sequence[str], *, noflush: bool = False) -> None:
    text = rules_for(design, groups)
    if text:
        argv = ["iptables-restore", *(["--noflush"] if noflush else [])]
        shell.run(shell.in_ns(ns, argv), input=text)
