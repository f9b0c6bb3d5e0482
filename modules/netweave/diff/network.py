"""What a change does to the network, in the domain's words.

Compares two topologies object by object (by name, or by what identifies an item in a
list: a route push by its destination and next hop, a NIC by its vxnet) and says what
was added, removed or changed: prefixes, route pushes, advertisements, tunnels, NICs.
Everything is keyed in dictionaries, so the comparison is linear in the size of the
stacks (10,000 route pushes compare in milliseconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from netweave.design import Design
from netweave.design.addresses import shown
from netweave.model.index import Index
from netweave.model.source import PathKey
from netweave.model.topology import Topology, Tunnel

# Order in which kinds are reported: addressing first, then routing, then the rest.
KINDS = ("cloud", "vpc", "vxnet", "route_push", "vcpe", "nic", "static_route", "bgp",
         "advertisement", "site", "tunnel", "host", "vpn_server", "security_group", "intent")


@dataclass(frozen=True)
class Change:
    op: str  # "added" | "removed" | "changed"
    kind: str  # one of KINDS
    subject: str  # what changed, e.g. "vpc01", "vcpe01 eth1"
    detail: str  # in network words
    path: PathKey = ()  # where it is written (HEAD's file; BASE's for removals)

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "kind": self.kind, "subject": self.subject,
                "detail": self.detail, "path": list(self.path)}


def _fields(obj: BaseModel, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Scalar fields of a model as plain values: what a 'changed' line compares."""
    data: dict[str, Any] = obj.model_dump(mode="json", by_alias=True, exclude=set(skip))
    return data


def _field_changes(old: BaseModel, new: BaseModel, skip: Iterable[str] = ()) -> list[str]:
    a, b = _fields(old, skip), _fields(new, skip)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"{key} {_show(a.get(key))} → {_show(b.get(key))}")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "(default)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _named(kind: str, base: Mapping[str, BaseModel], head: Mapping[str, BaseModel],
           root: str, describe: Any, skip: Iterable[str] = ()) -> list[Change]:
    out: list[Change] = []
    for name in head.keys() - base.keys():
        out.append(Change("added", kind, name, describe(head[name]), (root, name)))
    for name in base.keys() - head.keys():
        out.append(Change("removed", kind, name, describe(base[name]), (root, name)))
    for name in head.keys() & base.keys():
        diffs = _field_changes(base[name], head[name], skip)
        if diffs:
            out.append(Change("changed", kind, name, "; ".join(diffs), (root, name)))
    return out


def _announced(design: Design, vcpe: str) -> list[str]:
    return [str(p) for p in design.announces(vcpe)]


def network_changes(base: Topology, head: Topology, base_design: Design | None = None,
                    head_design: Design | None = None) -> list[Change]:
    old = base_design if base_design is not None else Design.build(base, Index.build(base))
    new = head_design if head_design is not None else Design.build(head, Index.build(head))
    changes: list[Change] = []
    changes += _named("cloud", base.clouds, head.clouds, "clouds",
                      lambda c: f"{c.provider} {getattr(c, 'zone', None) or getattr(c, 'region', '')}")
    changes += _named("vpc", base.vpcs, head.vpcs, "vpcs",
                      lambda v: f"{v.cidr} in {v.cloud}", skip=("vxnets", "route_push"))
    changes += _vxnets(base, head)
    changes += _route_pushes(base, head)
    changes += _named("vcpe", base.vcpes, head.vcpes, "vcpes", _describe_vcpe,
                      skip=("nics", "bgp", "static_routes"))
    for name in base.vcpes.keys() & head.vcpes.keys():
        changes += _nics(name, base, head)
        changes += _static_routes(name, base, head)
        changes += _bgp(name, base, head, old, new)
    for name in head.vcpes.keys() - base.vcpes.keys():
        changes += _advertised_lines("added", name, _announced(new, name))
    for name in base.vcpes.keys() - head.vcpes.keys():
        changes += _advertised_lines("removed", name, _announced(old, name))
    changes += _named("site", base.sites, head.sites, "sites",
                      lambda s: f"LAN {', '.join(str(p) for p in s.lan)}, gateway {s.gateway}"
                                + (", behind NAT" if s.nat else ""))
    changes += _tunnels(base, head)
    changes += _named("host", base.hosts, head.hosts, "hosts",
                      lambda h: f"{h.address} in {h.vxnet or 'site ' + str(h.site)}")
    changes += _named("vpn_server", base.vpn_servers, head.vpn_servers, "vpn_servers",
                      lambda s: f"{s.type} at {shown(s.address)} in {s.vxnet}, clients {s.client_pool}")
    changes += _named("security_group", base.security_groups, head.security_groups,
                      "security_groups", lambda g: f"{len(g.rules)} rule(s)")
    changes += _intent(base, head)
    order = {k: i for i, k in enumerate(KINDS)}
    ops = {"removed": 0, "changed": 1, "added": 2}
    return sorted(changes, key=lambda c: (order[c.kind], c.subject, ops[c.op], c.detail))


