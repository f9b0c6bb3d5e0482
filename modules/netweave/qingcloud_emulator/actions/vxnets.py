"""Vxnets (QingCloud subnets) and joining them to a VPC router:
content/network/vpc/api/vxnet_api/*.md, content/network/vpc/api/vpc_api/{join,leave}_router.md."""

from __future__ import annotations

import ipaddress

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, text_changes, view
from .route_tables import bind_ops, default_table, unbind_ops
from .routers import active_router


def nics_in(zone: Zone, vxnet_id: str) -> list[Record]:
    return [n for n in zone.live("nic") if n["vxnet_id"] == vxnet_id]


def reserved(net: ipaddress.IPv4Network, addr: ipaddress.IPv4Address) -> bool:
    """content/network/vpc/quick-start/10_qs_net_plan.md: "每个私有网络中的第一个和最后三个IP地址为
    系统保留地址" (the first and the last three addresses of a vxnet are the system's)."""
    return addr == net.network_address or int(addr) >= int(net.broadcast_address) - 2


def network_of(vxnet: Record) -> ipaddress.IPv4Network | None:
    """The ip_network of a vxnet joined to a router (None while not joined)."""
    text = vxnet.get("_ip_network") if vxnet.get("_router_id") else None
    return ipaddress.IPv4Network(text) if text else None


def _claims(zone: Zone, router_id: str) -> list[tuple[str, ipaddress.IPv4Network]]:
    """Networks already joined to, or being joined to, a router."""
    out = []
    for v in zone.live("vxnet"):
        if router_id in (v.get("_router_id"), v.get("_joining_router")) and v.get("_ip_network"):
            out.append((v["vxnet_id"], ipaddress.IPv4Network(v["_ip_network"])))
    return out


@view("vxnet")
def vxnet_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    router = zone.find("router", rec["_router_id"], deleted=True) if rec.get("_router_id") else None
    out["vpc_router_id"] = rec.get("_router_id") or ""
    out["router"] = ({"router_id": rec["_router_id"], "router_name": router["router_name"] if router else "",
                      "manager_ip": rec["_manager_ip"], "ip_network": rec["_ip_network"],
                      "dyn_ip_start": rec["_dyn_ip_start"], "dyn_ip_end": rec["_dyn_ip_end"], "mode": 0}
                     if rec.get("_router_id") else {})
    out["tags"] = tags_of(zone, rec)
    if verbose:
        out["instance_ids"] = sorted({n["instance_id"] for n in nics_in(zone, rec["vxnet_id"])
                                      if n.get("instance_id")})
    return out


