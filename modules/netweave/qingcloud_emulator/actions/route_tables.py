"""VPC route tables (routing inside the VPC router, not routes delivered to VMs):
content/network/vpc/api/routing_table/*.md and the console guide
content/network/vpc/manual/routing/{01_route_description,02_route_function}.md.
Absent from qingcloud-sdk 1.2.16: clients call them with ``conn.send_request``.

What the docs say, and what the emulator does with it:

- 01_route_description.md: creating a VPC also creates its **default route table**,
  "自动关联该 VPC 网络下的所有私有网络（包括 VPC 创建完后添加到 VPC 的私有网络）" (associated with
  every vxnet, later ones included); "您不能创建也不能删除默认路由表" (it cannot be deleted).
  -> CreateRouters makes one (``default_table``), JoinRouter's job binds the vxnet to it,
  DeleteRouteTables refuses it, DeleteRouters removes it.
- 02_route_function.md: "一个路由表可以绑定多个相同类型的资源，但一个资源只能绑定一个路由表" (a vxnet
  binds one table only) -> AssociateRouteTable refuses a vxnet that is bound already; to
  switch, DissociateRouteTable first (10_create_vpc.md: "解绑该路由表并重新绑定").
- 02_route_function.md: "添加路由规则前，需要先将路由表绑定到私有网络" (bind before adding rules)
  -> AddRoutes refuses a table bound to nothing.
- 02_route_function.md: binding adds a rule for the vxnet's own network, "该路由不可删除"
  -> the binding job adds a system rule, RemoveRoutes refuses it. The docs give only its
  destination; its ``nexthop``/``nexthop_type`` are not documented (shown as the vxnet id
  and null).
- describe_routing_table_resources.md: bindings are read with DescribeRoutingTableResources
  (``resource_user_group_set`` of ``{rtable_id, resource_id}``); DescribeRouteTables has no
  bound-resource field.

Where the docs are silent the emulator refuses rather than guesses: ``nexthop_type``
omitted (optional on add_routes.md, default not stated), two rules for one destination in
one table, an IP next hop outside the VPC's vxnets, a table bound to vxnets of two VPCs
(the API has no VPC parameter; the console asks for "所属 VPC 网络"), load-balancer tables
bound to anything (load balancers are not emulated).
"""

from __future__ import annotations

import ipaddress

from ..errors import bad, denied
from ..store import Op, Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, view

NEXTHOP_TYPES = (2, 3, 4)  # add_routes.md: 2 router id, 3 IP address, 4 NAT gateway id
VXNET_TABLE = 2            # create_route_table.md rtable_rtype: 1 load balancer, 2 vxnet


def rules_of(zone: Zone, table_id: str) -> list[Record]:
    return [r for r in zone.live("routing_table_rule") if r["rtable_id"] == table_id]


def bound_vxnets(zone: Zone, table_id: str) -> list[Record]:
    return [v for v in zone.live("vxnet") if v.get("_rtable_id") == table_id]


def default_table(zone: Zone, router_id: str) -> Record | None:
    return next((t for t in zone.live("routing_table") if t.get("_default_of") == router_id), None)


def create_default_table(zone: Zone, router_id: str) -> str:
    """01_route_description.md: the table every VPC gets with its creation."""
    tid = zone.new_id("rt")
    zone.add("routing_table", tid, {
        "rtable_id": tid, "rtable_name": "", "rtable_type": 0, "rtable_rtype": VXNET_TABLE,
        "is_applied": 1, "_default_of": router_id, "_router_id": router_id, "_builtin": True})
    return tid


def bind_ops(zone: Zone, table_id: str, vxnet_id: str, ip_network: str) -> list[Op]:
    """What a binding job does when it succeeds: the vxnet's table, and the system rule for
    the vxnet's own network (02_route_function.md: added automatically, cannot be deleted)."""
    rule_id = zone.new_id("r")
    return [["set", "vxnet", vxnet_id, {"_rtable_id": table_id, "_binding": None}],
            ["add", "routing_table_rule", rule_id, {
                "rtable_rule_id": rule_id, "rtable_id": table_id, "rtable_rule_name": "",
                "network": ip_network, "nexthop": vxnet_id, "nexthop_type": None, "disabled": 0,
                "_system_for": vxnet_id, "_builtin": True}]]


def unbind_ops(zone: Zone, vxnet_id: str) -> list[Op]:
    ops: list[Op] = [["set", "vxnet", vxnet_id, {"_rtable_id": None, "_binding": None}]]
    ops += [["remove", "routing_table_rule", r["rtable_rule_id"], {}]
            for r in zone.live("routing_table_rule") if r.get("_system_for") == vxnet_id]
    return ops


