"""Objects named ``nw-<stack>-…`` that the stack's state does not hold: what a failed
``pulumi up`` can leave behind (the cloud accepted a create, the provider failed before
the engine recorded it) and ``pulumi destroy`` therefore never deletes.

Found by name (``search_word`` matches names, describe_*.md; compared exactly here), in
every kind netweave creates: routers, vxnets, instances, NICs, EIPs, security groups, and
inside the stack's routers the DHCP-option statics and route table rules it named.
Removed with the providers' own delete code, in dependency order (rules and statics,
instances, NICs, EIPs, vxnets, security groups, routers), each waited for.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import GONE_STATUSES, KINDS, Client, QingCloudError
from netweave.providers.qingcloud.eip import EipProvider, associated_instance, dissociate
from netweave.providers.qingcloud.instance import InstanceProvider
from netweave.providers.qingcloud.instance_routes import DHCP_OPTION, InstanceRoutesProvider
from netweave.providers.qingcloud.nic import NicProvider
from netweave.providers.qingcloud.route_table import apply as apply_table
from netweave.providers.qingcloud.security_group import SecurityGroupProvider
from netweave.providers.qingcloud.vpc import VpcProvider
from netweave.providers.qingcloud.vxnet import VxnetProvider

# Delete order: what depends on something goes before it.
ORDER = ("route_rule", "router_static", "instance", "nic", "eip", "vxnet", "security_group", "router")
DELETERS: dict[str, Provider] = {
    "router_static": InstanceRoutesProvider(), "instance": InstanceProvider(), "nic": NicProvider(),
    "eip": EipProvider(), "vxnet": VxnetProvider(), "security_group": SecurityGroupProvider(),
    "router": VpcProvider()}


@dataclass(frozen=True)
class Orphan:
    kind: str
    id: str
    name: str
    where: str = ""  # route rules: the table

    def line(self) -> str:
        at = f" in {self.where}" if self.where else ""
        return f"{self.kind:15} {self.id:24} {self.name}{at}"


def _named(c: Client, kind: str, prefix: str) -> list[dict[str, Any]]:
    k = KINDS[kind]
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        answer = c.call(k.describe, {"search_word": prefix, "offset": offset, "limit": 100})
        items = answer.get(k.set_key) or []
        found += [dict(i) for i in items if str(i.get(k.name_key) or "").startswith(prefix)
                  and i.get("status") not in GONE_STATUSES]
        offset += len(items)
        if not items or offset >= int(answer.get("total_count", len(items))):
            return found


def find(c: Client, stack: str, known: set[str]) -> list[Orphan]:
    """Everything named for ``stack`` whose id is not in ``known`` (the state's ids)."""
    prefix = f"nw-{stack}-"
    out: list[Orphan] = []
    routers = _named(c, "router", prefix)
    for kind in ("instance", "nic", "eip", "vxnet", "security_group", "router"):
        items = routers if kind == "router" else _named(c, kind, prefix)
        k = KINDS[kind]
        out += [Orphan(kind, str(i[k.id_key]), str(i[k.name_key])) for i in items
                if str(i[k.id_key]) not in known]
    for router in routers:
        rid = str(router["router_id"])
        answer = c.call("DescribeRouterStatics", {"router": rid, "static_type": DHCP_OPTION, "limit": 100})
        out += [Orphan("router_static", str(s["router_static_id"]), str(s.get("router_static_name")), rid)
                for s in answer.get("router_static_set") or []
                if str(s.get("router_static_name") or "").startswith(prefix)
                and str(s["router_static_id"]) not in known]
        vxnets = [str(v["vxnet_id"]) for v in _named(c, "vxnet", prefix)
                  if (v.get("vpc_router_id") or (v.get("router") or {}).get("router_id")) == rid]
        if not vxnets:
            continue
        bound = c.call("DescribeRoutingTableResources", {"resources": vxnets})
        for table in sorted({str(b["rtable_id"]) for b in bound.get("resource_user_group_set") or []}):
            owners = {i.partition("|")[2] for i in known if i.startswith(f"{table}|")}
            rules = c.call("DescribeRoutes", {"routing_table": table, "limit": 100})
            out += [Orphan("route_rule", str(r["rtable_rule_id"]), str(r.get("rtable_rule_name")), table)
                    for r in rules.get("routing_table_rule_set") or []
                    if str(r.get("rtable_rule_name") or "").startswith(prefix)
                    and str(r.get("rtable_rule_name")).partition(" ")[0] not in owners]
    return sorted(out, key=lambda o: (ORDER.index(o.kind), o.name, o.id))


def delete(c: Client, orphans: Iterable[Orphan]) -> list[str]:
    """Delete in dependency order; returns one line per failure (empty: all gone)."""
    problems: list[str] = []
    todo = sorted(orphans, key=lambda o: ORDER.index(o.kind))
    def rule_gone(orphan: Orphan) -> bool:
        rules = c.call("DescribeRoutes", {"routing_table": orphan.where, "limit": 100})
        return all(r.get("rtable_rule_id") != orphan.id for r in rules.get("routing_table_rule_set") or [])

    for orphan in [o for o in todo if o.kind == "route_rule"]:
        try:
            c.ensure("RemoveRoutes", {"routing_table_rules": [orphan.id]},
                     done=functools.partial(rule_gone, orphan))
        except QingCloudError as exc:
            problems.append(f"{orphan.line()}: {exc}")
    for table in sorted({o.where for o in todo if o.kind == "route_rule"}):
        apply_table(c, table)
    for orphan in [o for o in todo if o.kind != "route_rule"]:
        try:
            if orphan.kind == "eip":
                item = c.describe("eip", orphan.id)
                if item and associated_instance(item):
                    dissociate(c, orphan.id)
            DELETERS[orphan.kind].delete(orphan.id, {"zone": c.zone})
        except QingCloudError as exc:
            problems.append(f"{orphan.line()}: {exc}")
    return problems


def state_ids(export: dict[str, Any]) -> set[str]:
    """Every cloud id a ``pulumi stack export`` checkpoint holds (ids and id outputs)."""
    ids: set[str] = set()
    deployment = export.get("deployment") or export
    for res in deployment.get("resources") or []:
        if res.get("id"):
            ids.add(str(res["id"]))
        for key, value in (res.get("outputs") or {}).items():
            if key.endswith("_id") and isinstance(value, str):
                ids.add(value)
    return ids
