"""The topology as a picture: a small graph model, drawn as Mermaid or Graphviz DOT.

Clouds and VPCs are clusters; vxnets, hosts, vCPEs and VPN servers are nodes; a vCPE's
NICs are edges to their vxnets (labelled with the interface and address), tunnels are
edges between vCPEs labelled with what each end advertises over BGP, and route pushes
are dashed edges from the vxnet that receives them to their next hop.

The model is built first and drawn second, so ``netweave diff`` can merge the graphs of
two topologies and mark what changed before drawing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from netweave.design import Design
from netweave.design.addresses import shown
from netweave.model.index import Index
from netweave.model.topology import QingCloud, Topology

FORMATS = ("mermaid", "dot", "svg", "png")
STATES = ("added", "removed", "changed")
# Labels listing prefixes stay readable: the rest is counted, not drawn.
MAX_PREFIXES = 6


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    parent: str | None = None  # enclosing cluster id
    state: str | None = None


@dataclass(frozen=True)
class GraphNode:
    id: str
    name: str  # the topology name, always the first line of the label
    kind: str  # "vxnet" | "host" | "vcpe" | "vpn_server"
    label: str
    cluster: str | None
    state: str | None = None


@dataclass(frozen=True)
class Edge:
    key: str  # stable identity across two topologies
    src: str
    dst: str
    kind: str  # "attach" | "nic" | "tunnel" | "push"
    label: str = ""
    state: str | None = None


@dataclass
class Graph:
    title: str
    clusters: dict[str, Cluster] = field(default_factory=dict)
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)


# --- building ---------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def node_id(kind: str, name: str) -> str:
    """Identifiers both Mermaid and DOT accept: names may hold '.' and '-'."""
    return f"{kind}_{_UNSAFE.sub('_', name)}"


def prefixes_label(prefixes: Iterable[str]) -> str:
    items = list(prefixes)
    shown = ", ".join(items[:MAX_PREFIXES])
    more = len(items) - MAX_PREFIXES
    return shown + (f" (+{more} more)" if more > 0 else "")


def build(topology: Topology, index: Index | None = None, design: Design | None = None) -> Graph:
    index = index or Index.build(topology)
    design = design if design is not None else Design.build(topology, index)
    g = Graph(topology.name or "topology")
    for name, cloud in topology.clouds.items():
        where = f"qingcloud {cloud.zone}" if isinstance(cloud, QingCloud) else f"vultr {cloud.region}"
        cid = node_id("cloud", name)
        g.clusters[cid] = Cluster(cid, f"{name} · {where}")
    for name, vpc in topology.vpcs.items():
        cid = node_id("vpc", name)
        g.clusters[cid] = Cluster(cid, f"{name} · {vpc.cidr}", node_id("cloud", vpc.cloud))
        for vx_name, vx in vpc.vxnets.items():
            vid = node_id("vx", vx_name)
            g.nodes[vid] = GraphNode(vid, vx_name, "vxnet", f"{vx_name}\n{vx.cidr}", cid)
    for name, site in topology.sites.items():  # outside every cloud: its own cluster
        sid = node_id("site", name)
        where = "behind NAT" if site.nat else str(site.public_address or "no public address")
        g.clusters[sid] = Cluster(sid, f"site {name} · {where}")
        lan = node_id("vx", f"lan:{name}")
        g.nodes[lan] = GraphNode(lan, f"lan:{name}", "vxnet",
                            f"{name} LAN\n{', '.join(str(p) for p in site.lan)}", sid)
        gid = node_id("vcpe", name)
        asn = f"\nAS{site.bgp.asn}" if site.bgp else ""
        g.nodes[gid] = GraphNode(gid, name, "vcpe", f"{name} gateway{asn}", sid)
        _edge(g, Edge(f"nic:{name}:lan", gid, lan, "nic", str(site.gateway)))
    for name, host in topology.hosts.items():
        hid = node_id("host", name)
        network = host.vxnet or f"lan:{host.site}"
        cluster = _vpc_cluster(index, host.vxnet) if host.vxnet else node_id("site", host.site or "")
        g.nodes[hid] = GraphNode(hid, name, "host", f"{name}\n{host.address}", cluster)
        _edge(g, Edge(f"attach:{name}", hid, node_id("vx", network), "attach"))
    for name, vcpe in topology.vcpes.items():
        cid = node_id("vcpe", name)
        asn = f"\nAS{vcpe.bgp.asn}" if vcpe.bgp else ""
        cluster = _vpc_cluster(index, vcpe.nics[0].vxnet)
        g.nodes[cid] = GraphNode(cid, name, "vcpe", f"{name}{asn}", cluster)
        for i, nic in enumerate(vcpe.nics):
            _edge(g, Edge(f"nic:{name}:{nic.vxnet}", cid, node_id("vx", nic.vxnet), "nic",
                          f"eth{i} {nic.address}" if nic.address is not None
                          else f"NIC {i}, address assigned at deploy"))
    for name, vpn in topology.vpn_servers.items():
        sid = node_id("vpn", name)
        cluster = _vpc_cluster(index, vpn.vxnet)
        g.nodes[sid] = GraphNode(sid, name, "vpn_server",
                            f"{name}\n{vpn.type} {shown(vpn.address)}\nclients {vpn.client_pool}",
                            cluster)
        _edge(g, Edge(f"attach:{name}", sid, node_id("vx", vpn.vxnet), "attach"))
    for i, tunnel in enumerate(topology.tunnels):
        if len(tunnel.ends) != 2:
            continue
        a, b = (e.node for e in tunnel.ends)
        if topology.router(a) is None or topology.router(b) is None:
            continue
        lines = [f"{tunnel.label(i)} · {tunnel.type}"]
        for end in (a, b):
            adv = [str(p) for p in design.announces(end)]
            if adv:
                lines.append(f"{end} advertises {prefixes_label(adv)}")
        _edge(g, Edge(f"tunnel:{tunnel.label(i)}", node_id("vcpe", a), node_id("vcpe", b), "tunnel",
                      "\n".join(lines)))
    _pushes(g, design, index)
    return g


def _vpc_cluster(index: Index, vxnet: str) -> str | None:
    info = index.vxnets.get(vxnet)
    return node_id("vpc", info.vpc) if info else None


def _edge(g: Graph, edge: Edge) -> None:
    if edge.src in g.nodes and edge.dst in g.nodes:
        g.edges[edge.key] = edge


def _pushes(g: Graph, design: Design, index: Index) -> None:
    """Route pushes grouped by (receiving vxnet, next-hop owner): one dashed edge each."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for push in design.route_pushes:
        if push.router is not None:  # next_hop names the router (its address may be assigned)
            kind, name = ("vcpe" if push.router in design.vcpes else "vpn"), push.router
        else:
            owner = index.owner_at(push.vpc, push.next_hop) if push.next_hop is not None else None
            if owner is None or owner.kind == "host":
                continue
            kind, name = ("vcpe" if owner.kind == "nic" else "vpn"), owner.name
        target = node_id(kind, name)
        for vx in push.vxnets:
            grouped.setdefault((vx, target), []).append(str(push.destination))
    for (vx, target), dests in grouped.items():
        _edge(g, Edge(f"push:{vx}:{target}", node_id("vx", vx), target, "push",
                      f"push {prefixes_label(dests)}"))