def remove_router_tables_ops(zone: Zone, router_id: str) -> list[Op]:
    """DeleteRouters: the default table goes with its VPC (it cannot be deleted alone)."""
    table = default_table(zone, router_id)
    if table is None:
        return []
    ops: list[Op] = [["remove", "routing_table_rule", r["rtable_rule_id"], {}]
                     for r in rules_of(zone, table["rtable_id"])]
    return [*ops, ["remove", "routing_table", table["rtable_id"], {}]]


def _table(zone: Zone, table_id: str) -> Record:
    table = zone.get("routing_table", table_id)
    if table.get("_busy"):
        raise denied(f"routing table [{table_id}] is being {table['_busy']} now, please try later")
    return table


@view("routing_table")
def table_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    # describe_route_tables.md: no bound-resource field (DescribeRoutingTableResources has them)
    out = public(rec)
    out["routing_table_rule_set"] = [public(r) for r in rules_of(zone, rec["rtable_id"])]
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
    table_type = p.number("routing_table_type", required=True)
    if table_type != 0:
        raise bad(f"routing_table_type [{table_type}] should be 0")
    tid = zone.new_id("rt")
    zone.add("routing_table", tid, {"rtable_id": tid, "rtable_name": p.text("routing_table_name", "") or "",
                                    "rtable_type": 0, "rtable_rtype": rtype, "is_applied": 1})
    return {"routing_table": tid}


# content/network/vpc/api/routing_table/describe_route_tables.md
@action("DescribeRouteTables", read_only=True)
def describe_route_tables(ctx: Ctx) -> Body:
    rtype = ctx.p.number("rtable_rtype")
    return listing(ctx, "routing_table", "routing_tables", "routing_table_set", id_field="rtable_id",
                   name_field="rtable_name",
                   match=(lambda t: t["rtable_rtype"] == rtype) if rtype is not None else None)


def _vpc_networks(zone: Zone, router_id: str | None) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(v["_ip_network"]) for v in zone.live("vxnet")
            if router_id is not None and v.get("_router_id") == router_id and v.get("_ip_network")]


def _check_rule(zone: Zone, table: Record, rule: dict[str, str]) -> tuple[str, str, int]:
    network, nexthop = rule.get("network", ""), rule.get("nexthop", "")
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError as exc:
        raise bad(f"rules.n.network [{network}] is not a network") from exc
    kind_text = rule.get("nexthop_type", "")
    if not kind_text:
        raise bad("rules.n.nexthop_type is optional on add_routes.md but its default is not "
                  "documented: the emulator refuses rather than guess (send 2, 3 or 4)")
    if not kind_text.isdigit() or int(kind_text) not in NEXTHOP_TYPES:
        raise bad(f"rules.n.nexthop_type [{kind_text}] should be 2 (router), 3 (IP address) or 4 (NAT)")
    kind = int(kind_text)
    if not nexthop:
        raise bad("rules.n.nexthop should not be empty")
    if kind == 2:
        zone.get("router", nexthop)
    elif kind == 3:
        try:
            hop = ipaddress.ip_address(nexthop)
        except ValueError as exc:
            raise bad(f"rules.n.nexthop [{nexthop}] is not an IP address (nexthop_type 3)") from exc
        if not any(hop in n for n in _vpc_networks(zone, table.get("_router_id"))):
            raise denied(f"rules.n.nexthop [{nexthop}] is in none of the vxnets of the table's VPC; "
                         "what the router does with such a next hop is not documented, the "
                         "emulator refuses it")
    elif kind == 4:
        raise denied("NAT gateways are not emulated (nexthop_type 4)")
    return str(net), nexthop, kind


def _named(rule: dict[str, str]) -> str:
    name = rule.get("routing_table_rule_name", "")
    if not name:
        raise bad("rules.n.routing_table_rule_name should not be empty (add_routes.md: required)")
    return name


# content/network/vpc/api/routing_table/add_routes.md
@action("AddRoutes")
def add_routes(ctx: Ctx) -> Body:
    zone = ctx.zone
    tid = ctx.p.req("routing_table")
    table = _table(zone, tid)
    if not bound_vxnets(zone, tid):
        # 02_route_function.md: "添加路由规则前，需要先将路由表绑定到私有网络或负载均衡器。"
        raise denied(f"routing table [{tid}] is bound to no vxnet: bind it before adding rules")
    rules = ctx.p.dicts("rules")
    if not rules:
        raise bad("parameter [rules.n] should not be empty")
    present = {r["network"] for r in rules_of(zone, tid)}
    checked = []
    for rule in rules:
        name = _named(rule)
        net, nexthop, kind = _check_rule(zone, table, rule)
        if net in present:  # not documented either way: refuse rather than guess
            raise denied(f"routing table [{tid}] already has a rule for [{net}]")
        present.add(net)
        checked.append((name, net, nexthop, kind))
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


