"""Overlap and coverage rules at scale: one finding per broken object, never per pair."""

from __future__ import annotations

from pathlib import Path

from netweave.lint import lint_text


def _isolated_vpcs(count: int) -> str:
    lines = ["version: 1", "clouds:", "  qc: {provider: qingcloud, zone: pek3a}", "vpcs:"]
    for i in range(count):
        lines += [f"  vpc{i}:", "    cloud: qc", "    cidr: 192.168.0.0/16",
                  f"    vxnets: {{vx{i}: {{cidr: 192.168.1.0/24}}}}"]
    return "\n".join(lines) + "\n"


def test_many_isolated_vpcs_reusing_one_range_get_one_warning_each_not_one_per_pair() -> None:
    result = lint_text(_isolated_vpcs(200))
    assert [f.code for f in result.findings] == ["A204"] * 199
    assert result.exit_code == 0


def _hub_and_spokes(spokes: int, push: str) -> str:
    lines = ["version: 1", "clouds:", "  v: {provider: vultr, region: ams}", "vpcs:",
             "  hub: {cloud: v, cidr: 10.255.0.0/24, vxnets: {hubnet: {cidr: 10.255.0.0/24}}}"]
    for i in range(spokes):
        lines += [f"  vpc{i}:", "    cloud: v", f"    cidr: 10.{i}.0.0/24",
                  f"    vxnets: {{net{i}: {{cidr: 10.{i}.0.0/24}}}}",
                  f"    route_push: [{{destination: {push if i == 0 else '10.255.0.0/24'}, "
                  f"next_hop: 10.{i}.0.2}}]"]
    lines += ["vcpes:", "  hubc:", "    nics: [{vxnet: hubnet, address: 10.255.0.2}]",
              "    bgp: {asn: 65000, advertise: [10.255.0.0/24, "
              + ", ".join(f"10.{i}.0.0/24" for i in range(spokes)) + "]}"]
    for i in range(spokes):
        lines += [f"  c{i}:", f"    nics: [{{vxnet: net{i}, address: 10.{i}.0.2}}]",
                  f"    bgp: {{asn: {65001 + i}, advertise: [10.{i}.0.0/24]}}"]
    lines += ["tunnels:"]
    for i in range(spokes):
        lines += [f"  - ends: [{{vcpe: hubc, address: 169.254.{i}.1/30}}, "
                  f"{{vcpe: c{i}, address: 169.254.{i}.2/30}}]"]
    return "\n".join(lines) + "\n"


def test_a_spoke_routes_what_the_hub_declares() -> None:
    result = lint_text(_hub_and_spokes(30, "10.7.0.0/24"))
    assert [f for f in result.findings if f.code == "R302"] == []


def test_a_push_for_a_prefix_the_hub_does_not_declare_is_uncovered() -> None:
    result = lint_text(_hub_and_spokes(30, "10.77.0.0/24"))
    assert [(f.code, f.path) for f in result.findings if f.code == "R302"] == [
        ("R302", ("vpcs", "vpc0", "route_push", 0, "destination"))]


def test_an_interconnected_overlap_suggests_a_block_free_in_the_whole_domain() -> None:
    case = Path(__file__).resolve().parent / "cases" / "addressing" / "A203-interconnected-overlap-bad.yaml"
    vx01 = "vxnet01: {cidr: 192.168.128.0/24}"
    text = case.read_text().replace(vx01, vx01 + "\n      vxnet09: {cidr: 192.168.129.0/24}")
    [f] = [f for f in lint_text(text).findings if f.code == "A203"]
    assert f.hint == "renumber vxnet04: 192.168.130.0/24 is free in vpc03"
