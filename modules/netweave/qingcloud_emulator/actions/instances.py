"""Instances (VMs) and their user data: content/development_docs/api/command_list/instance/*.md,
content/development_docs/api/command_list/userdata/upload_userdata_attachment.md.

User data is not cloud-init: ``plain``/``exec`` carry a base64 string of at most 4 KB,
``tar`` the id of an archive (at most 2 MB) uploaded with UploadUserDataAttachment."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import tarfile
import zipfile

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, text_changes, view
from .nics import allocate_ip, nics_of
from .routers import eip_of
from .security_groups import default_group
from .statics import DHCP_OPTION
from .vxnets import nics_in

USERDATA_MAX = 4 * 1024            # length of the base64 string of plain/exec user data
ATTACHMENT_MAX = 2 * 1024 * 1024   # size of a tar/zip attachment
INSTANCE_TYPES = {"c1m1": (1, 1024), "c1m2": (1, 2048), "c2m2": (2, 2048), "c2m4": (2, 4096),
                  "c4m8": (4, 8192), "small_b": (1, 1024), "small_c": (1, 2048),
                  "medium_a": (2, 2048), "medium_b": (2, 4096), "large_a": (4, 4096)}


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad(f"{field} is not valid base64") from exc


EXTENSIONS = {".zip": "zip", ".tar": "tar", ".tgz": "tgz", ".tar.gz": "tgz", ".tbz": "tbz",
              ".tbz2": "tbz", ".tar.bz2": "tbz"}


def archive_format(raw: bytes) -> str | None:
    """zip, tar, tgz or tbz (the four kinds upload_userdata_attachment.md accepts), from the
    bytes themselves; None for anything else."""
    if zipfile.is_zipfile(io.BytesIO(raw)):
        return "zip"
    for mode, kind in (("r:", "tar"), ("r:gz", "tgz"), ("r:bz2", "tbz")):
        try:
            with tarfile.open(fileobj=io.BytesIO(raw), mode=mode) as archive:  # type: ignore[call-overload]
                archive.getmembers()
            return kind
        except (tarfile.TarError, EOFError, OSError):
            continue
    return None


def named_format(name: str) -> str | None:
    """The kind an attachment_name's extension announces, None without a known extension."""
    lowered = name.lower()
    return next((kind for ext, kind in sorted(EXTENSIONS.items(), key=lambda e: -len(e[0]))
                 if lowered.endswith(ext)), None)


@view("instance")
def instance_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    vxnets = []
    for nic in nics_of(zone, rec["instance_id"]):
        vxnet = zone.find("vxnet", nic["vxnet_id"])
        vxnets.append({"vxnet_id": nic["vxnet_id"], "vxnet_name": vxnet["vxnet_name"] if vxnet else "",
                       "vxnet_type": vxnet["vxnet_type"] if vxnet else 1, "nic_id": nic["nic_id"],
                       "private_ip": nic["private_ip"], "role": nic["role"]})
    out["vxnets"] = vxnets
    eip = eip_of(zone, rec["instance_id"])
    out["eip"] = ({"eip_id": eip["eip_id"], "eip_addr": eip["eip_addr"], "bandwidth": eip["bandwidth"]}
                  if eip and eip["status"] == "associated" else {})
    out["tags"] = tags_of(zone, rec)
    if verbose:
        sg = zone.find("security_group", rec.get("_security_group_id") or "")
        out["security_group"] = ({"security_group_id": sg["security_group_id"],
                                  "is_default": sg["is_default"]} if sg else {})
        out["volume_ids"] = []
    return out


def _userdata(ctx: Ctx) -> Record:
    p, zone = ctx.p, ctx.zone
    if not p.number("need_userdata", 0):
        return {}
    kind = p.text("userdata_type")
    if kind not in ("plain", "exec", "tar"):
        raise bad(f"userdata_type [{kind}] should be plain, exec or tar")
    value = p.req("userdata_value")
    if kind == "tar":
        attachment = zone.get("attachment", value)
        return {"_userdata_type": kind, "_userdata_value": value, "_userdata_size": attachment["size"],
                "_userdata_sha256": attachment["sha256"]}
    if len(value) > USERDATA_MAX:
        raise bad(f"userdata_value is {len(value)} bytes of base64, the limit for userdata_type "
                  f"[{kind}] is {USERDATA_MAX} (4 KB); deliver larger boot files as a tar attachment")
    raw = _decode(value, "userdata_value")
    return {"_userdata_type": kind, "_userdata_value": value, "_userdata_size": len(raw),
            "_userdata_sha256": hashlib.sha256(raw).hexdigest(),
            "_userdata_path": p.text("userdata_path", "/etc/qingcloud/userdata"),
            "_userdata_file": p.text("userdata_file", "/etc/rc.local")}


