"""Security groups: content/development_docs/api/command_list/sg/*.md. Rules take effect
only after ApplySecurityGroup (is_applied 0 -> 1)."""

from __future__ import annotations

from ..errors import bad, denied
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, tags_of, text_changes, view

PROTOCOLS = ("tcp", "udp", "icmp", "gre", "esp", "ah", "ipip", "")


def default_group(zone: Zone) -> Record:
    """Every zone has one default security group; it is not a user resource."""
    found = next((g for g in zone.live("security_group") if g.get("is_default")), None)
    if found is not None:
        return found
    sg_id = zone.new_id("sg")
    rec = zone.add("security_group", sg_id, {
        "security_group_id": sg_id, "security_group_name": "default security group",
        "description": None, "is_applied": 1, "is_default": 1, "_builtin": True})
    rec["_lease_until"] = 0.0
    return rec


def users_of(zone: Zone, sg_id: str) -> list[str]:
    users = [i["instance_id"] for i in zone.live("instance") if i.get("_security_group_id") == sg_id]
    users += [r["router_id"] for r in zone.live("router") if r.get("security_group_id") == sg_id]
    return users


@view("security_group")
def security_group_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    out["tags"] = tags_of(zone, rec)
    if verbose:
        out["resources"] = [{"resource_id": r} for r in users_of(zone, rec["security_group_id"])]
    return out


@view("security_group_rule")
def rule_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    return public(rec)


# content/development_docs/api/command_list/sg/create_security_group.md
@action("CreateSecurityGroup")
def create_security_group(ctx: Ctx) -> Body:
    zone = ctx.zone
    default_group(zone)
    sg_id = zone.new_id("sg")
    zone.add("security_group", sg_id, {
        "security_group_id": sg_id, "security_group_name": ctx.p.text("security_group_name", "") or "",
        "description": None, "is_applied": 0, "is_default": 0})
    return {"security_group_id": sg_id}


# content/development_docs/api/command_list/sg/describe_security_groups.md
@action("DescribeSecurityGroups", read_only=True)
def describe_security_groups(ctx: Ctx) -> Body:
    name = ctx.p.text("security_group_name")
    return listing(ctx, "security_group", "security_groups", "security_group_set",
                   id_field="security_group_id", name_field="security_group_name",
                   match=(lambda g: g["security_group_name"] == name) if name else None)


# content/development_docs/api/command_list/sg/add_security_group_rules.md
@action("AddSecurityGroupRules")
def add_security_group_rules(ctx: Ctx) -> Body:
    zone = ctx.zone
    sg_id = ctx.p.req("security_group")
    sg = zone.get("security_group", sg_id)
    rules = ctx.p.dicts("rules")
    if not rules:
        raise bad("parameter [rules.n] should not be empty")
    for rule in rules:
        if rule.get("protocol", "") not in PROTOCOLS:
            raise bad(f"protocol [{rule.get('protocol')}] should be one of {', '.join(PROTOCOLS[:-1])}")
        if "priority" not in rule or not rule["priority"].isdigit() or int(rule["priority"]) > 100:
            raise bad("rules.n.priority should be an integer between 0 and 100")
        if rule.get("action", "accept") not in ("accept", "drop"):
            raise bad(f"action [{rule.get('action')}] should be accept or drop")
    ids = []
    for rule in rules:
        rule_id = zone.new_id("sgr")
        zone.add("security_group_rule", rule_id, {
            "security_group_rule_id": rule_id, "security_group_id": sg_id,
            "security_group_rule_name": rule.get("security_group_rule_name", ""),
            "protocol": rule.get("protocol", ""), "priority": int(rule["priority"]),
            "action": rule.get("action", "accept"), "direction": int(rule.get("direction", "0") or 0),
            "val1": rule.get("val1", ""), "val2": rule.get("val2", ""), "val3": rule.get("val3", ""),
            "disabled": 0})
        ids.append(rule_id)
    zone.set(sg, is_applied=0)
    return {"security_group_rules": ids}


# content/development_docs/api/command_list/sg/describe_security_group_rules.md
@action("DescribeSecurityGroupRules", read_only=True)
def describe_security_group_rules(ctx: Ctx) -> Body:
    sg_id = ctx.p.text("security_group")
    direction = ctx.p.number("direction")

    def match(rule: Record) -> bool:
        return ((sg_id is None or rule["security_group_id"] == sg_id) and
                (direction is None or rule["direction"] == direction))

    return listing(ctx, "security_group_rule", "security_group_rules", "security_group_rule_set",
                   id_field="security_group_rule_id", match=match)


# content/development_docs/api/command_list/sg/delete_security_group_rules.md
@action("DeleteSecurityGroupRules")
def delete_security_group_rules(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("security_group_rules")
    rules = [zone.get("security_group_rule", r) for r in ids]
    for rule in rules:
        sg = zone.find("security_group", rule["security_group_id"])
        if sg is not None:
            zone.set(sg, is_applied=0)
        del zone.res["security_group_rule"][rule["security_group_rule_id"]]
    return {"security_group_rules": ids}


# content/development_docs/api/command_list/sg/apply_security_group.md
@action("ApplySecurityGroup")
def apply_security_group(ctx: Ctx) -> Body:
    zone = ctx.zone
    sg_id = ctx.p.req("security_group")
    zone.get("security_group", sg_id)
    instances = ctx.p.many("instances")
    for iid in instances:
        inst = zone.get("instance", iid)
        if inst.get("transition_status"):
            raise denied(f"instance [{iid}] is [{inst['transition_status']}] now, please try later")
    ok: list[list[object]] = [["set", "security_group", sg_id, {"is_applied": 1}]]
    ok += [["set", "instance", i, {"_security_group_id": sg_id}] for i in instances]
    return {"job_id": zone.job("ApplySecurityGroup", [sg_id, *instances], ok=ok, fail=[])}


# content/development_docs/api/command_list/sg/delete_security_groups.md
@action("DeleteSecurityGroups")
def delete_security_groups(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("security_groups")
    for sg_id in ids:
        sg = zone.get("security_group", sg_id)
        if sg.get("is_default"):
            raise denied(f"security group [{sg_id}] is the default security group")
        zone.ensure_mutable(sg, sg_id)
        users = users_of(zone, sg_id)
        if users:
            raise denied(f"security group [{sg_id}] is still used by {users}")
    for sg_id in ids:
        del zone.res["security_group"][sg_id]
        for rule in list(zone.live("security_group_rule")):
            if rule["security_group_id"] == sg_id:
                del zone.res["security_group_rule"][rule["security_group_rule_id"]]
    return {"security_groups": ids}


# content/development_docs/api/command_list/sg/modify_security_group_attributes.md
@action("ModifySecurityGroupAttributes")
def modify_security_group_attributes(ctx: Ctx) -> Body:
    sg_id = ctx.p.req("security_group")
    sg = ctx.zone.get("security_group", sg_id)
    sg.update(text_changes(ctx, ("security_group_name", "description")))
    return {"security_group_id": sg_id}
