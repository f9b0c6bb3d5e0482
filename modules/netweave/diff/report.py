"""Printing a ``netweave diff``: text for terminals, JSON for programs, Markdown for PRs.

The Markdown is a pull-request comment: it starts with a hidden marker naming the stack
(so the workflow finds and edits its own comment), leads with reachability, and stays
under GitHub's limit by summarizing long lists (``MARKDOWN_LIMIT``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from netweave import graph
from netweave.deploy.plan import short_type
from netweave.diff.compare import DiffReport
from netweave.diff.network import KINDS, Change
from netweave.diff.resources import ResourceChange, summary
from netweave.lint import report
from netweave.lint.findings import Finding

FORMATS = ("text", "json", "markdown")
MARKDOWN_LIMIT = 60_000
MERMAID_LIMIT = 15_000  # a bigger diagram is left out rather than crowding the comment
KIND_WORDS = {"cloud": "clouds", "vpc": "VPCs", "vxnet": "vxnets", "route_push": "route pushes",
              "vcpe": "vCPEs", "nic": "NICs", "static_route": "static routes", "bgp": "BGP",
              "advertisement": "BGP advertisements", "site": "sites", "tunnel": "tunnels", "host": "hosts",
              "vpn_server": "VPN servers", "security_group": "security groups", "intent": "intent"}
OP_SIGNS = {"added": "+", "removed": "-", "changed": "~", "create": "+", "delete": "-",
            "update": "~", "replace": "±"}


def marker(stack: str) -> str:
    return f"<!-- netweave-diff stack={stack} -->"


def _met(value: bool | None) -> str:
    return {True: "met", False: "VIOLATED", None: "absent"}[value]


def _finding_line(f: Finding) -> str:
    where = f"{f.file}:{f.line}:{f.column}" if f.line else f.file
    return f"{where}: {f.level.value} {f.code} {f.rule.slug}: {f.message}"


def vcpe_warning(r: ResourceChange) -> str:
    what = "replaced" if r.op == "replace" else "deleted"
    why = f" (because {', '.join(r.replace_fields)} changed)" if r.replace_fields else ""
    return (f"vCPE {r.vcpe} is {what}{why}: its tunnels and every route through it are down "
            "until the new instance has booted")


# --- text -----------------------------------------------------------------------------

def text(d: DiffReport) -> str:
    out = [f"netweave diff of stack {d.stack}: {d.base.revision.display} → {d.head.revision.display}", ""]
    out.append("1. Reachability")
    if d.reach_note:
        out.append(f"   not compared: {d.reach_note}")
    elif not d.pairs and not d.intents:
        out.append("   no host pair or intent rule changes reachability")
    for p in d.lost:
        out.append(f"   LOST   {p.arrow()}" + (f": {p.why}" if p.why else ""))
    for p in d.gained:
        out.append(f"   GAINED {p.arrow()}")
    for i in d.intents:
        out.append(f"   intent {i.rule()}: {_met(i.before)} → {_met(i.after)}"
                   + (f" ({', '.join(i.violations[:5])})" if i.violations else ""))
    out += ["", "2. Lint"]
    if not d.lint.introduced and not d.lint.fixed:
        out.append(f"   no finding introduced or fixed ({d.lint.remaining} unchanged)")
    out += [f"   introduced: {_finding_line(f)}" for f in d.lint.introduced]
    out += [f"   fixed:      {_finding_line(f)}" for f in d.lint.fixed]
    out += ["", "3. Network"]
    if d.network_note:
        out.append(f"   not compared: {d.network_note}")
    elif not d.network:
        out.append("   no change to the network")
    for c in d.network:
        out.append(f"   {OP_SIGNS[c.op]} {KIND_WORDS[c.kind]}: {c.subject}: {c.detail}")
    out += ["", "4. Resources (offline plans)"]
    boot = {b.host: b for b in d.boot}
    for r in d.vcpe_interruptions:
        out.append(f"   WARNING: {vcpe_warning(r)}")
        if r.vcpe in boot:
            out.append(f"            boot files that change: {boot[r.vcpe].summary()}")
    for h in d.hosts:
        if h.how == "in place":
            out.append(f"   {h.host}: {h.label()}"
                       + (f": {boot[h.host].summary()}" if h.host in boot else ""))
        elif h.how == "created":
            out.append(f"   {h.host}: {h.label()}")
    if d.resources is None:
        out.append(f"   not compared: {d.plan_note}")
    else:
        counts = summary(d.resources)
        out.append("   " + ", ".join(f"{n} to {op}" for op, n in counts.items()))
        for r in d.resources:
            fields = f" ({', '.join(r.fields)})" if r.fields else ""
            forced = f" forced by {', '.join(r.replace_fields)}" if r.replace_fields else ""
            out.append(f"   {OP_SIGNS[r.op]} {r.op} {short_type(r.type)} {r.name}{fields}{forced}")
    if d.rehearsal is not None:
        out += ["", "5. Rehearsal (netweave emulate BASE --change HEAD)"]
        out += ["   " + line for line in rehearsal_lines(d.rehearsal)]
    return "\n".join(out)


def rehearsal_lines(r: dict[str, Any]) -> list[str]:
    """The rehearsal's verdict and per-pair losses, from its JSON report."""
    change = r.get("change") or {}
    verdict = "passed" if r.get("ok") else "FAILED"
    lines = [f"rehearsal {verdict}: {change.get('base', '?')} → {change.get('head', '?')}, "
             f"applied in place over SSH in {change.get('apply_seconds', '?')} s"]
    for p in change.get("pairs", []):
        lines.append(f"{'ok  ' if p.get('ok') else 'FAIL'} {p['from']} → {p['to']}: {p['expectation']}; "
                     f"lost {p['lost']} of {p['sent']}, longest gap {p['longest_gap_ms']} ms")
    lines += [f"problem: {x}" for x in change.get("problems", [])]
    return lines


