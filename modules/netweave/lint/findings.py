"""Findings: what lint reports, and the catalogue of every rule's stable code.

Codes never change meaning once released: users grep for them, suppress them and
link to them. A new rule gets a new code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from netweave.model.source import PathKey, Source


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    slug: str
    severity: Severity
    summary: str

    @property
    def family(self) -> str:
        return FAMILIES[self.code[0]]


FAMILIES = {"S": "schema", "A": "addressing", "R": "routing", "P": "paths", "V": "vpn"}

_E, _W = Severity.ERROR, Severity.WARNING
RULES: dict[str, Rule] = {r.code: r for r in [
    # schema: the file cannot be used as a topology (exit 2)
    Rule("S000", "file-not-found", _E, "the topology file does not exist or cannot be read"),
    Rule("S001", "yaml-syntax", _E, "the file is not valid YAML"),
    Rule("S002", "yaml-merge", _E, "a YAML merge key ('<<') is malformed"),
    Rule("S003", "duplicate-key", _E, "a key appears twice in one mapping"),
    Rule("S004", "not-utf8", _E, "the file is not UTF-8 text"),
    Rule("S005", "limit-exceeded", _E,
         "more than netweave reads: a file over 64 MiB, aliases expanding past 100,000 "
         "values, or a number of more than 20 digits"),
    Rule("S101", "unknown-key", _E, "a key the schema does not know (a typo?)"),
    Rule("S102", "wrong-type", _E, "a value of the wrong type"),
    Rule("S103", "missing-key", _E, "a required key is missing"),
    Rule("S104", "invalid-address", _E, "not a valid address, network or interface address"),
    Rule("S105", "cidr-host-bits", _E, "a network written with host bits set"),
    Rule("S106", "invalid-value", _E, "a value outside what the key allows"),
    Rule("S107", "unresolved-reference", _E, "a name that refers to nothing"),
    Rule("S108", "duplicate-name", _E, "one name used for two objects"),
    # addressing
    Rule("A201", "vxnet-outside-vpc", _E, "a vxnet's CIDR is not inside its VPC's CIDR"),
    Rule("A202", "vxnet-overlap", _E, "two vxnets of one VPC overlap"),
    Rule("A203", "interconnected-overlap", _E,
         "two networks that route to each other overlap: traffic cannot tell them apart"),
    Rule("A204", "isolated-overlap", _W, "two networks overlap but never route to each other"),
    Rule("A205", "cloud-range", _E, "a VPC or vxnet range the cloud does not allow"),
    Rule("A206", "reserved-address", _E,
         "an address the cloud reserves (network, broadcast, the vxnet gateway .1)"),
    Rule("A207", "duplicate-address", _E, "one address assigned twice"),
    Rule("A208", "address-outside-vxnet", _E, "a NIC or host address outside its vxnet"),
    Rule("A209", "nic-zone-mismatch", _E,
         "an extra NIC's vxnet is in another cloud or zone than its vCPE"),
    Rule("A210", "duplicate-nic-vxnet", _E, "two NICs of one vCPE in the same vxnet"),
    Rule("A211", "address-missing", _E,
         "a QingCloud NIC or VPN host without its fixed private address"),
    Rule("A212", "vultr-address-assigned", _E,
         "an address written for a Vultr VPC NIC: Vultr assigns it at deploy (the attach call "
         "takes only the VPC id)"),
    Rule("A213", "vultr-nic-mtu", _E,
         "an MTU written for a Vultr VPC NIC: Vultr's metadata sets it, through cloud-init"),
    Rule("A214", "vultr-one-vpc", _E,
         "a Vultr instance in more than one Vultr VPC: its one internal_ip cannot say which "
         "address is where"),
    # routing
    Rule("R301", "next-hop-not-router", _E,
         "a route push's next hop is no vCPE NIC (or VPN host) in that VPC: a black hole"),
    Rule("R302", "push-destination-uncovered", _E,
         "no network behind the next hop covers a route push's destination"),
    Rule("R303", "push-overlaps-vpc", _E, "a route push destination overlaps the VPC's own CIDR"),
    Rule("R304", "advertise-unrouted", _E,
         "a BGP advertisement of a prefix the vCPE neither connects nor routes"),
    Rule("R305", "asn-invalid", _E, "an AS number that is reserved or invalid"),
    Rule("R306", "asn-collision", _E, "BGP peers share an AS number: eBGP drops the routes"),
    Rule("R307", "tunnel-ends", _E, "a tunnel without exactly two distinct ends (vCPEs or sites)"),
    Rule("R308", "tunnel-no-transport", _E, "the two ends of a tunnel share no transport"),
    Rule("R309", "static-next-hop", _E, "a vCPE static route whose next hop is not on-link"),
    Rule("R310", "tunnel-addressing", _E, "tunnel end addresses not in one subnet, or reused"),
    Rule("R311", "push-scope-not-onlink", _E,
         "a route push sent to a vxnet where its next hop is not on-link"),
    Rule("R312", "bgp-no-peer", _W, "a vCPE speaks BGP but has no tunnel to a BGP peer"),
    Rule("R313", "public-asn", _W, "a public AS number used on a private interconnect"),
    Rule("R314", "vultr-missing-workload-routes", _W,
         "a Vultr VPC's workloads get no route to a remote prefix the topology interconnects "
         "(Vultr has no route push: the rendered cloud-init snippet carries route_push)"),
    Rule("R315", "push-no-receivers", _W,
         "a route push with `vxnets: []`: no vxnet receives it, so it routes nothing"),
    Rule("R316", "bgp-transit", _W,
         "a vCPE advertises a prefix it only learns from a BGP peer: it carries traffic between "
         "its peers (declare bgp.transit: true when that is the design)"),
    Rule("R320", "push-host-no-instance", _W,
         "a per-instance QingCloud route push reaches declared hosts that name no instance "
         "(or no host at all): those VMs receive nothing"),
    Rule("R321", "route-table-push-scope", _W,
         "a route-table push lists vxnets, but the route table routes every vxnet bound to it"),
    Rule("R322", "route-table-conflict", _E,
         "two route-table pushes of one VPC send one destination to two next hops (one table)"),
    Rule("R323", "push-mechanism-not-qingcloud", _W,
         "a push mechanism or host instance set outside QingCloud, where it means nothing"),
    Rule("R330", "vultr-static-route-needs-next-hop", _E,
         "a static route out of a Vultr VPC NIC without a next hop: the NIC's name is only "
         "known on the VM"),
    Rule("R331", "vultr-private-transport", _E,
         "a tunnel over a Vultr VPC: its endpoints are addresses Vultr assigns at deploy"),
    # paths
    Rule("P401", "intent-unreachable", _E, "intent says A reaches B, but A's packets die on the way"),
    Rule("P402", "intent-no-return", _E, "A's packets reach B but B's replies have no way back"),
    Rule("P403", "intent-leak", _E, "intent says A must not reach B, but a path exists"),
    Rule("P404", "routing-loop", _E, "packets loop between routers"),
    Rule("P405", "intent-empty", _W, "an intent endpoint that holds no host to check"),
    Rule("P406", "one-way-path", _W,
         "a route push lets VMs reach another vxnet, but the replies have no way back "
         "(checked with or without intent)"),
    # vpn
    Rule("V501", "tunnel-mtu", _E, "a tunnel MTU that does not fit its underlay with the overhead"),
    Rule("V502", "pptp-insecure", _E, "PPTP is broken and refused"),
    Rule("V503", "client-pool-overlap", _E, "a VPN client pool overlaps a network"),
    Rule("V504", "literal-secret", _E, "a key, PSK or password written into the YAML"),
    Rule("V505", "full-tunnel", _W, "a full-tunnel VPN sends all client traffic through the VPC"),
    Rule("V506", "vpn-type-not-rendered", _E,
         "a VPN server type netweave cannot render a boot configuration for"),
    Rule("V507", "client-pool-no-return", _E,
         "hosts a VPN pushes to clients have no route back to the client pool"),
    Rule("V508", "ipsec-port", _E,
         "an IPsec tunnel with a port: IKE and NAT traversal use UDP 500 and 4500"),
    Rule("V509", "nat-both-ends", _E,
         "a tunnel whose two ends are both behind NAT (or without a public address): they never meet"),
]}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, located at a path inside the document."""

    code: str
    message: str
    path: PathKey = ()
    hint: str | None = None
    severity: Severity | None = None  # default: the rule's severity
    at_key: bool = False  # point at the key rather than its value (unknown keys)
    file: str = ""
    line: int = 0
    column: int = 0
    related: tuple[PathKey, ...] = field(default=())
    end_line: int = 0  # just past the offending value; 0: unknown (see ``end``)
    end_column: int = 0

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def level(self) -> Severity:
        return self.severity or self.rule.severity

    def located(self, source: Source) -> Finding:
        if self.line:
            return self
        pos = source.position(self.path, at_key=self.at_key)
        return replace(self, file=source.file, line=pos.line, column=pos.column,
                       end_line=pos.end_line, end_column=pos.end_column)

    @property
    def end(self) -> tuple[int, int]:
        """Where the offending text ends (exclusive); one character when not known."""
        if not self.line:
            return (0, 0)
        if self.end_line > self.line or (self.end_line == self.line and self.end_column > self.column):
            return (self.end_line, self.end_column)
        return (self.line, self.column + 1)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)


def finding(code: str, message: str, path: PathKey = (), hint: str | None = None, **kw: object) -> Finding:
    if code not in RULES:  # a typo in a rule must fail loudly in tests, not at a user
        raise KeyError(f"unknown lint code {code}")
    return Finding(code, message, path, hint, **kw)  # type: ignore[arg-type]
