"""NICs (network interfaces; the id is a MAC address): content/development_docs/api/command_list/nic/*.md."""

from __future__ import annotations

import ipaddress

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, view
from .vxnets import network_of, nics_in, reserved

MAX_NICS_PER_INSTANCE = 64


def allocate_ip(zone: Zone, vxnet: Record, wanted: str | None, taken: set[str] | None = None) -> str:
    """A free private address of a vxnet: ``wanted`` if it is one, else the first free one
    of the DHCP range."""
    net = network_of(vxnet)
    if net is None:
        raise denied(f"vxnet [{vxnet['vxnet_id']}] has not joined a router, it has no ip_network yet")
    used = {n["private_ip"] for n in nics_in(zone, vxnet["vxnet_id"])} | set(taken or ())
    used.add(vxnet["_manager_ip"])
    if wanted is not None:
        try:
            addr = ipaddress.IPv4Address(wanted)
        except ValueError as exc:
            raise bad(f"private ip [{wanted}] is not an IPv4 address") from exc
        if addr not in net or reserved(net, addr):
            raise bad(f"private ip [{wanted}] is not a host address of vxnet "
                      f"[{vxnet['vxnet_id']}] ({net}; the first and the last three are reserved)")
        if wanted in used:
            raise denied(f"private ip [{wanted}] is already in use in vxnet [{vxnet['vxnet_id']}]")
        return wanted
    first = int(ipaddress.IPv4Address(vxnet["_dyn_ip_start"]))
    last = int(ipaddress.IPv4Address(vxnet["_dyn_ip_end"]))
    for value in range(first, last + 1):
        candidate = str(ipaddress.IPv4Address(value))
        if candidate not in used:
            return candidate
    raise denied(f"no free private ip left in vxnet [{vxnet['vxnet_id']}]")


def nics_of(zone: Zone, instance_id: str) -> list[Record]:
    return sorted((n for n in zone.live("nic") if n.get("instance_id") == instance_id),
                  key=lambda n: n.get("sequence", 0))


@view("nic")
def nic_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    vxnet = zone.find("vxnet", rec["vxnet_id"])
    out["vxnet_type"] = vxnet["vxnet_type"] if vxnet else 1
    out["tags"] = tags_of(zone, rec)
    return out


def _usable(zone: Zone, nic_id: str) -> Record:
    nic = zone.get("nic", nic_id)
    if nic.get("_busy"):
        raise denied(f"nic [{nic_id}] is being {nic['_busy']} now, please try later")
    return nic