# --- json -----------------------------------------------------------------------------

def as_dict(d: DiffReport) -> dict[str, Any]:
    return {
        "stack": d.stack, "base": d.base.revision.display, "head": d.head.revision.display,
        "reachability": {"note": d.reach_note, "pairs": [p.as_dict() for p in d.pairs],
                         "intent": [i.as_dict() for i in d.intents]},
        "lint": {"introduced": [report.as_dict(f) for f in d.lint.introduced],
                 "fixed": [report.as_dict(f) for f in d.lint.fixed],
                 "unchanged": d.lint.remaining},
        "network": {"note": d.network_note, "changes": [c.as_dict() for c in d.network]},
        "resources": {"note": d.plan_note,
                      "summary": summary(d.resources or []) if d.resources is not None else None,
                      "changes": [r.as_dict() for r in d.resources or []],
                      "hosts": [h.as_dict() for h in d.hosts],
                      "boot_files": [b.as_dict() for b in d.boot]},
        "rehearsal": d.rehearsal,
    }


def as_json(d: DiffReport) -> str:
    return json.dumps(as_dict(d), indent=2)


# --- markdown -------------------------------------------------------------------------

def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _capped(items: Sequence[Any], limit: int, line: Callable[[Any], str], what: str) -> list[str]:
    out = [line(x) for x in items[:limit]]
    if len(items) > limit:
        out.append(f"- … and {len(items) - limit} more {what} (full list: `netweave diff --format json`)")
    return out


