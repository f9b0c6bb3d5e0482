"""netweave reach: the matrix, --explain, json, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from netweave.cli import main

ROOT = Path(__file__).resolve().parent.parent
S2 = str(ROOT / "stacks" / "s2-many-to-many.yaml")
BROKEN = str(ROOT / "tests" / "cases" / "s2-broken" / "missing-return-route.yaml")
LEAK = str(ROOT / "tests" / "cases" / "paths" / "intent-leak.yaml")


def test_reach_of_a_working_stack_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", S2]) == 0
    assert "summary: 6 of 6 pings work; intent: 2 of 2 must_reach hold" in capsys.readouterr().out


def test_reach_grid_marks_intent_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["reach", S2])
    rows = {line.split()[1]: line.split()[2:] for line in capsys.readouterr().out.splitlines()
            if line.startswith("from ")}
    assert rows["vm03"] == ["ok", "ok*", "-"]


def test_reach_with_a_missing_return_route_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", BROKEN]) == 1
    out = capsys.readouterr().out
    assert "vm03 must reach vm02: VIOLATED" in out
    assert "x<*" in out  # vm03's request arrives, the reply dies


def test_reach_with_a_leaking_segmentation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", LEAK]) == 1
    assert "vpc01 must not reach vpc02: VIOLATED" in capsys.readouterr().out


def test_reach_of_an_unusable_file_exits_2_without_traceback(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds: [\n")
    assert main(["reach", str(bad)]) == 2
    out = capsys.readouterr()
    assert "S001" in out.out and "Traceback" not in out.out + out.err


def test_explain_names_every_hop_of_request_and_reply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", S2, "--explain", "vm03", "vm02"]) == 0
    out = capsys.readouterr().out
    assert "request  vm03 -> vcpe01 (route push via 192.168.129.5) -> tunnel -> vcpe02 -> vm02" in out
    assert ("reply    vm02 -> vpc02 (default via 172.17.0.1) -> vcpe02 (route push via 172.17.0.2) "
            "-> tunnel -> vcpe01 -> vm03") in out


def test_explain_shows_where_the_reply_dies_and_where_to_fix_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", BROKEN, "--explain", "vm03", "vm02"]) == 1
    out = capsys.readouterr().out
    assert "dies: reply vm02 -> vm03 dies at vm02: no route push for 192.168.129.0/24 in vxnet02" in out
    assert f"fix at: {BROKEN}:31:7 (vpcs.vpc02.route_push)" in out


def test_explain_of_an_unknown_host_suggests_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", S2, "--explain", "vm3", "vm02"]) == 2
    assert "did you mean 'vm03'?" in capsys.readouterr().err


def test_reach_json_lists_hosts_and_every_ordered_pair(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", S2, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hosts"] == ["vm01", "vm02", "vm03"]
    assert len(data["pairs"]) == 6 and all(p["reachable"] for p in data["pairs"])
    pair = next(p for p in data["pairs"] if (p["from"], p["to"]) == ("vm03", "vm02"))
    assert pair["intent"] == "must_reach"
    assert [h["node"] for h in pair["forward"]["hops"]] == [
        "vm03", "vcpe01", "tunnel:vcpe01-vcpe02", "vcpe02", "vm02"]


def test_reach_json_explain_reports_the_failure_path(capsys: pytest.CaptureFixture[str]) -> None:
    main(["reach", BROKEN, "--format", "json", "--explain", "vm03", "vm02"])
    (pair,) = json.loads(capsys.readouterr().out)["pairs"]
    assert (pair["reachable"], pair["forward"]["delivered"]) == (False, True)
    assert pair["back"]["failure_path"] == ["vpcs", "vpc02", "route_push"]


def test_reach_lists_broken_pairs_instead_of_a_grid_for_many_hosts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = Path(BROKEN).read_text()
    extra = "".join(f"  vm1{i:02d}: {{vxnet: vxnet01, address: 192.168.128.{100 + i}}}\n"
                    for i in range(30))
    many = tmp_path / "many.yaml"
    many.write_text(text.replace("hosts:\n", "hosts:\n" + extra, 1))
    assert main(["reach", str(many)]) == 1
    out = capsys.readouterr().out
    assert "33 hosts" in out and "from vm01" not in out
    assert "  vm02 -> vm03 dies at vm02: no route push for 192.168.129.0/24 in vxnet02" in out


def test_a_violated_intent_says_how_many_of_its_directions_fail(
        capsys: pytest.CaptureFixture[str]) -> None:
    main(["reach", BROKEN])
    assert "vm03 must reach vm02: VIOLATED (2 of 2 directions)" in capsys.readouterr().out