# content/development_docs/api/command_list/nic/create_nics.md
@action("CreateNics")
def create_nics(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    vxnet = zone.get("vxnet", p.req("vxnet"))
    ips = p.many("private_ips")
    count = p.number("count", len(ips) or 1) or 1
    if not 1 <= count <= 252:
        raise bad(f"count [{count}] should be between 1 and 252")
    if ips and len(ips) != count:
        raise bad(f"{len(ips)} private_ips given for count [{count}]")
    taken: set[str] = set()
    addresses = []
    for i in range(count):
        addr = allocate_ip(zone, vxnet, ips[i] if ips else None, taken)
        if addr in taken:
            raise denied(f"private ip [{addr}] is given twice")
        taken.add(addr)
        addresses.append(addr)
    out = []
    for addr in addresses:
        nic_id = zone.new_id("nic")
        zone.add("nic", nic_id, {"nic_id": nic_id, "nic_name": p.text("nic_name", "") or "",
                                 "vxnet_id": vxnet["vxnet_id"], "private_ip": addr, "status": "available",
                                 "instance_id": "", "role": 0, "sequence": 0, "security_group": ""})
        out.append({"nic_id": nic_id, "private_ip": addr})
    return {"nics": out}


# content/development_docs/api/command_list/nic/describe_nics.md
@action("DescribeNics", read_only=True)
def describe_nics(ctx: Ctx) -> Body:
    vxnets = set(ctx.p.many("vxnets"))
    name = ctx.p.text("nic_name")
    instances = set(ctx.p.many("instances"))

    def match(nic: Record) -> bool:
        return ((not vxnets or nic["vxnet_id"] in vxnets) and (name is None or nic["nic_name"] == name)
                and (not instances or nic["instance_id"] in instances))

    return listing(ctx, "nic", "nics", "nic_set", id_field="nic_id", name_field="nic_name", match=match)


# content/development_docs/api/command_list/nic/attach_nics.md
@action("AttachNics")
def attach_nics(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    ids = p.req_list("nics")
    iid = p.req("instance")
    instance = zone.get("instance", iid)
    if instance.get("transition_status"):
        raise denied(f"instance [{iid}] is [{instance['transition_status']}] now, please try later")
    if instance["status"] != "running":
        raise denied(f"instance [{iid}] is [{instance['status']}], nics attach only to a running instance")
    for nic_id in ids:
        nic = _usable(zone, nic_id)
        if nic["status"] != "available":
            raise denied(f"nic [{nic_id}] is already attached to [{nic['instance_id']}]")
    present = nics_of(zone, iid)
    pending = sum(1 for n in zone.live("nic") if n.get("_attaching") == iid)
    if len(present) + pending + len(ids) > MAX_NICS_PER_INSTANCE:
        raise denied(f"instance [{iid}] would have more than {MAX_NICS_PER_INSTANCE} nics")
    next_seq = max((n.get("sequence", 0) for n in present), default=-1) + 1 + pending
    ok = []
    for offset, nic_id in enumerate(ids):
        zone.set(zone.get("nic", nic_id), _busy="attached", _attaching=iid)
        ok.append(["set", "nic", nic_id, {"instance_id": iid, "status": "in-use", "_busy": None,
                                          "_attaching": None, "sequence": next_seq + offset}])
    fail = [["set", "nic", n, {"_busy": None, "_attaching": None}] for n in ids]
    return {"job_id": zone.job("AttachNics", [*ids, iid], ok=ok, fail=fail)}


# content/development_docs/api/command_list/nic/detach_nics.md
@action("DetachNics")
def detach_nics(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("nics")
    for nic_id in ids:
        nic = _usable(zone, nic_id)
        if nic["status"] != "in-use":
            raise denied(f"nic [{nic_id}] is not attached to an instance")
        if nic.get("role") == 1:
            raise denied(f"nic [{nic_id}] is the primary nic of [{nic['instance_id']}], "
                         "it cannot be detached")
        instance = zone.find("instance", nic["instance_id"])
        if instance is not None and instance.get("transition_status"):
            raise denied(f"instance [{nic['instance_id']}] is [{instance['transition_status']}] now, "
                         "please try later")
    for nic_id in ids:
        zone.set(zone.get("nic", nic_id), _busy="detached")
    ok = [["set", "nic", n, {"instance_id": "", "status": "available", "_busy": None, "sequence": 0}]
          for n in ids]
    fail = [["set", "nic", n, {"_busy": None}] for n in ids]
    return {"job_id": zone.job("DetachNics", ids, ok=ok, fail=fail)}


# content/development_docs/api/command_list/nic/modify-nic-attributes.md
@action("ModifyNicAttributes")
def modify_nic_attributes(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    nic_id = p.req("nic")
    nic = _usable(zone, nic_id)
    zone.ensure_mutable(nic, nic_id)
    name = p.text("nic_name")
    wanted = p.text("private_ip")
    if wanted is not None and wanted != nic["private_ip"]:
        if nic["status"] != "available":
            raise denied(f"nic [{nic_id}] is attached to [{nic['instance_id']}], detach it before "
                         "changing its private ip")
        vxnet = zone.get("vxnet", nic["vxnet_id"])
        nic["private_ip"] = allocate_ip(zone, vxnet, wanted)
    if name is not None:
        nic["nic_name"] = name
    return {"nic_id": nic_id}


# content/development_docs/api/command_list/nic/delete_nics.md
@action("DeleteNics")
def delete_nics(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("nics")
    for nic_id in ids:
        nic = _usable(zone, nic_id)
        zone.ensure_mutable(nic, nic_id)
        if nic["status"] != "available":
            raise denied(f"nic [{nic_id}] is attached to [{nic['instance_id']}], detach it before deleting")
    for nic_id in ids:
        del zone.res["nic"][nic_id]
    return {"nics": ids}
