"""VPC networks (routers): content/network/vpc/api/vpc_api/*.md.

Where the pages disagree, the emulator follows the newer page and says so:

- ``router_type``: create_routers.md lists "0 - 中型，1 - 小型，2 - 大型，默认为 1". The FAQ
  (content/network/vpc/faq/vpc_ expansion.md) names a fourth size, 超大型 (250kpps), but no
  page gives its number (only qingcloud-api-specs and the SDKs say 3): refused.
- ``vpc_network``: create_routers.md still says "192.168.0.0/16 或 172.16.0.0/16"; the network
  planning guide content/network/vpc/quick-start/10_qs_net_plan.md (the page the console's
  current VPC guides point to, and the one that also gives the /16–/29 vxnet rule the
  console enforces) says "192.168.0.0/16、172.16.0.0/16-172.31.0.0/16这些网段及其子网". The
  emulator follows the planning guide: those ranges and their subnets down to /29 (the
  smallest vxnet, which a VPC must be able to hold).
"""

from __future__ import annotations

import ipaddress

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, text_changes, view
from .route_tables import create_default_table, remove_router_tables_ops
from .security_groups import default_group

VPC_RANGES = [ipaddress.ip_network("192.168.0.0/16")] + [
    ipaddress.ip_network(f"172.{n}.0.0/16") for n in range(16, 32)]
ROUTER_TYPES = (0, 1, 2)  # create_routers.md: 0 medium, 1 small (default), 2 large
SMALLEST_VXNET = 29       # 10_qs_net_plan.md: "子网掩码范围为16～29"


def vxnets_of(zone: Zone, router_id: str) -> list[Record]:
    return [v for v in zone.live("vxnet") if v.get("_router_id") == router_id]


def claimed_by(zone: Zone, router_id: str) -> list[Record]:
    """Vxnets joined to the router or on their way in (a JoinRouter job running)."""
    return [v for v in zone.live("vxnet") if router_id in (v.get("_router_id"), v.get("_joining_router"))]


def eip_of(zone: Zone, resource_id: str) -> Record | None:
    return next((e for e in zone.live("eip") if e.get("_resource_id") == resource_id), None)


def active_router(zone: Zone, router_id: str) -> Record:
    router = zone.get("router", router_id)
    if router.get("transition_status"):
        raise denied(f"router [{router_id}] is [{router['transition_status']}] now, please try later")
    if router["status"] != "active":
        raise denied(f"router [{router_id}] is [{router['status']}], it should be active")
    return router


@view("router")
def router_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    eip = eip_of(zone, rec["router_id"])
    out["eip"] = ({"eip_id": eip["eip_id"], "eip_name": eip.get("eip_name", ""),
                   "eip_addr": eip["eip_addr"]} if eip else {"eip_id": "", "eip_name": "", "eip_addr": ""})
    sg = zone.find("security_group", rec["security_group_id"])
    out["security_groups"] = ([{"group_id": sg["security_group_id"],
                                "group_name": sg["security_group_name"]}] if sg else [])
    out["tags"] = tags_of(zone, rec)
    if verbose:
        out["vxnets"] = [{"vxnet_id": v["vxnet_id"], "nic_id": v["_router_nic"]}
                         for v in vxnets_of(zone, rec["router_id"])]
    return out


