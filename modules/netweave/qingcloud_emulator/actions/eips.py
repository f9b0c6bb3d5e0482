"""Elastic (public) IPs: content/development_docs/api/command_list/eip/*.md. Emulated
addresses come from 198.19.0.0/16 (benchmarking range, never a real host)."""

from __future__ import annotations

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, text_changes, view
from .routers import eip_of


@view("eip")
def eip_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    rid = rec.get("_resource_id")
    if rid:
        kind = rec.get("_resource_type", "instance")
        owner = zone.find(kind, rid, deleted=True) or {}
        out["resource"] = {"resource_id": rid, "resource_type": kind,
                           "resource_name": owner.get(f"{kind}_name", "")}
    else:
        out["resource"] = {}
    out["tags"] = tags_of(zone, rec)
    return out


def _new_address(zone: Zone) -> str:
    used = {e["eip_addr"] for e in zone.res["eip"].values()}
    while True:
        addr = f"198.19.{zone.store.rng.randrange(0, 256)}.{zone.store.rng.randrange(1, 255)}"
        if addr not in used:
            return addr


# content/development_docs/api/command_list/eip/allocate_eips.md
@action("AllocateEips")
def allocate_eips(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    bandwidth = p.number("bandwidth", required=True) or 0
    if not 1 <= bandwidth <= 1000:
        raise bad(f"bandwidth [{bandwidth}] should be between 1 and 1000 Mbps")
    billing_mode = p.text("billing_mode", "bandwidth")
    if billing_mode not in ("bandwidth", "traffic"):
        raise bad(f"billing_mode [{billing_mode}] should be bandwidth or traffic")
    count = p.number("count", 1) or 1
    if not 1 <= count <= 100:
        raise bad(f"count [{count}] should be between 1 and 100")
    ids = []
    for _ in range(count):
        eid = zone.new_id("eip")
        zone.add("eip", eid, {
            "eip_id": eid, "eip_name": p.text("eip_name", "") or "", "description": None,
            "eip_addr": _new_address(zone), "bandwidth": bandwidth, "billing_mode": billing_mode,
            "status": "available", "transition_status": "", "associate_mode": 0, "need_icp": 0,
            "icp_codes": "", "sub_code": 0,
            "eip_group": {"eip_group_id": "eipg-00000000", "eip_group_name": "BGP multi-line"}})
        ids.append(eid)
    return {"eips": ids}


# content/development_docs/api/command_list/eip/describe_eips.md
@action("DescribeEips", read_only=True)
def describe_eips(ctx: Ctx) -> Body:
    instance = ctx.p.text("instance_id")
    return listing(ctx, "eip", "eips", "eip_set", id_field="eip_id", name_field="eip_name",
                   match=(lambda e: e.get("_resource_id") == instance) if instance else None)


# content/development_docs/api/command_list/eip/associate_eip.md
@action("AssociateEip")
def associate_eip(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    eid, iid = p.req("eip"), p.req("instance")
    eip = zone.get("eip", eid)
    zone.ensure_mutable(eip, eid)
    if eip["status"] != "available" or eip.get("_resource_id"):
        raise denied(f"eip [{eid}] is [{eip['status']}] with [{eip.get('_resource_id')}], "
                     "it should be available")
    inst = zone.get("instance", iid)
    if inst.get("transition_status"):
        raise denied(f"instance [{iid}] is [{inst['transition_status']}] now, please try later")
    if inst["status"] not in ("running", "stopped"):
        raise denied(f"instance [{iid}] is [{inst['status']}], it should be running or stopped")
    if eip_of(zone, iid) is not None:
        raise denied(f"instance [{iid}] already has an eip")
    zone.set(eip, transition_status="associating", _resource_id=iid, _resource_type="instance")
    job = zone.job("AssociateEip", [eid, iid],
                   ok=[["set", "eip", eid, {"status": "associated", "transition_status": ""}]],
                   fail=[["set", "eip", eid, {"transition_status": "", "_resource_id": None}]])
    return {"job_id": job}


# content/development_docs/api/command_list/eip/dissociate_eips.md
@action("DissociateEips")
def dissociate_eips(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("eips")
    for eid in ids:
        eip = zone.get("eip", eid)
        zone.ensure_mutable(eip, eid)
        if eip["status"] != "associated":
            raise denied(f"eip [{eid}] is [{eip['status']}], it is not associated")
    ok: list[list[object]] = []
    for eid in ids:
        eip = zone.get("eip", eid)
        if eip.get("_resource_type") == "router":
            router = zone.find("router", eip["_resource_id"])
            if router is not None:
                zone.set(router, is_applied=0)
        zone.set(eip, transition_status="dissociating")
        ok.append(["set", "eip", eid, {"status": "available", "transition_status": "", "_resource_id": None}])
    fail = [["set", "eip", e, {"transition_status": ""}] for e in ids]
    return {"job_id": zone.job("DissociateEips", ids, ok=ok, fail=fail)}


# content/development_docs/api/command_list/eip/release_eips.md
@action("ReleaseEips")
def release_eips(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("eips")
    for eid in ids:
        eip = zone.get("eip", eid)
        zone.ensure_mutable(eip, eid)
        if eip["status"] == "associated" or eip.get("_resource_id"):
            raise denied(f"eip [{eid}] is associated with [{eip.get('_resource_id')}], dissociate it first")
    for eid in ids:
        zone.set(zone.get("eip", eid), transition_status="releasing")
    ok = [["set", "eip", e, {"status": "released", "transition_status": "", "_deleted": True}] for e in ids]
    fail = [["set", "eip", e, {"transition_status": ""}] for e in ids]
    return {"job_id": zone.job("ReleaseEips", ids, ok=ok, fail=fail)}


# content/development_docs/api/command_list/eip/modify_eip_attributes.md
@action("ModifyEipAttributes")
def modify_eip_attributes(ctx: Ctx) -> Body:
    eid = ctx.p.req("eip")
    eip = ctx.zone.get("eip", eid)
    eip.update(text_changes(ctx, ("eip_name", "description")))
    return {"eip_id": eid}


# content/development_docs/api/command_list/eip/change_eips_bandwidth.md
@action("ChangeEipsBandwidth")
def change_eips_bandwidth(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("eips")
    bandwidth = ctx.p.number("bandwidth", required=True) or 0
    if not 1 <= bandwidth <= 1000:
        raise bad(f"bandwidth [{bandwidth}] should be between 1 and 1000 Mbps")
    for eid in ids:
        zone.ensure_mutable(zone.get("eip", eid), eid)
    ok = [["set", "eip", e, {"bandwidth": bandwidth}] for e in ids]
    return {"job_id": zone.job("ChangeEipsBandwidth", ids, ok=ok, fail=[])}
