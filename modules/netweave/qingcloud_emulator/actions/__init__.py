"""Action handlers, one module per resource family. Each handler takes a ``Ctx`` and returns
the response body (``action`` and ``ret_code`` are added by the server); errors are raised
as ``ApiError``. The docs page each handler follows is named in a comment above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..params import Params
from ..store import Record, Zone

Body = dict[str, Any]


@dataclass
class Ctx:
    zone: Zone
    p: Params
    now: float


Handler = Callable[[Ctx], Body]
View = Callable[[Zone, Record, bool], Record]
ACTIONS: dict[str, Handler] = {}
VIEWS: dict[str, View] = {}
# Actions that change nothing: the server does not save the state file after them.
READ_ONLY: set[str] = set()


def action(name: str, *, read_only: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ACTIONS[name] = fn
        if read_only:
            READ_ONLY.add(name)
        return fn
    return register


def view(kind: str) -> Callable[[View], View]:
    def register(fn: View) -> View:
        VIEWS[kind] = fn
        return fn
    return register


def text_changes(ctx: Ctx, fields: tuple[str, ...]) -> Record:
    """The text attributes a Modify*Attributes call sets; a field it leaves out stays."""
    return {f: v for f in fields if (v := ctx.p.text(f)) is not None}


def public(rec: Record) -> Record:
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def tags_of(zone: Zone, rec: Record) -> list[Record]:
    out = []
    for tag_id in rec.get("_tags", []):
        tag = zone.find("tag", tag_id)
        if tag is not None:
            out.append({"tag_id": tag_id, "tag_name": tag["tag_name"], "color": tag.get("color", "")})
    return out


def listing(ctx: Ctx, kind: str, ids_key: str, set_name: str, *, id_field: str, name_field: str = "",
            match: Callable[[Record], bool] | None = None) -> Body:
    """The common part of every Describe*: ids, status, search_word, tags, offset/limit.
    Deleted resources show (with their final status) only when asked for by id or status,
    as the real API keeps them visible for a while."""
    p, zone = ctx.p, ctx.zone
    ids = p.many(ids_key)
    statuses = p.many("status") or ([s] if (s := p.text("status")) else [])
    if ids:
        recs = [r for i in dict.fromkeys(ids) if (r := zone.find(kind, i, deleted=True)) is not None]
    else:
        # newest first, as the real API lists
        recs = [r for r in reversed(zone.res[kind].values()) if not r.get("_deleted") or statuses]
    if statuses:
        recs = [r for r in recs if r.get("status") in statuses]
    word = p.text("search_word")
    if word:
        recs = [r for r in recs if word in str(r.get(id_field, "")) or
                (name_field and word in str(r.get(name_field) or ""))]
    tags = p.many("tags") if ids_key != "tags" else []
    if tags:
        recs = [r for r in recs if set(tags) & set(r.get("_tags", []))]
    if match is not None:
        recs = [r for r in recs if match(r)]
    offset = p.number("offset", 0) or 0
    limit = min(p.number("limit", 20) or 20, 100)
    verbose = bool(p.number("verbose", 0))
    page = recs[offset:offset + limit]
    return {set_name: [VIEWS[kind](zone, r, verbose) for r in page], "total_count": len(recs)}


def load_all() -> None:
    """Import every family so that its handlers register."""
    from . import (  # noqa: F401
        eips,
        instances,
        jobs,
        nics,
        route_tables,
        routers,
        security_groups,
        statics,
        tags,
        vxnets,
    )