# --- comparing --------------------------------------------------------------------------

def merged(base: Graph, head: Graph) -> Graph:
    """HEAD's graph with what changed marked, and what was removed kept (marked removed)."""
    out = Graph(head.title)
    for cid, c in head.clusters.items():
        old = base.clusters.get(cid)
        out.clusters[cid] = replace(c, state="added" if old is None else
                                    ("changed" if old.label != c.label else None))
    for cid, c in base.clusters.items():
        if cid not in head.clusters:
            out.clusters[cid] = replace(c, state="removed")
    for nid, n in head.nodes.items():
        old_n = base.nodes.get(nid)
        out.nodes[nid] = replace(n, state="added" if old_n is None else (
            "changed" if (old_n.label, old_n.cluster) != (n.label, n.cluster) else None))
    for nid, n in base.nodes.items():
        if nid not in head.nodes:
            cluster = n.cluster if n.cluster in out.clusters else None
            out.nodes[nid] = replace(n, state="removed", cluster=cluster)
    for key, e in head.edges.items():
        old_e = base.edges.get(key)
        out.edges[key] = replace(e, state="added" if old_e is None else (
            "changed" if (old_e.label, old_e.src, old_e.dst) != (e.label, e.src, e.dst) else None))
    for key, e in base.edges.items():
        if key not in head.edges and e.src in out.nodes and e.dst in out.nodes:
            out.edges[key] = replace(e, state="removed")
    return out


