"""VPC router statics (port forwards, VPN, DHCP options, tunnels...):
content/network/vpc/api/vpc_api/*router_static*.md. Changes leave the router with
is_applied=0 until UpdateRouters.

Each static type may register a checker in ``CHECKS`` (``checks(static_type)``): it sees the
router, the static and the request's top-level ``vxnet`` and raises ApiError for what the
docs do not allow or do not settle. Types without one are stored as given.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from netweave.providers.qingcloud import dhcp_routes

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, text_changes, view
from .nics import nics_of

STATIC_TYPES = (1, 2, 3, 4, 6, 7, 8)  # 5 (filter control) is not supported in a VPC
VALUES = ("val1", "val2", "val3", "val4", "val5", "val6")
DHCP_OPTION = 3

Check = Callable[[Zone, Record, dict[str, str], str], None]
CHECKS: dict[int, Check] = {}


def checks(static_type: int) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[static_type] = fn
        return fn
    return register


def _ipv4(text: str, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise bad(f"{what} [{text}] is not an IPv4 address") from None


def _dhcp_items(zone: Zone, val2: str, vxnet: Record) -> None:
    """val2 of a DHCP option: "key1=value1;key2=value2" (add_router_statics.md). The keys the
    docs show are accepted as shown; the route key only in the exact form netweave's one
    assumption writes (providers/qingcloud/dhcp_routes.py); any other key is refused: what
    QingCloud does with it is not documented."""
    seen: set[str] = set()
    for item in val2.split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise bad(f"val2 item [{item}] is not key=value (add_router_statics.md: key1=value1;key2=value2)")
        if key in seen:
            raise bad(f"val2 sets [{key}] twice")
        seen.add(key)
        if key == "domain-name-servers":  # doc example: domain-name-servers=8.8.8.8
            _ipv4(value, "domain-name-servers")
        elif key == "fixed-address":      # doc example: fixed-address=192.168.1.2
            addr = _ipv4(value, "fixed-address")
            net = vxnet.get("_ip_network")
            if not net or addr not in ipaddress.IPv4Network(net):
                raise bad(f"fixed-address [{value}] is outside vxnet [{vxnet['vxnet_id']}]")
        elif key == dhcp_routes.ROUTE_KEY:
            try:
                dhcp_routes.decode(item)
            except ValueError as exc:
                raise bad(f"val2 item [{item}]: {exc}") from None
        else:
            raise bad(f"val2 key [{key}] is not documented (add_router_statics.md shows "
                      "domain-name-servers and fixed-address); the emulator refuses what it "
                      f"cannot know, and accepts {dhcp_routes.ROUTE_KEY} only as netweave writes it")


@checks(DHCP_OPTION)
def _dhcp_option(zone: Zone, router: Record, static: dict[str, str], vxnet_id: str) -> None:
    """add_router_statics.md: "DHCP 选项：val1 表示 DHCP 云服务器ID", val2 the settings; the
    top-level vxnet is "Yes only in VPC" (every emulated router is a VPC), and the VPC is the
    DHCP server of the vxnets that joined it (join_router.md)."""
    if not vxnet_id:
        raise bad("parameter [vxnet] should not be empty: a DHCP option of a VPC names its vxnet")
    vxnet = zone.get("vxnet", vxnet_id)
    if vxnet.get("_router_id") != router["router_id"]:
        raise denied(f"vxnet [{vxnet_id}] has not joined router [{router['router_id']}]")
    instance_id = static.get("val1", "")
    zone.get("instance", instance_id)
    if not any(n["vxnet_id"] == vxnet_id for n in nics_of(zone, instance_id)):
        raise denied(f"instance [{instance_id}] has no NIC in vxnet [{vxnet_id}]")
    if not static.get("val2"):
        raise bad("statics.n.val2 should not be empty for a DHCP option")
    _dhcp_items(zone, static["val2"], vxnet)
    for other in zone.live("router_static"):
        if (other["static_type"], other["val1"], other["vxnet_id"]) == (DHCP_OPTION, instance_id, vxnet_id):
            # how two DHCP options of one instance combine is not documented
            raise denied(f"instance [{instance_id}] already has DHCP option "
                         f"[{other['router_static_id']}] in vxnet [{vxnet_id}]; change or delete it")


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
        check = CHECKS.get(int(kind))
        if check is not None:
            check(zone, router, static, vxnet)
    if len({s.get("val1") for s in statics if s.get("static_type") == str(DHCP_OPTION)}) < \
            sum(1 for s in statics if s.get("static_type") == str(DHCP_OPTION)):
        raise denied("two DHCP options for one instance in one request")
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
    if static["static_type"] == DHCP_OPTION and any(k in p.raw or f"statics.1.{k}" in p.raw for k in VALUES):
        # the page names the values statics.n.valN in its table and valN in its example
        raise denied("the emulator does not modify the values of a DHCP option "
                     "(modify_router_static_attributes.md names them two ways): delete and add it")
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