def _describe_vcpe(v: Any) -> str:
    nics = ", ".join(f"eth{i} {shown(n.address)} in {n.vxnet}" for i, n in enumerate(v.nics))
    asn = f"; AS{v.bgp.asn}" if v.bgp else ""
    return f"NICs {nics}{asn}"


def _vxnets(base: Topology, head: Topology) -> list[Change]:
    def flat(t: Topology) -> dict[str, tuple[str, Any]]:
        return {vx: (vpc_name, v) for vpc_name, vpc in t.vpcs.items() for vx, v in vpc.vxnets.items()}

    a, b = flat(base), flat(head)
    out = []
    for name in b.keys() - a.keys():
        vpc, vx = b[name]
        out.append(Change("added", "vxnet", name, f"{vx.cidr} in {vpc}", ("vpcs", vpc, "vxnets", name)))
    for name in a.keys() - b.keys():
        vpc, vx = a[name]
        out.append(Change("removed", "vxnet", name, f"{vx.cidr} in {vpc}",
                          ("vpcs", vpc, "vxnets", name)))
    for name in a.keys() & b.keys():
        (vpc_a, old), (vpc_b, new) = a[name], b[name]
        diffs = _field_changes(old, new)
        if vpc_a != vpc_b:
            diffs.insert(0, f"moved from {vpc_a} to {vpc_b}")
        if diffs:
            out.append(Change("changed", "vxnet", name, "; ".join(diffs),
                              ("vpcs", vpc_b, "vxnets", name)))
    return out


PushKey = tuple[str, str, tuple[str, ...] | None]


def _push_keys(t: Topology, vpc: str) -> dict[PushKey, int]:
    keys: dict[PushKey, int] = {}
    for i, p in enumerate(t.vpcs[vpc].route_push):
        keys.setdefault((str(p.destination), str(p.next_hop),
                         tuple(p.vxnets) if p.vxnets is not None else None), i)
    return keys


def _push_text(key: PushKey) -> str:
    _, hop, vxnets = key
    to = "" if vxnets is None else f" to {', '.join(vxnets) or 'no vxnet'}"
    return f"via {hop}{to}"


def _route_pushes(base: Topology, head: Topology) -> list[Change]:
    out: list[Change] = []
    for vpc in sorted(base.vpcs.keys() | head.vpcs.keys()):
        a = _push_keys(base, vpc) if vpc in base.vpcs else {}
        b = _push_keys(head, vpc) if vpc in head.vpcs else {}
        removed = [k for k in a if k not in b]
        added = [k for k in b if k not in a]
        # A push whose destination stayed but whose next hop or scope changed is one edit.
        added_by_dest: dict[str, list[PushKey]] = {}
        for k in added:
            added_by_dest.setdefault(k[0], []).append(k)
        paired: set[PushKey] = set()
        for k in removed:
            candidates = added_by_dest.get(k[0])
            if candidates:
                new = candidates.pop(0)
                paired.add(new)
                parts = []
                if new[1] != k[1]:
                    parts.append(f"next hop {k[1]} → {new[1]}")
                if new[2] != k[2]:
                    parts.append(f"vxnets {_scope(k[2])} → {_scope(new[2])}")
                out.append(Change("changed", "route_push", f"{vpc} {k[0]}", "; ".join(parts),
                                  ("vpcs", vpc, "route_push", b[new], "next_hop")))
            else:
                out.append(Change("removed", "route_push", f"{vpc} {k[0]}", _push_text(k),
                                  ("vpcs", vpc, "route_push", a[k])))
        for k in added:
            if k not in paired:
                out.append(Change("added", "route_push", f"{vpc} {k[0]}", _push_text(k),
                                  ("vpcs", vpc, "route_push", b[k])))
    return out


def _scope(vxnets: tuple[str, ...] | None) -> str:
    if vxnets is None:
        return "(the next hop's vxnet)"
    return ", ".join(vxnets) or "(no vxnet)"


def _nics(vcpe: str, base: Topology, head: Topology) -> list[Change]:
    a = {n.vxnet: (i, n) for i, n in enumerate(base.vcpes[vcpe].nics)}
    b = {n.vxnet: (i, n) for i, n in enumerate(head.vcpes[vcpe].nics)}
    out = []
    for vx in b.keys() - a.keys():
        i, n = b[vx]
        role = "primary NIC" if i == 0 else "extra NIC"
        out.append(Change("added", "nic", f"{vcpe} eth{i}", f"{role} {shown(n.address)} in {vx}",
                          ("vcpes", vcpe, "nics", i)))
    for vx in a.keys() - b.keys():
        i, n = a[vx]
        out.append(Change("removed", "nic", f"{vcpe} eth{i}", f"{shown(n.address)} in {vx}",
                          ("vcpes", vcpe, "nics", i)))
    for vx in a.keys() & b.keys():
        (i, old), (j, new) = a[vx], b[vx]
        diffs = _field_changes(old, new)
        if i != j:
            diffs.insert(0, f"eth{i} → eth{j}" + (" (now the primary NIC)" if j == 0 else ""))
        if diffs:
            out.append(Change("changed", "nic", f"{vcpe} eth{j}", f"in {vx}: " + "; ".join(diffs),
                              ("vcpes", vcpe, "nics", j)))
    return out


