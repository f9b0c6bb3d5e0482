"""A parser of the Mermaid flowchart subset `netweave graph` emits, to read diagrams back.

Strict on purpose: any line it does not understand is an error, so a change to the
emitter that produces something else fails the tests instead of passing unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = r'"(?P<label>[^"]*)"'
_SHAPES = [("[/", "/]", "vxnet"), ("{{", "}}", "vcpe"), ("[[", "]]", "vpn_server"), ("(", ")", "host")]
_NODE = re.compile(rf"^(?P<id>{_ID})(?P<open>\[/|\{{\{{|\[\[|\(){_LABEL}(?P<close>/\]|\}}\}}|\]\]|\))$")
_SUBGRAPH = re.compile(rf"^subgraph (?P<id>{_ID})\[{_LABEL}\]$")
_EDGE = re.compile(rf"^(?P<src>{_ID}) (?P<arrow>---|<==>|-\.->)(?:\|{_LABEL}\|)? (?P<dst>{_ID})$")
_CLASSDEF = re.compile(r"^classDef (?P<name>\w+) (?P<style>\S+)$")
_CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>\w+)$")
_LINKSTYLE = re.compile(r"^linkStyle (?P<index>\d+) (?P<style>\S+)$")
ENTITIES = {"#quot;": '"', "#lt;": "<", "#gt;": ">", "#124;": "|", "#amp;": "&"}


def unescape(label: str) -> str:
    text = label.replace("<br/>", "\n")
    for entity, char in ENTITIES.items():
        text = text.replace(entity, char)
    return text


@dataclass
class Diagram:
    direction: str
    clusters: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> (label, parent)
    # id -> (kind, label, cluster)
    nodes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (src, arrow, dst, label)
    class_defs: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # id -> class
    link_styles: dict[int, str] = field(default_factory=dict)


class ParseError(ValueError):
    pass


def parse(text: str) -> Diagram:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    head = re.fullmatch(r"flowchart (LR|TB|TD|RL|BT)", lines[0]) if lines else None
    if not head:
        raise ParseError("first line must be 'flowchart <direction>'")
    d = Diagram(head.group(1))
    stack: list[str] = []
    for n, line in enumerate(lines[1:], start=2):
        if m := _SUBGRAPH.match(line):
            d.clusters[m["id"]] = (unescape(m["label"]), stack[-1] if stack else None)
            stack.append(m["id"])
        elif line == "end":
            if not stack:
                raise ParseError(f"line {n}: 'end' without subgraph")
            stack.pop()
        elif m := _NODE.match(line):
            kind = next((k for o, c, k in _SHAPES if o == m["open"] and c == m["close"]), None)
            if kind is None:
                raise ParseError(f"line {n}: mismatched shape brackets")
            if m["id"] in d.nodes:
                raise ParseError(f"line {n}: node {m['id']} declared twice")
            d.nodes[m["id"]] = (kind, unescape(m["label"]), stack[-1] if stack else None)
        elif m := _EDGE.match(line):
            for end in (m["src"], m["dst"]):
                if end not in d.nodes:
                    raise ParseError(f"line {n}: edge to undeclared node {end}")
            d.edges.append((m["src"], m["arrow"], m["dst"], unescape(m["label"] or "")))
        elif m := _CLASSDEF.match(line):
            d.class_defs[m["name"]] = m["style"]
        elif m := _CLASS.match(line):
            if m["name"] not in d.class_defs:
                raise ParseError(f"line {n}: class {m['name']} used before classDef")
            for i in m["ids"].split(","):
                if i not in d.nodes and i not in d.clusters:
                    raise ParseError(f"line {n}: class on unknown id {i}")
                d.classes[i] = m["name"]
        elif m := _LINKSTYLE.match(line):
            if int(m["index"]) >= len(d.edges):
                raise ParseError(f"line {n}: linkStyle {m['index']} names no edge")
            d.link_styles[int(m["index"])] = m["style"]
        else:
            raise ParseError(f"line {n}: not in the emitted subset: {line!r}")
    if stack:
        raise ParseError(f"unclosed subgraph {stack[-1]}")
    return d
