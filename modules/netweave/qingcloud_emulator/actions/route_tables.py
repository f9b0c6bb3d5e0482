"""VPC route tables (destination -> next hop): content/network/vpc/api/routing_table/*.md.
Absent from qingcloud-sdk 1.2.16: clients call them with ``conn.send_request``. Rules take
effect after UpdateRouteTable (is_applied 0 -> 1)."""

from __future__ import annotations

import ipaddress

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, view

NEXTHOP_TYPES = (2, 3, 4)  # 2 router id, 3 IP address, 4 NAT gateway id


def _rules(zone: Zone, table_id: str) -> list[Record]:
    return [r for r in zone.live("routing_table_rule") if r["rtable_id"] == table_id]


def _table(zone: Zone, table_id: str) -> Record:
    table = zone.get("routing_table", table_id)
    if table.get("_busy"):
        raise denied(f"routing table [{table_id}] is being {table['_busy']} now, please try later")
    return table


@view("routing_table")
def table_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    out["routing_table_rule_set"] = [public(r) for r in _rules(zone, rec["rtable_id"])]
    out["resources"] = [{"resource_id": r} for r in rec.get("_resources", [])]
    out["tags"] = tags_of(zone, rec)
    return out


@view("routing_table_rule")
def rule_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    return public(rec)