def _user_rule(zone: Zone, rule_id: str) -> Record:
    rule = zone.get("routing_table_rule", rule_id)
    if rule.get("_system_for"):
        # 02_route_function.md: the rule of a bound vxnet's own network "该路由不可删除"
        raise denied(f"rule [{rule_id}] is the system rule of vxnet [{rule['_system_for']}], it "
                     "cannot be changed or deleted")
    return rule


# content/network/vpc/api/routing_table/modify_route_attributes.md
@action("ModifyRouteAttributes")
def modify_route_attributes(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rule_id = p.req("routing_table_rule")
    rule = _user_rule(zone, rule_id)
    table = _table(zone, rule["rtable_id"])
    merged = {"network": p.text("network", rule["network"]) or "",
              "nexthop": p.text("nexthop", rule["nexthop"]) or "",
              "nexthop_type": p.text("nexthop_type", str(rule["nexthop_type"])) or ""}
    net, nexthop, kind = _check_rule(zone, table, merged)
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
    rules = [_user_rule(zone, r) for r in ids]
    tables = [_table(zone, rule["rtable_id"]) for rule in rules]
    for table, rule in zip(tables, rules, strict=True):
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
    if table["rtable_rtype"] != VXNET_TABLE:
        raise denied(f"routing table [{tid}] is for load balancers, which are not emulated")
    vxnet = zone.get("vxnet", resource)
    router_id = vxnet.get("_router_id")
    if not router_id:
        raise denied(f"vxnet [{resource}] has not joined a VPC: a route table routes inside one")
    owner = table.get("_router_id")
    if owner is not None and owner != router_id:
        raise denied(f"routing table [{tid}] routes in VPC [{owner}], vxnet [{resource}] is in "
                     f"[{router_id}]; how the API ties a table to a VPC is not documented")
    bound = vxnet.get("_rtable_id") or vxnet.get("_binding")
    if bound:
        # 02_route_function.md: "一个资源只能绑定一个路由表" (a resource binds one table only)
        raise denied(f"vxnet [{resource}] is already bound to routing table [{bound}]: a vxnet "
                     "binds one route table only, dissociate it first")
    zone.set(table, _busy="associated", _router_id=router_id)
    zone.set(vxnet, _binding=tid)
    ok = [*bind_ops(zone, tid, resource, vxnet["_ip_network"]),
          ["set", "routing_table", tid, {"_busy": None}]]
    fail = [["set", "vxnet", resource, {"_binding": None}], ["set", "routing_table", tid, {"_busy": None}]]
    return {"job_id": zone.job("AssociateRouteTable", [tid, resource], ok=ok, fail=fail)}


# content/network/vpc/api/routing_table/dissociate_route_table.md
@action("DissociateRouteTable")
def dissociate_route_table(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    tid, resource = p.req("routing_table"), p.req("resource")
    table = _table(zone, tid)
    vxnet = zone.get("vxnet", resource)
    if vxnet.get("_rtable_id") != tid:
        raise denied(f"[{resource}] is not bound to routing table [{tid}]")
    zone.set(table, _busy="dissociated")
    ok = [*unbind_ops(zone, resource), ["set", "routing_table", tid, {"_busy": None}]]
    fail = [["set", "routing_table", tid, {"_busy": None}]]
    return {"job_id": zone.job("DissociateRouteTable", [tid, resource], ok=ok, fail=fail)}


# content/network/vpc/api/routing_table/describe_routing_table_resources.md
@action("DescribeRoutingTableResources", read_only=True)
def describe_routing_table_resources(ctx: Ctx) -> Body:
    tables, resources = set(ctx.p.many("rtables")), set(ctx.p.many("resources"))
    items = [{"rtable_id": v["_rtable_id"], "resource_id": v["vxnet_id"]}
             for v in ctx.zone.live("vxnet") if v.get("_rtable_id")
             and (not tables or v["_rtable_id"] in tables) and (not resources or v["vxnet_id"] in resources)]
    return {"resource_user_group_set": items, "total_count": len(items)}


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
        if table.get("_default_of"):
            # 01_route_description.md: "您不能创建也不能删除默认路由表"
            raise denied(f"routing table [{tid}] is the default route table of VPC "
                         f"[{table['_default_of']}]; it cannot be deleted")
        zone.ensure_mutable(table, tid)
        bound = [v["vxnet_id"] for v in bound_vxnets(zone, tid)]
        if bound or any(v.get("_binding") == tid for v in zone.live("vxnet")):
            raise denied(f"routing table [{tid}] is still associated with {bound}")
    for tid in ids:
        for rule in rules_of(zone, tid):
            del zone.res["routing_table_rule"][rule["rtable_rule_id"]]
        del zone.res["routing_table"][tid]
    return {"routing_tables": ids}