# content/development_docs/api/command_list/userdata/upload_userdata_attachment.md
@action("UploadUserDataAttachment")
def upload_userdata_attachment(ctx: Ctx) -> Body:
    zone = ctx.zone
    raw = _decode(ctx.p.req("attachment_content"), "attachment_content")
    if len(raw) > ATTACHMENT_MAX:
        raise bad(f"attachment_content is {len(raw)} bytes, the limit of a userdata attachment is "
                  f"{ATTACHMENT_MAX} (2 MB)")
    kind = archive_format(raw)
    if kind is None:
        raise bad("attachment_content is not a zip, tar, tgz or tbz archive")
    # Whether QingCloud reads the name is not documented ("文件名称", optional; the Terraform
    # provider sends "userdata"). A name without an archive extension is accepted; a name
    # whose extension says another kind than the bytes is refused: one of them is wrong.
    name = ctx.p.text("attachment_name", "") or ""
    announced = named_format(name)
    if announced is not None and announced != kind:
        raise bad(f"attachment_name [{name}] says {announced} but attachment_content is a {kind} "
                  "archive: name the file for what it is")
    attachment_id = zone.new_id("uda")
    zone.add("attachment", attachment_id, {
        "attachment_id": attachment_id, "attachment_name": name,
        "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(), "_content": raw.hex()})
    return {"attachment_id": attachment_id}


# content/development_docs/api/command_list/instance/run_instances.md
@action("RunInstances")
def run_instances(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    image_id = p.req("image_id")
    login_mode = p.req("login_mode")
    if login_mode not in ("keypair", "passwd"):
        raise bad(f"login_mode [{login_mode}] should be keypair or passwd")
    if login_mode == "keypair" and not p.text("login_keypair"):
        raise bad("login_keypair is required when login_mode is keypair")
    if login_mode == "passwd" and not p.text("login_passwd"):
        raise bad("login_passwd is required when login_mode is passwd")
    instance_type = p.text("instance_type")
    cpu, memory = p.number("cpu"), p.number("memory")
    if cpu is None or memory is None:
        if instance_type is None:
            raise bad("give instance_type, or cpu and memory")
        if instance_type not in INSTANCE_TYPES:
            raise bad(f"instance_type [{instance_type}] is not one of {', '.join(sorted(INSTANCE_TYPES))}")
        cpu, memory = INSTANCE_TYPES[instance_type]
    count = p.number("count", 1) or 1
    if not 1 <= count <= 100:
        raise bad(f"count [{count}] should be between 1 and 100")
    wanted: list[tuple[Record, str | None]] = []
    for entry in p.many("vxnets"):
        vid, _, ip = entry.partition("|")
        vxnet = zone.get("vxnet", vid)
        if ip and count > 1:
            raise bad("a fixed private ip (vxnet-id|ip) needs count=1")
        wanted.append((vxnet, ip or None))
    sg_id = p.text("security_group") or default_group(zone)["security_group_id"]
    zone.get("security_group", sg_id)
    userdata = _userdata(ctx)
    taken: dict[str, set[str]] = {}
    placements = []
    for _ in range(count):
        placement = []
        for vxnet, fixed in wanted:
            used = taken.setdefault(vxnet["vxnet_id"], set())
            addr = allocate_ip(zone, vxnet, fixed, used)
            used.add(addr)
            placement.append((vxnet["vxnet_id"], addr))
        placements.append(placement)
    ids = []
    ok: list[list[object]] = []
    fail: list[list[object]] = []
    for placement in placements:
        iid = zone.new_id("i")
        zone.add("instance", iid, {
            "instance_id": iid, "instance_name": p.text("instance_name", "") or "", "description": None,
            "instance_type": instance_type or f"c{cpu}m{memory // 1024}", "vcpus_current": cpu,
            "memory_current": memory, "status": "pending", "transition_status": "creating",
            "hostname": p.text("hostname", "") or "", "sub_code": 0, "keypair_ids":
            [p.text("login_keypair")] if login_mode == "keypair" else [],
            "image": {"image_id": image_id, "image_name": image_id, "platform": "linux",
                      "processor_type": "64bit", "provider": "system", "os_family": "linux"},
            "_security_group_id": sg_id, **userdata})
        for seq, (vid, addr) in enumerate(placement):
            nic_id = zone.new_id("nic")
            zone.add("nic", nic_id, {"nic_id": nic_id, "nic_name": "", "vxnet_id": vid, "private_ip": addr,
                                     "status": "in-use", "instance_id": iid, "role": 1 if seq == 0 else 0,
                                     "sequence": seq, "security_group": "", "_owner": iid})
            fail.append(["remove", "nic", nic_id, {}])
        ok.append(["set", "instance", iid, {"status": "running", "transition_status": ""}])
        fail.append(["set", "instance", iid, {"status": "ceased", "transition_status": "", "_deleted": True}])
        ids.append(iid)
    return {"instances": ids, "job_id": zone.job("RunInstances", ids, ok=ok, fail=fail)}


# content/development_docs/api/command_list/instance/describe_instances.md
@action("DescribeInstances", read_only=True)
def describe_instances(ctx: Ctx) -> Body:
    images = set(ctx.p.many("image_id"))
    return listing(ctx, "instance", "instances", "instance_set", id_field="instance_id",
                   name_field="instance_name",
                   match=(lambda i: i["image"]["image_id"] in images) if images else None)


# content/development_docs/api/command_list/instance/terminate_instances.md
@action("TerminateInstances")
def terminate_instances(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("instances")
    for iid in ids:
        inst = zone.get("instance", iid)
        zone.ensure_mutable(inst, iid)
    ok: list[list[object]] = []
    for iid in ids:
        zone.set(zone.get("instance", iid), transition_status="terminating")
        ok.append(["set", "instance", iid,
                   {"status": "terminated", "transition_status": "", "_deleted": True}])
        for nic in nics_of(zone, iid):
            if nic.get("_owner") == iid:
                ok.append(["remove", "nic", nic["nic_id"], {}])
            else:  # extra NICs survive their VM, detached
                ok.append(["set", "nic", nic["nic_id"],
                           {"instance_id": "", "status": "available", "sequence": 0}])
        eip = eip_of(zone, iid)
        if eip is not None:
            ok.append(["set", "eip", eip["eip_id"], {"status": "available", "_resource_id": None,
                                                     "transition_status": ""}])
    fail = [["set", "instance", i, {"transition_status": ""}] for i in ids]
    return {"job_id": zone.job("TerminateInstances", ids, ok=ok, fail=fail)}


def _power(ctx: Ctx, action_name: str, need: str, transition: str, final: str) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("instances")
    for iid in ids:
        inst = zone.get("instance", iid)
        if inst.get("transition_status"):
            raise denied(f"instance [{iid}] is [{inst['transition_status']}] now, please try later")
        if inst["status"] != need:
            raise denied(f"instance [{iid}] is [{inst['status']}], it should be {need}")
    for iid in ids:
        zone.set(zone.get("instance", iid), transition_status=transition)
    ok = [["set", "instance", i, {"status": final, "transition_status": ""}] for i in ids]
    fail = [["set", "instance", i, {"transition_status": ""}] for i in ids]
    return {"job_id": zone.job(action_name, ids, ok=ok, fail=fail)}


# content/development_docs/api/command_list/instance/stop_instances.md
@action("StopInstances")
def stop_instances(ctx: Ctx) -> Body:
    return _power(ctx, "StopInstances", "running", "stopping", "stopped")


# content/development_docs/api/command_list/instance/start_instances.md
@action("StartInstances")
def start_instances(ctx: Ctx) -> Body:
    return _power(ctx, "StartInstances", "stopped", "starting", "running")


# content/development_docs/api/command_list/instance/modify_instance_attributes.md
@action("ModifyInstanceAttributes")
def modify_instance_attributes(ctx: Ctx) -> Body:
    iid = ctx.p.req("instance")
    inst = ctx.zone.get("instance", iid)
    inst.update(text_changes(ctx, ("instance_name", "description")))
    return {"instance_id": iid}


# content/network/vpc/api/vxnet_api/describe_vxnet_instances.md: the instances with a NIC in
# the vxnet, each with its private_ip there and dhcp_options (the DHCP option router static
# for this instance and vxnet: {"val2": ..., "router_static_id": ...}, {} without one).
@action("DescribeVxnetInstances", read_only=True)
def describe_vxnet_instances(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    vid = p.req("vxnet")
    zone.get("vxnet", vid)
    wanted = set(p.many("instances"))
    status, image, kind = p.text("status"), p.text("image"), p.text("instance_type")
    items = []
    for nic in sorted(nics_in(zone, vid), key=lambda n: n["private_ip"]):
        inst = zone.find("instance", nic.get("instance_id") or "")
        if inst is None or (wanted and inst["instance_id"] not in wanted) or \
                (status and inst["status"] != status) or (kind and inst["instance_type"] != kind) or \
                (image and inst["image"]["image_id"] != image):
            continue
        option = next((s for s in zone.live("router_static") if s["static_type"] == DHCP_OPTION
                       and s["val1"] == inst["instance_id"] and s["vxnet_id"] == vid), None)
        items.append({
            "vxnet_id": vid, "instance_id": inst["instance_id"], "instance_name": inst["instance_name"],
            "description": inst.get("description"), "instance_type": inst["instance_type"],
            "vcpus_current": inst["vcpus_current"], "memory_current": inst["memory_current"],
            "status": inst["status"], "transition_status": inst.get("transition_status", ""),
            "create_time": inst["create_time"], "status_time": inst["status_time"],
            "image_id": inst["image"]["image_id"], "private_ip": nic["private_ip"], "nic_id": nic["nic_id"],
            "sequence": nic.get("sequence", 0),
            "dhcp_options": ({"val2": option["val2"], "router_static_id": option["router_static_id"]}
                             if option else {})})
    offset = p.number("offset", 0) or 0
    limit = min(p.number("limit", 20) or 20, 100)
    return {"instance_set": items[offset:offset + limit], "total_count": len(items)}
