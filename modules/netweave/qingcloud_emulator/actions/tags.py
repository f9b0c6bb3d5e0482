"""Tags: content/development_docs/api/command_list/tag/*.md. Providers tag what they create
so that a create interrupted after the cloud accepted it is found again, not duplicated."""

from __future__ import annotations

from ..errors import bad
from ..store import Record, Zone
from . import Body, Ctx, action, listing, public, text_changes, view

# resource_type in resource_tag_pairs -> our kind
TAGGABLE = {"instance": "instance", "vxnet": "vxnet", "router": "router", "eip": "eip",
            "security_group": "security_group", "nic": "nic", "routing_table": "routing_table"}


def _tagged(zone: Zone, tag_id: str) -> list[tuple[str, str]]:
    return [(kind, rid) for kind in TAGGABLE.values() for rid, rec in zone.res[kind].items()
            if not rec.get("_deleted") and tag_id in rec.get("_tags", [])]


@view("tag")
def tag_view(zone: Zone, rec: Record, verbose: bool) -> Record:
    out = public(rec)
    pairs = _tagged(zone, rec["tag_id"])
    out["resource_count"] = len(pairs)
    counts: dict[str, int] = {}
    for kind, _ in pairs:
        counts[kind] = counts.get(kind, 0) + 1
    out["resource_type_count"] = [{"resource_type": k, "count": n} for k, n in sorted(counts.items())]
    if verbose:
        out["resource_tag_pairs"] = [{"tag_id": rec["tag_id"], "resource_type": k, "resource_id": r}
                                     for k, r in pairs]
    return out


# content/development_docs/api/command_list/tag/create_tag.md
@action("CreateTag")
def create_tag(ctx: Ctx) -> Body:
    zone = ctx.zone
    tag_id = zone.new_id("tag")
    zone.add("tag", tag_id, {"tag_id": tag_id, "tag_name": ctx.p.req("tag_name"),
                             "description": ctx.p.text("description", "") or "",
                             "color": ctx.p.text("color", "#9f9bb7") or ""})
    return {"tag_id": tag_id}


# content/development_docs/api/command_list/tag/describe_tags.md
@action("DescribeTags", read_only=True)
def describe_tags(ctx: Ctx) -> Body:
    name = ctx.p.text("tag_name")
    return listing(ctx, "tag", "tags", "tag_set", id_field="tag_id", name_field="tag_name",
                   match=(lambda t: t["tag_name"] == name) if name else None)


def _pairs(ctx: Ctx) -> list[tuple[Record, Record]]:
    pairs = ctx.p.dicts("resource_tag_pairs")
    if not pairs:
        raise bad("parameter [resource_tag_pairs.n] should not be empty")
    out = []
    for pair in pairs:
        kind = TAGGABLE.get(pair.get("resource_type", ""))
        if kind is None:
            raise bad(f"resource_type [{pair.get('resource_type')}] should be one of "
                      f"{', '.join(sorted(TAGGABLE))}")
        tag = ctx.zone.get("tag", pair.get("tag_id", ""))
        out.append((tag, ctx.zone.get(kind, pair.get("resource_id", ""))))
    return out


# content/development_docs/api/command_list/tag/attach_tags.md
@action("AttachTags")
def attach_tags(ctx: Ctx) -> Body:
    for tag, rec in _pairs(ctx):
        tags = rec.setdefault("_tags", [])
        if tag["tag_id"] not in tags:
            tags.append(tag["tag_id"])
    return {}


# content/development_docs/api/command_list/tag/detach_tags.md
@action("DetachTags")
def detach_tags(ctx: Ctx) -> Body:
    for tag, rec in _pairs(ctx):
        if tag["tag_id"] in rec.get("_tags", []):
            rec["_tags"].remove(tag["tag_id"])
    return {}


# content/development_docs/api/command_list/tag/modify_tag_attributes.md
@action("ModifyTagAttributes")
def modify_tag_attributes(ctx: Ctx) -> Body:
    tag = ctx.zone.get("tag", ctx.p.req("tag"))
    tag.update(text_changes(ctx, ("tag_name", "description", "color")))
    return {}


# content/development_docs/api/command_list/tag/delete_tags.md
@action("DeleteTags")
def delete_tags(ctx: Ctx) -> Body:
    zone = ctx.zone
    ids = ctx.p.req_list("tags")
    for tag_id in ids:
        zone.get("tag", tag_id)
    for tag_id in ids:
        for kind, rid in _tagged(zone, tag_id):
            zone.res[kind][rid]["_tags"].remove(tag_id)
        del zone.res["tag"][tag_id]
    return {"tags": ids}