def _headline(d: DiffReport) -> str:
    bits = []
    if d.lost:
        n = len(d.lost)
        bits.append(f"**{n} host pair{'s lose' if n != 1 else ' loses'} reachability**")
    if d.gained:
        n = len(d.gained)
        bits.append(f"{n} host pair{'s gain' if n != 1 else ' gains'} reachability")
    violated = [i for i in d.intents if i.after is False]
    if violated:
        bits.append(f"**{len(violated)} intent rule{'s' if len(violated) != 1 else ''} violated**")
    if d.lint.introduced:
        n = len(d.lint.introduced)
        bits.append(f"{n} new lint finding{'s' if n != 1 else ''}")
    if d.vcpe_interruptions:
        n = len(d.vcpe_interruptions)
        bits.append(f"**{n} vCPE replacement{'s interrupt' if n != 1 else ' interrupts'} traffic**")
    in_place = [h for h in d.hosts if h.how == "in place"]
    if in_place:
        n = len(in_place)
        bits.append(f"{n} host{'s' if n != 1 else ''} reconfigured in place (no outage)")
    if d.rehearsal is not None:
        bits.append("rehearsal passed" if d.rehearsal.get("ok") else "**rehearsal FAILED**")
    return "; ".join(bits) if bits else "no change to reachability"