def _static_routes(vcpe: str, base: Topology, head: Topology) -> list[Change]:
    def keyed(t: Topology) -> dict[tuple[str, str | None], int]:
        return {(str(r.destination), str(r.next_hop) if r.next_hop else None): i
                for i, r in enumerate(t.vcpes[vcpe].static_routes)}

    a, b = keyed(base), keyed(head)
    out = []
    for k in b.keys() - a.keys():
        out.append(Change("added", "static_route", f"{vcpe} {k[0]}",
                          f"via {k[1]}" if k[1] else "connected", ("vcpes", vcpe, "static_routes", b[k])))
    for k in a.keys() - b.keys():
        out.append(Change("removed", "static_route", f"{vcpe} {k[0]}",
                          f"via {k[1]}" if k[1] else "connected", ("vcpes", vcpe, "static_routes", a[k])))
    return out


def _advertised_lines(op: str, vcpe: str, prefixes: Iterable[str]) -> list[Change]:
    verb = "now announces" if op == "added" else "no longer announces"
    return [Change(op, "advertisement", f"{vcpe} {p}", f"{vcpe} {verb} {p} over BGP",
                   ("vcpes", vcpe, "bgp")) for p in prefixes]


def _bgp(vcpe: str, base: Topology, head: Topology, base_design: Design,
         head_design: Design) -> list[Change]:
    old, new = base.vcpes[vcpe].bgp, head.vcpes[vcpe].bgp
    out = []
    if old is None and new is not None:
        out.append(Change("added", "bgp", vcpe, f"speaks BGP as AS{new.asn}", ("vcpes", vcpe, "bgp")))
    elif old is not None and new is None:
        out.append(Change("removed", "bgp", vcpe, f"no longer speaks BGP (was AS{old.asn})",
                          ("vcpes", vcpe)))
    elif old is not None and new is not None:
        diffs = _field_changes(old, new, skip=("advertise",))
        if diffs:
            out.append(Change("changed", "bgp", vcpe, "; ".join(diffs), ("vcpes", vcpe, "bgp")))
    a, b = set(_announced(base_design, vcpe)), set(_announced(head_design, vcpe))
    out += _advertised_lines("added", vcpe, sorted(b - a))
    out += _advertised_lines("removed", vcpe, sorted(a - b))
    return out


def _tunnel_text(t: Tunnel) -> str:
    ends = " ⇄ ".join(f"{e.node} {e.address}" for e in t.ends)
    return f"{t.type} over {t.transport}: {ends}"


def _tunnels(base: Topology, head: Topology) -> list[Change]:
    a = {t.label(i): (i, t) for i, t in enumerate(base.tunnels)}
    b = {t.label(i): (i, t) for i, t in enumerate(head.tunnels)}
    out = []
    for name in b.keys() - a.keys():
        i, t = b[name]
        out.append(Change("added", "tunnel", name, _tunnel_text(t), ("tunnels", i)))
    for name in a.keys() - b.keys():
        i, t = a[name]
        out.append(Change("removed", "tunnel", name, _tunnel_text(t), ("tunnels", i)))
    for name in a.keys() & b.keys():
        (_, old), (j, new) = a[name], b[name]
        diffs = _field_changes(old, new, skip=("ends",))
        if _tunnel_text(old) != _tunnel_text(new):
            diffs.insert(0, f"ends {_tunnel_text(old)} → {_tunnel_text(new)}")
        if diffs:
            out.append(Change("changed", "tunnel", name, "; ".join(diffs), ("tunnels", j)))
    return out


def _intent(base: Topology, head: Topology) -> list[Change]:
    def rules(t: Topology) -> dict[tuple[str, str, str], PathKey]:
        if t.intent is None:
            return {}
        out: dict[tuple[str, str, str], PathKey] = {}
        for kind in ("must_reach", "must_not_reach"):
            for i, pair in enumerate(getattr(t.intent, kind)):
                out[(kind, pair.from_, pair.to)] = ("intent", kind, i)
        return out

    a, b = rules(base), rules(head)
    out = [Change("added", "intent", f"{k[0]} {k[1]} → {k[2]}", "new intent rule", b[k])
           for k in b.keys() - a.keys()]
    out += [Change("removed", "intent", f"{k[0]} {k[1]} → {k[2]}", "intent rule dropped", a[k])
            for k in a.keys() - b.keys()]
    return out