# content/network/vpc/api/vxnet_api/create_vxnets.md
@action("CreateVxnets")
def create_vxnets(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    vxnet_type = p.number("vxnet_type", 1)
    if vxnet_type not in (0, 1):
        raise bad(f"vxnet_type [{vxnet_type}] should be 0 (unmanaged) or 1 (managed)")
    count = p.number("count", 1) or 1
    if not 1 <= count <= 100:
        raise bad(f"count [{count}] should be between 1 and 100")
    ids = []
    for _ in range(count):
        vid = zone.new_id("vxnet")
        zone.add("vxnet", vid, {"vxnet_id": vid, "vxnet_name": p.text("vxnet_name", "") or "",
                                "vxnet_type": vxnet_type, "description": None})
        ids.append(vid)
    return {"vxnets": ids}


# content/network/vpc/api/vxnet_api/describe_vxnets.md
@action("DescribeVxnets", read_only=True)
def describe_vxnets(ctx: Ctx) -> Body:
    vxnet_type = ctx.p.number("vxnet_type")
    return listing(ctx, "vxnet", "vxnets", "vxnet_set", id_field="vxnet_id", name_field="vxnet_name",
                   match=(lambda v: v["vxnet_type"] == vxnet_type) if vxnet_type is not None else None)


def _address(text: str | None, field: str, net: ipaddress.IPv4Network,
             default: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    if text is None:
        return default
    try:
        addr = ipaddress.IPv4Address(text)
    except ValueError as exc:
        raise bad(f"{field} [{text}] is not an IPv4 address") from exc
    if addr not in net or reserved(net, addr):
        raise bad(f"{field} [{text}] is not a host address of ip_network [{net}] (the first and "
                  "the last three addresses are reserved)")
    return addr


# content/network/vpc/api/vpc_api/join_router.md
@action("JoinRouter")
def join_router(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    vid, rid = p.req("vxnet"), p.req("router")
    vxnet = zone.get("vxnet", vid)
    router = active_router(zone, rid)
    if vxnet["vxnet_type"] != 1:
        raise denied(f"vxnet [{vid}] is not a managed vxnet, only managed vxnets join a router")
    if vxnet.get("_router_id") or vxnet.get("_joining_router"):
        raise denied(f"vxnet [{vid}] has already joined router "
                     f"[{vxnet.get('_router_id') or vxnet.get('_joining_router')}]")
    text = p.req("ip_network")
    try:
        net = ipaddress.IPv4Network(text)
    except ValueError as exc:
        raise bad(f"ip_network [{text}] is not a network in CIDR format") from exc
    if not 16 <= net.prefixlen <= 29:
        raise bad(f"ip_network [{text}] should have a prefix length between /16 and /29")
    vpc = ipaddress.IPv4Network(router["vpc_network"])
    if not net.subnet_of(vpc):
        raise bad(f"ip_network [{text}] is outside the vpc_network [{vpc}] of router [{rid}]")
    for other, claimed in _claims(zone, rid):
        if net.overlaps(claimed):
            raise denied(f"ip_network [{text}] conflicts with [{claimed}] of vxnet [{other}] "
                         f"in router [{rid}]")
    hosts = net.num_addresses
    manager = _address(p.text("manager_ip"), "manager_ip", net, net.network_address + 1)
    dyn_start = _address(p.text("dyn_ip_start"), "dyn_ip_start", net, net.network_address + 2)
    dyn_end = _address(p.text("dyn_ip_end"), "dyn_ip_end", net, net.network_address + hosts - 4)
    if dyn_start > dyn_end:
        raise bad(f"dyn_ip_start [{dyn_start}] is after dyn_ip_end [{dyn_end}]")
    zone.set(vxnet, _joining_router=rid, _ip_network=str(net))
    joined = {"_router_id": rid, "_joining_router": None, "_manager_ip": str(manager),
              "_dyn_ip_start": str(dyn_start), "_dyn_ip_end": str(dyn_end),
              "_router_nic": zone.new_id("nic")}
    ok: list[list[object]] = [["set", "vxnet", vid, joined]]
    table = default_table(zone, rid)
    if table is not None:  # 01_route_description.md: later vxnets join the default table too
        ok += bind_ops(zone, table["rtable_id"], vid, str(net))
    job = zone.job("JoinRouter", [rid, vid], ok=ok,
                   fail=[["set", "vxnet", vid, {"_joining_router": None, "_ip_network": None}]])
    return {"router_id": rid, "vxnet_id": vid, "job_id": job}


# content/network/vpc/api/vpc_api/leave_router.md
@action("LeaveRouter")
def leave_router(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    rid = p.req("router")
    ids = p.req_list("vxnets")
    active_router(zone, rid)
    for vid in ids:
        vxnet = zone.get("vxnet", vid)
        if vxnet.get("_router_id") != rid:
            raise denied(f"vxnet [{vid}] has not joined router [{rid}]")
        users = nics_in(zone, vid)
        if users:
            raise denied(f"vxnet [{vid}] is still used by nics {[n['nic_id'] for n in users]}")
    left = {"_router_id": None, "_ip_network": None, "_manager_ip": None, "_dyn_ip_start": None,
            "_dyn_ip_end": None, "_router_nic": None}
    for vid in ids:
        zone.set(zone.get("vxnet", vid), _leaving=True)
    ok: list[list[object]] = [["set", "vxnet", v, {**left, "_leaving": False}] for v in ids]
    for vid in ids:  # a vxnet that leaves its VPC leaves the VPC's route table
        ok += unbind_ops(zone, vid)
    job = zone.job("LeaveRouter", [rid, *ids], ok=ok,
                   fail=[["set", "vxnet", v, {"_leaving": False}] for v in ids])
    return {"job_id": job}


# content/network/vpc/api/vxnet_api/modify_vxnet_attributes.md
@action("ModifyVxnetAttributes")
def modify_vxnet_attributes(ctx: Ctx) -> Body:
    vid = ctx.p.req("vxnet")
    vxnet = ctx.zone.get("vxnet", vid)
    ctx.zone.ensure_mutable(vxnet, vid)
    vxnet.update(text_changes(ctx, ("vxnet_name", "description")))
    return {"vxnet_id": vid}


# content/network/vpc/api/vxnet_api/delete_vxnets.md
@action("DeleteVxnets")
def delete_vxnets(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("vxnets")
    for vid in ids:
        vxnet = zone.get("vxnet", vid)
        zone.ensure_mutable(vxnet, vid)
        users = nics_in(zone, vid)
        if users:
            raise denied(f"vxnet [{vid}] is still used by nics {[n['nic_id'] for n in users]}")
        router = vxnet.get("_router_id") or vxnet.get("_joining_router")
        if router:
            raise denied(f"vxnet [{vid}] has joined router [{router}], it should leave the router first")
    for vid in ids:
        del zone.res["vxnet"][vid]
    return {"vxnets": ids}