def markdown(d: DiffReport, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The PR comment; long lists shrink until it fits under ``limit`` characters."""
    text_ = ""
    for cap, diagram in ((200, True), (50, True), (50, False), (15, False), (5, False), (0, False)):
        text_ = _markdown(d, cap, diagram)
        if len(text_) <= limit:
            return text_
    return text_[: limit - 200] + "\n\n… (cut to fit a comment; see `netweave diff --format json`)\n"


def _markdown(d: DiffReport, cap: int, diagram: bool) -> str:
    out = [marker(d.stack), f"## netweave diff: stack `{d.stack}`", "",
           f"`{_md(d.base.revision.display)}` → `{_md(d.head.revision.display)}`: {_headline(d)}", ""]
    out += ["### 1. Reachability", ""]
    if d.reach_note:
        out.append(f"_Not compared: {_md(d.reach_note)}_")
    elif not d.pairs and not d.intents:
        out.append("No host pair or intent rule changes reachability.")
    if d.lost:
        n = len(d.lost)
        out += ["> [!CAUTION]", f"> {n} host pair{'s lose' if n != 1 else ' loses'} reachability:", ">"]
        out += ["> " + x for x in _capped(
            d.lost, cap, lambda p: f"- ❌ `{p.arrow()}`" + (f": {_md(p.why)}" if p.why else ""),
            "host pairs")]
        out.append("")
    if d.gained:
        n = len(d.gained)
        out.append(f"{n} host pair{'s gain' if n != 1 else ' gains'} reachability:")
        out += _capped(d.gained, cap, lambda p: f"- ✅ `{p.arrow()}`", "host pairs")
        out.append("")
    if d.intents:
        out += ["| intent rule | before | after | offending pairs |", "| --- | --- | --- | --- |"]
        for i in d.intents[: max(cap, 5)]:
            pairs = ", ".join(i.violations[:5]) + (" …" if len(i.violations) > 5 else "")
            out.append(f"| `{i.rule()}` | {_met(i.before)} | **{_met(i.after)}** | {_md(pairs)} |")
        out.append("")
    out += ["### 2. Lint findings", ""]
    if not d.lint.introduced and not d.lint.fixed:
        out.append(f"No finding introduced or fixed ({d.lint.remaining} unchanged).")
    if d.lint.introduced:
        out.append("Introduced:")
        out += _capped(d.lint.introduced, cap, lambda f: f"- 🔴 `{f.code}` {_md(_finding_line(f))}",
                       "findings")
    if d.lint.fixed:
        out.append("Fixed:")
        out += _capped(d.lint.fixed, cap, lambda f: f"- 🟢 `{f.code}` {_md(_finding_line(f))}", "findings")
    out += ["", "### 3. Network changes", ""]
    out += _network_md(d, cap)
    out += ["", "### 4. Resource changes (offline plan, no credentials)", ""]
    out += _resources_md(d, cap)
    if d.rehearsal is not None:
        lines = rehearsal_lines(d.rehearsal)
        out += ["", "### 5. Rehearsal (`netweave emulate BASE --change HEAD`)", "",
                ("> [!NOTE]\n> " if d.rehearsal.get("ok") else "> [!CAUTION]\n> ") + _md(lines[0]), ""]
        out += _capped(lines[1:], max(cap, 5), lambda x: f"- {_md(x)}", "lines")
    if diagram and d.graph is not None and graph.changed_count(d.graph):
        chart = graph.mermaid(d.graph)
        if len(chart) <= MERMAID_LIMIT:
            out += ["", "<details><summary>Diagram (changed elements highlighted: green added, "
                        "red removed, yellow changed)</summary>", "", "```mermaid", chart.rstrip(),
                    "```", "", "</details>"]
        else:
            out += ["", "_The diagram is too large for a comment: `netweave graph --format svg`._"]
    out += ["", "<sub>Generated by `netweave diff` from the topology files alone; the real "
                "`pulumi preview` runs where credentials are configured.</sub>", ""]
    return "\n".join(out)


def _network_md(d: DiffReport, cap: int) -> list[str]:
    if d.network_note:
        return [f"_Not compared: {_md(d.network_note)}_"]
    if not d.network:
        return ["No change to the network."]
    out: list[str] = []
    by_kind: dict[str, list[Change]] = {}
    for c in d.network:
        by_kind.setdefault(c.kind, []).append(c)
    for kind in KINDS:
        items = by_kind.get(kind)
        if not items:
            continue
        ops = Counter(c.op for c in items)
        counts = ", ".join(f"{n} {op}" for op, n in sorted(ops.items()))
        out.append(f"**{KIND_WORDS[kind]}** ({counts})")
        out += _capped(items, cap, lambda c: f"- `{OP_SIGNS[c.op]}` **{_md(c.subject)}**: {_md(c.detail)}",
                       KIND_WORDS[kind])
        out.append("")
    return out


def _resources_md(d: DiffReport, cap: int) -> list[str]:
    out: list[str] = []
    boot = {b.host: b for b in d.boot}
    if d.hosts:
        out += ["| host | change | boot files that change |", "| --- | --- | --- |"]
        for h in d.hosts:
            sign = "🔴" if h.outage else "🟢"
            why = f" (because {', '.join(h.why)} changed)" if h.why else ""
            files = _md(boot[h.host].summary()) if h.host in boot else ""
            out.append(f"| {h.host} | {sign} {h.label()}{why} | {files} |")
        out.append("")
    for r in d.vcpe_interruptions:
        out += ["> [!WARNING]", f"> {_md(vcpe_warning(r))}"]
        if r.vcpe in boot:
            out += [">", f"> Boot files that change: {_md(boot[r.vcpe].summary())}"]
        out.append("")
    for b in d.boot:
        if b.diff and cap:
            more = "\n… (more changes: `netweave render` both revisions)" if b.truncated else ""
            out += [f"<details><summary>{b.host}: rendered boot files (placeholder keys and "
                    "addresses)</summary>", "", "```diff", *b.diff, "```" + more, "", "</details>", ""]
    if d.resources is None:
        return [*out, f"_Not compared: {_md(d.plan_note or '')}_"]
    counts = summary(d.resources)
    out.append(" · ".join(f"{OP_SIGNS[op]} {n} to {op}" for op, n in counts.items()))
    if d.resources:
        out += ["", "| | resource | name | changed inputs |", "| --- | --- | --- | --- |"]
        for r in d.resources[: max(cap, 5)]:
            fields = ", ".join(f"**{f}**" if f in r.replace_fields else f for f in r.fields)
            out.append(f"| {OP_SIGNS[r.op]} {r.op} | `{short_type(r.type)}` | {r.name} | {fields} |")
        if len(d.resources) > max(cap, 5):
            out.append(f"\n… and {len(d.resources) - max(cap, 5)} more resource changes")
        if any(r.replace_fields for r in d.resources):
            out.append("\nInputs in **bold** force the replacement.")
    return out


def render(d: DiffReport, fmt: str) -> str:
    if fmt == "json":
        return as_json(d)
    if fmt == "markdown":
        return markdown(d)
    return text(d)