# content/network/vpc/api/vpc_api/create_routers.md
@action("CreateRouters")
def create_routers(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    router_type = p.number("router_type", 1)
    if router_type not in ROUTER_TYPES:
        raise bad(f"router_type [{router_type}] should be 0 (medium), 1 (small) or 2 (large) "
                  "(create_routers.md; no page gives a number to the FAQ's 超大型)")
    vpc_text = p.text("vpc_network", "192.168.0.0/16") or ""
    try:
        vpc = ipaddress.ip_network(vpc_text)
    except ValueError as exc:
        raise bad(f"vpc_network [{vpc_text}] is not a network") from exc
    if not isinstance(vpc, ipaddress.IPv4Network) or vpc.prefixlen > SMALLEST_VXNET or \
            not any(vpc.subnet_of(r) for r in VPC_RANGES if isinstance(r, ipaddress.IPv4Network)):
        raise bad(f"vpc_network [{vpc_text}] should be 192.168.0.0/16, one of 172.16.0.0/16 - "
                  "172.31.0.0/16, or a subnet of them no smaller than /29 (10_qs_net_plan.md)")
    count = p.number("count", 1) or 1
    if not 1 <= count <= 10:
        raise bad(f"count [{count}] should be between 1 and 10")
    sg_id = p.text("security_group") or default_group(zone)["security_group_id"]
    zone.get("security_group", sg_id)
    ids = []
    for _ in range(count):
        rid = zone.new_id("rtr")
        host = zone.store.rng.randrange(2, 250)
        zone.add("router", rid, {
            "router_id": rid, "router_name": p.text("router_name", "") or "", "description": None,
            "router_type": router_type, "vpc_network": str(vpc), "status": "pending",
            "transition_status": "creating", "is_applied": 1,
            "private_ip": f"10.{140 + host % 10}.{host}.{zone.store.rng.randrange(2, 250)}",
            "security_group_id": sg_id, "mode": 0,
        })
        create_default_table(zone, rid)
        ids.append(rid)
    job = zone.job("CreateRouters", ids,
                   ok=[["set", "router", r, {"status": "active", "transition_status": ""}] for r in ids],
                   fail=[["set", "router", r, {"status": "ceased", "transition_status": "", "_deleted": True}]
                         for r in ids])
    return {"routers": ids, "job_id": job}


# content/network/vpc/api/vpc_api/describe_routers.md
@action("DescribeRouters", read_only=True)
def describe_routers(ctx: Ctx) -> Body:
    vxnet = ctx.p.text("vxnet")
    match = None
    if vxnet:
        owner = (ctx.zone.find("vxnet", vxnet) or {}).get("_router_id")
        match = (lambda r: r["router_id"] == owner)  # noqa: E731
    return listing(ctx, "router", "routers", "router_set", id_field="router_id",
                   name_field="router_name", match=match)


# content/network/vpc/api/vpc_api/update_routers.md
@action("UpdateRouters")
def update_routers(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("routers")
    for rid in ids:
        active_router(zone, rid)
    for rid in ids:
        zone.set(zone.get("router", rid), transition_status="updating")
    ok: list[list[object]] = [["set", "router", r, {"transition_status": "", "is_applied": 1}] for r in ids]
    for static in zone.live("router_static"):
        if static["router_id"] in ids:
            ok.append(["set", "router_static", static["router_static_id"], {"_applied": True}])
    fail = [["set", "router", r, {"transition_status": ""}] for r in ids]
    return {"job_id": zone.job("UpdateRouters", ids, ok=ok, fail=fail)}


# content/network/vpc/api/vpc_api/modify_router_attributes.md
@action("ModifyRouterAttributes")
def modify_router_attributes(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rid = p.req("router")
    router = zone.get("router", rid)
    zone.ensure_mutable(router, rid)
    changes = text_changes(ctx, ("router_name", "description"))
    sg_id = p.text("security_group")
    if sg_id is not None:  # takes effect with ApplySecurityGroup, not UpdateRouters
        zone.get("security_group", sg_id)
        changes["security_group_id"] = sg_id
    if "eip" in p.raw:
        eip_id = p.raw["eip"]
        old = eip_of(zone, rid)
        eip = zone.get("eip", eip_id) if eip_id else None  # "" unbinds the router's EIP
        if eip is not None and eip.get("_resource_id") not in (None, rid):
            raise denied(f"eip [{eip_id}] is already associated with [{eip['_resource_id']}]")
        if eip is not None:
            zone.ensure_mutable(eip, eip_id)
        if old is not None and old is not eip:
            zone.set(old, status="available", _resource_id=None)
        if eip is not None:
            zone.set(eip, status="associated", _resource_id=rid, _resource_type="router")
        changes["is_applied"] = 0
    zone.set(router, **changes)
    return {}


# content/network/vpc/api/vpc_api/delete_routers.md
@action("DeleteRouters")
def delete_routers(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("routers")
    for rid in ids:
        router = zone.get("router", rid)
        zone.ensure_mutable(router, rid)
        joined = claimed_by(zone, rid)
        if joined:
            raise denied(f"router [{rid}] still has vxnets {[v['vxnet_id'] for v in joined]} joined, "
                         "they should leave the router first")
    ok: list[list[object]] = []
    for rid in ids:
        zone.set(zone.get("router", rid), transition_status="deleting")
        ok.append(["set", "router", rid, {"status": "deleted", "transition_status": "", "_deleted": True}])
        eip = eip_of(zone, rid)
        if eip is not None:
            ok.append(["set", "eip", eip["eip_id"], {"status": "available", "_resource_id": None}])
        ok += [["remove", "router_static", s["router_static_id"], {}]
               for s in zone.live("router_static") if s["router_id"] == rid]
        ok += remove_router_tables_ops(zone, rid)
    fail = [["set", "router", r, {"transition_status": ""}] for r in ids]
    return {"routers": ids, "job_id": zone.job("DeleteRouters", ids, ok=ok, fail=fail)}
