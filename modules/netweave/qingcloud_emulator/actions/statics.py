"""VPC router statics (port forwards, VPN, DHCP options, tunnels...):
content/network/vpc/api/vpc_api/*router_static*.md. Changes leave the router with
is_applied=0 until UpdateRouters."""

from __future__ import annotations

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, text_changes, view

STATIC_TYPES = (1, 2, 3, 4, 6, 7, 8)  # 5 (filter control) is not supported in a VPC
VALUES = ("val1", "val2", "val3", "val4", "val5", "val6")


def _idle_router(zone: Zone, rid: str) -> Record:
    router = zone.get("router", rid)
    if router.get("transition_status"):
        raise denied(f"router [{rid}] is [{router['transition_status']}] now, please try later")
    return router


@view("router_static")
def static_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    return public(rec)


# content/network/vpc/api/vpc_api/add_router_statics.md
@action("AddRouterStatics")
def add_router_statics(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rid = p.req("router")
    router = _idle_router(zone, rid)
    vxnet = p.text("vxnet", "") or ""
    if vxnet:
        zone.get("vxnet", vxnet)
    statics = p.dicts("statics")
    if not statics:
        raise bad("parameter [statics.n] should not be empty")
    for static in statics:
        kind = static.get("static_type", "")
        if not kind.isdigit() or int(kind) not in STATIC_TYPES:
            raise bad(f"static_type [{kind}] should be one of {', '.join(map(str, STATIC_TYPES))}")
        if not static.get("val1"):
            raise bad("statics.n.val1 should not be empty")
    ids = []
    for static in statics:
        sid = zone.new_id("rtrs")
        zone.add("router_static", sid, {
            "router_static_id": sid, "router_id": rid, "vxnet_id": vxnet,
            "router_static_name": static.get("router_static_name", ""),
            "static_type": int(static["static_type"]), "disabled": 0,
            **{v: static.get(v, "") for v in VALUES}, "_applied": False})
        ids.append(sid)
    zone.set(router, is_applied=0)
    return {"router_statics": ids}


# content/network/vpc/api/vpc_api/describe_router_statics.md
@action("DescribeRouterStatics", read_only=True)
def describe_router_statics(ctx: Ctx) -> Body:
    p = ctx.p
    rid, vxnet, kind = p.text("router"), p.text("vxnet"), p.number("static_type")

    def match(s: Record) -> bool:
        return ((rid is None or s["router_id"] == rid) and (vxnet is None or s["vxnet_id"] == vxnet)
                and (kind is None or s["static_type"] == kind))

    return listing(ctx, "router_static", "router_statics", "router_static_set",
                   id_field="router_static_id", name_field="router_static_name", match=match)


# content/network/vpc/api/vpc_api/modify_router_static_attributes.md
@action("ModifyRouterStaticAttributes")
def modify_router_static_attributes(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    sid = p.req("router_static")
    static = zone.get("router_static", sid)
    router = _idle_router(zone, static["router_id"])
    static.update(text_changes(ctx, ("router_static_name", *VALUES)))
    static["_applied"] = False
    zone.set(router, is_applied=0)
    return {"router_static_id": sid}


# content/network/vpc/api/vpc_api/delete_router_statics.md
@action("DeleteRouterStatics")
def delete_router_statics(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("router_statics")
    statics = [zone.get("router_static", s) for s in ids]
    for static in statics:
        _idle_router(zone, static["router_id"])
    for static in statics:
        zone.set(zone.get("router", static["router_id"]), is_applied=0)
        del zone.res["router_static"][static["router_static_id"]]
    return {"router_statics": ids}