# content/network/vpc/api/routing_table/create_route_table.md
@action("CreateRouteTable")
def create_route_table(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rtype = p.number("rtable_rtype", required=True)
    if rtype not in (1, 2):
        raise bad(f"rtable_rtype [{rtype}] should be 1 (load balancer) or 2 (vxnet)")
    table_type = p.number("routing_table_type", 0)
    if table_type != 0:
        raise bad(f"routing_table_type [{table_type}] should be 0")
    tid = zone.new_id("rt")
    zone.add("routing_table", tid, {"rtable_id": tid, "rtable_name": p.text("routing_table_name", "") or "",
                                    "rtable_type": 0, "rtable_rtype": rtype, "is_applied": 1,
                                    "_resources": []})
    return {"routing_table": tid}


# content/network/vpc/api/routing_table/describe_route_tables.md
@action("DescribeRouteTables", read_only=True)
def describe_route_tables(ctx: Ctx) -> Body:
    rtype = ctx.p.number("rtable_rtype")
    return listing(ctx, "routing_table", "routing_tables", "routing_table_set", id_field="rtable_id",
                   name_field="rtable_name",
                   match=(lambda t: t["rtable_rtype"] == rtype) if rtype is not None else None)


def _check_rule(zone: Zone, rule: dict[str, str]) -> tuple[str, str, int]:
    network, nexthop = rule.get("network", ""), rule.get("nexthop", "")
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError as exc:
        raise bad(f"rules.n.network [{network}] is not a network") from exc
    kind_text = rule.get("nexthop_type", "3") or "3"
    if not kind_text.isdigit() or int(kind_text) not in NEXTHOP_TYPES:
        raise bad(f"rules.n.nexthop_type [{kind_text}] should be 2 (router), 3 (IP address) or 4 (NAT)")
    kind = int(kind_text)
    if not nexthop:
        raise bad("rules.n.nexthop should not be empty")
    if kind == 2:
        zone.get("router", nexthop)
    elif kind == 3:
        try:
            ipaddress.ip_address(nexthop)
        except ValueError as exc:
            raise bad(f"rules.n.nexthop [{nexthop}] is not an IP address (nexthop_type 3)") from exc
    return str(net), nexthop, kind


# content/network/vpc/api/routing_table/add_routes.md
@action("AddRoutes")
def add_routes(ctx: Ctx) -> Body:
    zone = ctx.zone
    tid = ctx.p.req("routing_table")
    table = _table(zone, tid)
    rules = ctx.p.dicts("rules")
    if not rules:
        raise bad("parameter [rules.n] should not be empty")
    present = {r["network"] for r in _rules(zone, tid)}
    checked = []
    for rule in rules:
        net, nexthop, kind = _check_rule(zone, rule)
        if net in present:
            raise denied(f"routing table [{tid}] already has a rule for [{net}]")
        present.add(net)
        checked.append((rule.get("routing_table_rule_name", ""), net, nexthop, kind))
    ids = []
    for name, net, nexthop, kind in checked:
        rule_id = zone.new_id("r")
        zone.add("routing_table_rule", rule_id, {
            "rtable_rule_id": rule_id, "rtable_id": tid, "rtable_rule_name": name, "network": net,
            "nexthop": nexthop, "nexthop_type": kind, "disabled": 0})
        ids.append(rule_id)
    zone.set(table, is_applied=0)
    return {"routing_table_rules": ids}


# content/network/vpc/api/routing_table/describe_routes.md
@action("DescribeRoutes", read_only=True)
def describe_routes(ctx: Ctx) -> Body:
    p = ctx.p
    tid, nexthop, kind = p.text("routing_table"), p.text("nexthop"), p.number("nexthop_type")

    def match(r: Record) -> bool:
        return ((tid is None or r["rtable_id"] == tid) and (nexthop is None or r["nexthop"] == nexthop)
                and (kind is None or r["nexthop_type"] == kind))

    return listing(ctx, "routing_table_rule", "routing_table_rules", "routing_table_rule_set",
                   id_field="rtable_rule_id", name_field="rtable_rule_name", match=match)


# content/network/vpc/api/routing_table/modify_route_attributes.md
@action("ModifyRouteAttributes")
def modify_route_attributes(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rule_id = p.req("routing_table_rule")
    rule = zone.get("routing_table_rule", rule_id)
    table = _table(zone, rule["rtable_id"])
    merged = {"network": p.text("network", rule["network"]) or "",
              "nexthop": p.text("nexthop", rule["nexthop"]) or "",
              "nexthop_type": p.text("nexthop_type", str(rule["nexthop_type"])) or ""}
    net, nexthop, kind = _check_rule(zone, merged)
    name = p.text("routing_table_rule_name")
    rule.update(network=net, nexthop=nexthop, nexthop_type=kind)
    if name is not None:
        rule["rtable_rule_name"] = name
    zone.set(table, is_applied=0)
    return {"routing_table_rule": rule_id}


# content/network/vpc/api/routing_table/remove_routes.md
@action("RemoveRoutes")
def remove_routes(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("routing_table_rules")
    rules = [zone.get("routing_table_rule", r) for r in ids]
    for rule in rules:
        table = _table(zone, rule["rtable_id"])
        zone.set(table, is_applied=0)
        del zone.res["routing_table_rule"][rule["rtable_rule_id"]]
    return {"routing_table_rules": ids}


# content/network/vpc/api/routing_table/update_route_table.md
@action("UpdateRouteTable")
def update_route_table(ctx: Ctx) -> Body:
    zone = ctx.zone
    tid = ctx.p.req("routing_table")
    table = _table(zone, tid)
    zone.set(table, _busy="updated")
    job = zone.job("UpdateRouteTable", [tid],
                   ok=[["set", "routing_table", tid, {"is_applied": 1, "_busy": None}]],
                   fail=[["set", "routing_table", tid, {"_busy": None}]])
    return {"job_id": job}


# content/network/vpc/api/routing_table/associate_route_table.md
@action("AssociateRouteTable")
def associate_route_table(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    tid, resource = p.req("routing_table"), p.req("resource")
    table = _table(zone, tid)
    if table["rtable_rtype"] != 2:
        raise denied(f"routing table [{tid}] is for load balancers, not vxnets")
    zone.get("vxnet", resource)
    for other in zone.live("routing_table"):
        if resource in other.get("_resources", []):
            raise denied(f"vxnet [{resource}] is already associated with routing table "
                         f"[{other['rtable_id']}]")
    zone.set(table, _busy="associated")
    job = zone.job("AssociateRouteTable", [tid, resource],
                   ok=[["set", "routing_table", tid, {"_resources": [*table["_resources"], resource],
                                                      "_busy": None}]],
                   fail=[["set", "routing_table", tid, {"_busy": None}]])
    return {"job_id": job}


# content/network/vpc/api/routing_table/dissociate_route_table.md
@action("DissociateRouteTable")
def dissociate_route_table(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    tid = p.req("routing_table")
    table = _table(zone, tid)
    resources = p.many("resources") or [p.req("resource")]
    for resource in resources:
        if resource not in table["_resources"]:
            raise denied(f"[{resource}] is not associated with routing table [{tid}]")
    zone.set(table, _busy="dissociated")
    left = [r for r in table["_resources"] if r not in resources]
    job = zone.job("DissociateRouteTable", [tid, *resources],
                   ok=[["set", "routing_table", tid, {"_resources": left, "_busy": None}]],
                   fail=[["set", "routing_table", tid, {"_busy": None}]])
    return {"job_id": job}


# content/network/vpc/api/routing_table/describe_routing_table_resources.md
@action("DescribeRoutingTableResources", read_only=True)
def describe_routing_table_resources(ctx: Ctx) -> Body:
    table = ctx.zone.get("routing_table", ctx.p.req("routing_table"))
    items = [{"resource_id": r, "rtable_id": table["rtable_id"], "resource_type": "vxnet"}
             for r in table["_resources"]]
    return {"routing_table_resource_set": items, "total_count": len(items)}


# content/network/vpc/api/routing_table/modify_route_table_attributes.md
@action("ModifyRouteTableAttributes")
def modify_route_table_attributes(ctx: Ctx) -> Body:
    tid = ctx.p.req("routing_table")
    table = _table(ctx.zone, tid)
    name = ctx.p.text("routing_table_name")
    if name is not None:
        table["rtable_name"] = name
    return {"routing_table": tid}


# content/network/vpc/api/routing_table/delete_route_tables.md
@action("DeleteRouteTables")
def delete_route_tables(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("routing_tables")
    for tid in ids:
        table = _table(zone, tid)
        zone.ensure_mutable(table, tid)
        if table["_resources"]:
            raise denied(f"routing table [{tid}] is still associated with {table['_resources']}")
    for tid in ids:
        for rule in _rules(zone, tid):
            del zone.res["routing_table_rule"][rule["rtable_rule_id"]]
        del zone.res["routing_table"][tid]
    return {"routing_tables": ids}