def _elements(g: Graph) -> list[Cluster | GraphNode | Edge]:
    return [*g.clusters.values(), *g.nodes.values(), *g.edges.values()]


def changed_count(g: Graph) -> int:
    return sum(1 for x in _elements(g) if x.state)


# --- Mermaid ----------------------------------------------------------------------------

_MERMAID_SHAPES = {"vxnet": ("[/", "/]"), "host": ("(", ")"), "vcpe": ("{{", "}}"),
                   "vpn_server": ("[[", "]]")}
_MERMAID_ARROWS = {"attach": "---", "nic": "---", "tunnel": "<==>", "push": "-.->"}
_MERMAID_CLASSES = {
    "added": "fill:#e6ffec,stroke:#1a7f37,stroke-width:3px",
    "removed": "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,stroke-dasharray:5",
    "changed": "fill:#fff8c5,stroke:#9a6700,stroke-width:3px",
}
_LINK_COLOURS = {"added": "#1a7f37", "removed": "#cf222e", "changed": "#9a6700"}


def mermaid_text(label: str) -> str:
    """A quoted Mermaid label: quotes become entities, line breaks ``<br/>``."""
    safe = (label.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;").replace("|", "#124;"))
    return '"' + safe.replace("\n", "<br/>") + '"'


def _cluster_tree(g: Graph) -> tuple[dict[str | None, list[Cluster]], dict[str | None, list[GraphNode]]]:
    """Sub-clusters and nodes of each cluster (None: the top level), in declaration order."""
    children: dict[str | None, list[Cluster]] = {}
    for c in g.clusters.values():
        children.setdefault(c.parent if c.parent in g.clusters else None, []).append(c)
    members: dict[str | None, list[GraphNode]] = {}
    for n in g.nodes.values():
        members.setdefault(n.cluster if n.cluster in g.clusters else None, []).append(n)
    return children, members


def mermaid(g: Graph, direction: str = "LR") -> str:
    out = [f"flowchart {direction}"]
    children, members = _cluster_tree(g)

    def emit(cluster: str | None, depth: int) -> None:
        pad = "  " * depth
        for n in members.get(cluster, []):
            left, right = _MERMAID_SHAPES[n.kind]
            out.append(f"{pad}{n.id}{left}{mermaid_text(n.label)}{right}")
        for c in children.get(cluster, []):
            out.append(f"{pad}subgraph {c.id}[{mermaid_text(c.label)}]")
            emit(c.id, depth + 1)
            out.append(f"{pad}end")

    emit(None, 1)
    link_styles: list[str] = []
    for i, e in enumerate(g.edges.values()):
        arrow = _MERMAID_ARROWS[e.kind]
        label = f"|{mermaid_text(e.label)}|" if e.label else ""
        out.append(f"  {e.src} {arrow}{label} {e.dst}")
        if e.state:
            link_styles.append(f"  linkStyle {i} stroke:{_LINK_COLOURS[e.state]},stroke-width:3px")
    boxes: list[Cluster | GraphNode] = [*g.clusters.values(), *g.nodes.values()]
    states = {x.state for x in boxes if x.state}
    for state in STATES:
        if state in states:
            out.append(f"  classDef {state} {_MERMAID_CLASSES[state]}")
    for state in STATES:
        ids = [x.id for x in boxes if x.state == state]
        if ids:
            out.append(f"  class {','.join(ids)} {state}")
    out.extend(link_styles)
    return "\n".join(out) + "\n"


# --- Graphviz ---------------------------------------------------------------------------

_DOT_SHAPES = {"vxnet": "parallelogram", "host": "box", "vcpe": "hexagon", "vpn_server": "box3d"}
_TUNNEL, _PUSH = "#0969da", "#6e7781"
# A directed graph so that route pushes carry an arrowhead (the receiving vxnet's VMs send
# the destination to the next hop); NICs and attachments are plain lines, tunnels point
# both ways. ``decorate`` underlines an edge label and draws a line from it to its edge, so
# a label never floats between two edges.
_DOT_EDGES = {"attach": "dir=none", "nic": "dir=none, decorate=true",
              "tunnel": f"dir=both, penwidth=2, color=\"{_TUNNEL}\", fontcolor=\"{_TUNNEL}\", "
                        "decorate=true",
              "push": f"dir=forward, style=dashed, color=\"{_PUSH}\", fontcolor=\"#57606a\", "
                      "decorate=true"}
_DOT_FILL = {"added": "#e6ffec", "removed": "#ffebe9", "changed": "#fff8c5"}


def dot_text(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _tunnel_label(label: str) -> str:
    """The tunnel's name on top, then one line per announcing end: 'vcpe01 announces' and
    its prefixes, each on its own line (an HTML-like label, left-aligned)."""
    title, *ends = label.split("\n")
    rows = [f"<b>{_html(title)}</b>"]
    for line in ends:
        speaker, sep, prefixes = line.partition(" advertises ")
        if not sep:
            rows.append(_html(line))
            continue
        rows.append(f"<i>{_html(speaker)} announces</i>")
        rows.extend(f"&#8226; {_html(p.strip())}" for p in prefixes.split(", "))
    return "<" + '<br align="left"/>'.join(rows) + '<br align="left"/>>'


# (kind, how it is drawn, colour, what it is): one compact table, only the kinds shown
_LEGEND = [("vcpe", "hexagon", "#24292f", "vCPE (router VM) and its AS number"),
           ("vxnet", "parallelogram", "#24292f", "vxnet (subnet) and its CIDR"),
           ("host", "box", "#24292f", "host (workload VM)"),
           ("vpn_server", "3-D box", "#24292f", "VPN server and its client pool"),
           ("nic", "&#8212;&#8212;&#8212;", "#24292f", "NIC of a vCPE: interface, address"),
           ("attach", "&#8212;&#8212;&#8212;", "#24292f", "host or VPN server in its vxnet"),
           ("tunnel", "&#9664;&#8212;&#8212;&#9654;", _TUNNEL,
            "tunnel; its blue box: what each end announces over BGP"),
           ("push", "- - - &#9654;", _PUSH,
            "route push: the vxnet's VMs send the destination to the next hop")]


def _legend(kinds: set[str]) -> list[str]:
    """What the shapes and lines mean (for the kinds the picture holds), in a box of its own."""
    rows = "".join(f'<tr><td align="left"><font color="{colour}"><b>{drawn}</b></font></td>'
                   f'<td align="left">{_html(meaning)}</td></tr>'
                   for kind, drawn, colour, meaning in _LEGEND if kind in kinds)
    return ["  subgraph cluster_legend {",
            '    label="legend"; style="rounded,dashed"; color="#8c959f"; fontsize=10;',
            f'    legend [shape=plaintext, fontsize=9, label=<<table border="0" cellspacing="1">'
            f"{rows}</table>>];",
            "  }"]


def dot(g: Graph, *, legend: bool = True) -> str:
    out = [f"digraph {dot_text(g.title)} {{",
           "  rankdir=LR; compound=true; fontname=\"Helvetica\"; nodesep=0.5; ranksep=0.9;",
           "  node [fontname=\"Helvetica\", fontsize=11, style=filled, fillcolor=\"#ffffff\"];",
           "  edge [fontname=\"Helvetica\", fontsize=9];"]
    children, members = _cluster_tree(g)

    def emit(cluster: str | None, depth: int) -> None:
        pad = "  " * depth
        for n in members.get(cluster, []):
            fill = _DOT_FILL.get(n.state or "", "#ffffff")
            # the tooltip puts every node into the PNG's image map (-Tcmapx)
            out.append(f"{pad}{n.id} [label={dot_text(n.label)}, shape={_DOT_SHAPES[n.kind]}, "
                       f"fillcolor=\"{fill}\", tooltip={dot_text(n.name)}];")
        for c in children.get(cluster, []):
            out.append(f"{pad}subgraph cluster_{c.id} {{")
            fill = _DOT_FILL.get(c.state or "", "#f6f8fa")
            out.append(f"{pad}  label={dot_text(c.label)}; style=\"rounded,filled\"; "
                       f"fillcolor=\"{fill}\";")
            emit(c.id, depth + 1)
            out.append(f"{pad}}}")

    emit(None, 1)
    for i, e in enumerate(g.edges.values()):
        colour = f", color=\"{_LINK_COLOURS[e.state]}\", penwidth=3" if e.state else ""
        if e.kind == "tunnel":
            # the label is a box on the tunnel's own path: a node, so dot keeps every other
            # edge and label off it, and the tunnel visibly runs through what it carries
            box = f"tunnel_label_{i}"
            style = _DOT_EDGES["tunnel"].replace(", decorate=true", "").replace("dir=both, ", "")
            out.append(f"  {box} [shape=box, style=\"rounded,filled\", fillcolor=\"#ddf4ff\", "
                       f"color=\"{_LINK_COLOURS.get(e.state or '', _TUNNEL)}\", fontsize=9, "
                       f"margin=\"0.1,0.05\", label={_tunnel_label(e.label)}];")
            out.append(f"  {e.src} -> {box} [{style}, dir=back{colour}];")
            out.append(f"  {box} -> {e.dst} [{style}{colour}];")
            continue
        attrs = [_DOT_EDGES[e.kind]]
        if e.label:
            attrs.append(f"label={dot_text(e.label)}")
        out.append(f"  {e.src} -> {e.dst} [{', '.join(attrs)}{colour}];")
    if legend and g.nodes:
        out.extend(_legend({n.kind for n in g.nodes.values()} | {e.kind for e in g.edges.values()}))
    out.append("}")
    return "\n".join(out) + "\n"


class GraphvizMissing(RuntimeError):
    pass


class GraphvizFailed(RuntimeError):
    """``dot`` ran and refused (its own message says why)."""


def render_image(dot_source: str, fmt: str, out: Path, *, image_map: Path | None = None) -> None:
    """Draw with Graphviz ``dot`` (installed by .ci/setup); optionally also the image map."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing("Graphviz 'dot' is not installed (apt-get install graphviz, "
                              "or run bash .ci/setup)")
    argv = [exe, f"-T{fmt}", "-o", str(out)]
    if image_map is not None:
        argv += ["-Tcmapx", "-o", str(image_map)]
    done = subprocess.run(argv, input=dot_source, text=True, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise GraphvizFailed(f"Graphviz 'dot' could not write {out}: "
                             f"{done.stderr.strip() or f'exit {done.returncode}'}")


def draw(g: Graph, fmt: str) -> str:
    if fmt == "mermaid":
        return mermaid(g)
    if fmt == "dot":
        return dot(g)
    raise ValueError(f"{fmt} is an image format: use render_image")


def names(g: Graph) -> Mapping[str, str]:
    return {n.id: n.name for n in g.nodes.values()}
