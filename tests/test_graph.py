"""netweave graph: the picture holds every element, in Mermaid, DOT, SVG and PNG."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest
from netweave import graph
from netweave.cli import main
from netweave.lint import load_topology

from tests.support import mermaid_subset

ROOT = Path(__file__).resolve().parent.parent
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"
S3 = ROOT / "stacks" / "s3-hybrid-vultr.yaml"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed (.ci/setup)")


def s2_graph() -> graph.Graph:
    topology, index, _ = load_topology(str(S2))
    return graph.build(topology, index)


def all_names(path: Path = S2) -> set[str]:
    topology, _, _ = load_topology(str(path))
    return {*topology.vpcs, *(vx for v in topology.vpcs.values() for vx in v.vxnets),
            *topology.hosts, *topology.vcpes, *topology.vpn_servers, *topology.clouds}


def test_mermaid_of_s2_parses_back_to_the_same_clusters_nodes_and_edges() -> None:
    g = s2_graph()
    d = mermaid_subset.parse(graph.mermaid(g))
    assert d.clusters == {c.id: (c.label, c.parent) for c in g.clusters.values()}
    assert d.nodes == {n.id: (n.kind, n.label, n.cluster) for n in g.nodes.values()}
    assert [(s, dst, label) for s, _, dst, label in d.edges] == \
        [(e.src, e.dst, e.label) for e in g.edges.values()]


def test_mermaid_puts_vpcs_inside_their_cloud_and_hosts_inside_their_vpc() -> None:
    d = mermaid_subset.parse(graph.mermaid(s2_graph()))
    assert d.clusters["vpc_vpc01"][1] == "cloud_qc_pek3a"
    assert d.nodes["host_vm03"][2] == "vpc_vpc01"
    assert d.nodes["vcpe_vcpe01"][0] == "vcpe"


def test_vcpe_nics_are_edges_to_their_vxnets_labelled_with_interface_and_address() -> None:
    d = mermaid_subset.parse(graph.mermaid(s2_graph()))
    assert ("vcpe_vcpe01", "---", "vx_vxnet03", "eth1 192.168.129.5") in d.edges


def test_tunnel_edge_carries_the_bgp_advertisements_of_both_ends() -> None:
    d = mermaid_subset.parse(graph.mermaid(s2_graph()))
    (label,) = [lbl for s, arrow, dst, lbl in d.edges if arrow == "<==>"]
    assert "vcpe01 advertises 192.168.128.0/24, 192.168.129.0/24" in label
    assert "vcpe02 advertises 172.17.0.0/24" in label


def test_labels_with_quotes_and_pipes_survive_the_round_trip() -> None:
    g = graph.Graph("t")
    g.nodes["host_a"] = graph.GraphNode("host_a", "a", "host", 'say "hi" | <b>', None)
    assert mermaid_subset.parse(graph.mermaid(g)).nodes["host_a"][1] == 'say "hi" | <b>'


def test_long_prefix_lists_are_counted_not_drawn() -> None:
    assert graph.prefixes_label([f"10.0.{i}.0/24" for i in range(100)]).endswith("(+94 more)")


def test_merged_graph_marks_added_removed_and_changed_elements() -> None:
    base = s2_graph()
    head = s2_graph()
    del head.nodes["host_vm03"]
    head.nodes["host_vm09"] = graph.GraphNode("host_vm09", "vm09", "host", "vm09\n192.168.128.9", "vpc_vpc01")
    vm01 = head.nodes["host_vm01"]
    head.nodes["host_vm01"] = graph.GraphNode(vm01.id, vm01.name, vm01.kind, "vm01\n192.168.128.4",
                                              vm01.cluster)
    d = mermaid_subset.parse(graph.mermaid(graph.merged(base, head)))
    assert (d.classes["host_vm03"], d.classes["host_vm09"], d.classes["host_vm01"]) == \
        ("removed", "added", "changed")
    assert "host_vm02" not in d.classes


def test_removed_edges_are_drawn_with_a_link_style() -> None:
    base, head = s2_graph(), s2_graph()
    del head.edges["nic:vcpe01:vxnet03"]
    d = mermaid_subset.parse(graph.mermaid(graph.merged(base, head)))
    index = next(i for i, e in enumerate(d.edges) if e[0] == "vcpe_vcpe01" and e[2] == "vx_vxnet03")
    assert "#cf222e" in d.link_styles[index]


def test_dot_output_names_every_node() -> None:
    text = graph.dot(s2_graph())
    assert text.startswith('digraph "s2-many-to-many" {')  # directed: pushes have arrowheads
    for name in all_names() - {"qc-pek3a"}:
        assert name in text


@needs_dot
@pytest.mark.parametrize("stack", [S2, S3], ids=["s2", "s3"])
def test_svg_contains_every_node_name(stack: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    assert main(["graph", str(stack), "--format", "svg", "--out", str(out)]) == 0
    root = ElementTree.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    first_lines = {(t.text or "").split(" · ")[0] for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert all_names(stack) <= first_lines


@needs_dot
def test_png_of_s2_is_a_picture_whose_image_map_places_every_node(tmp_path: Path) -> None:
    png, cmap = tmp_path / "g.png", tmp_path / "g.map"
    graph.render_image(graph.dot(s2_graph()), "png", png, image_map=cmap)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 100
    image_map = cmap.read_text()
    topology, _, _ = load_topology(str(S2))
    for name in [*topology.hosts, *topology.vcpes, *(vx for v in topology.vpcs.values() for vx in v.vxnets)]:
        assert f'title="{name}"' in image_map, name


def test_graph_command_prints_mermaid_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(S2)]) == 0
    mermaid_subset.parse(capsys.readouterr().out)


def test_graph_command_needs_out_for_images(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(S2), "--format", "png"]) == 2
    assert "--out" in capsys.readouterr().err


def test_graph_of_an_unusable_file_reports_lint_findings(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds: [\n")
    assert main(["graph", str(bad)]) == 2
    assert "S001" in capsys.readouterr().out


def _dot_edges(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r"^  (\w+) -> (\w+) \[(.*)\];$", text, re.MULTILINE)


def test_route_pushes_point_from_the_receiving_vxnet_to_the_next_hop() -> None:
    pushes = [(a, b) for a, b, attrs in _dot_edges(graph.dot(s2_graph())) if "style=dashed" in attrs]
    assert ("vx_vxnet02", "vcpe_vcpe02") in pushes
    for _, _, attrs in _dot_edges(graph.dot(s2_graph())):
        if "style=dashed" in attrs:
            assert "dir=forward" in attrs and "dir=none" not in attrs


def test_every_edge_label_is_attached_to_its_edge() -> None:
    for a, b, attrs in _dot_edges(graph.dot(s2_graph())):
        if "label=" in attrs:
            assert "decorate=true" in attrs, (a, b)


def test_the_tunnel_runs_through_a_box_with_what_each_end_announces() -> None:
    text = graph.dot(s2_graph())
    box = re.search(r"^  (tunnel_label_\d+) \[.*label=<(.*)>\];$", text, re.MULTILINE)
    assert box is not None
    edges = [(a, b) for a, b, _ in _dot_edges(text)]
    assert ("vcpe_vcpe01", box.group(1)) in edges and (box.group(1), "vcpe_vcpe02") in edges
    label = box.group(2)
    assert "<b>vcpe01-vcpe02 · wireguard</b>" in label
    # one prefix a line, under the vCPE that announces it
    assert label.index("vcpe01 announces") < label.index("192.168.128.0/24") < label.index(
        "192.168.129.0/24") < label.index("vcpe02 announces") < label.index("172.17.0.0/24")


def test_the_legend_explains_exactly_the_kinds_drawn() -> None:
    s2 = graph.dot(s2_graph())
    assert "subgraph cluster_legend" in s2
    assert "route push: the vxnet's VMs send the destination to the next hop" in s2
    assert "3-D box" not in s2  # S2 has no VPN server
    assert "cluster_legend" not in graph.dot(s2_graph(), legend=False)
