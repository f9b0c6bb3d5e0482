"""netweave graph FILE: the topology as a diagram (Mermaid, DOT, SVG or PNG)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netweave import graph
from netweave.lint import Unusable, load_topology, report

HELP = "draw the topology: clouds and VPCs as clusters, vxnets, hosts, vCPEs, tunnels"
DESCRIPTION = (HELP + ". Exit 0 drawn; 2 when the file is unusable or the image cannot be "
               "written.")
ORDER = 40


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="topology YAML file")
    p.add_argument("--format", choices=graph.FORMATS, default="mermaid",
                   help="mermaid (default) or dot: text; svg or png: an image via Graphviz (needs --out)")
    p.add_argument("--out", "-o", metavar="PATH",
                   help="write here (required for svg/png; default for text formats: stdout)")


def run(args: argparse.Namespace) -> int:
    try:
        topology, index, result = load_topology(args.file)
    except Unusable as bad:
        print(report.text([bad.result]))
        return 2
    g = graph.build(topology, index, result.design)
    if args.out:
        # `-o out/s2.svg` straight after a clone: out/ does not exist yet.
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.format in ("mermaid", "dot"):
        text = graph.draw(g, args.format)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if not args.out:
        print(f"netweave graph: --format {args.format} needs --out PATH", file=sys.stderr)
        return 2
    try:
        graph.render_image(graph.dot(g), args.format, Path(args.out))
    except (graph.GraphvizMissing, graph.GraphvizFailed) as problem:
        print(f"netweave graph: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0
