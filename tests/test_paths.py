"""Lint paths family: messages, hints and grouping (locations: tests/cases/paths/)."""

from __future__ import annotations

from pathlib import Path

from netweave.lint import lint_file, lint_text

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"


def _only(file: Path, code: str) -> str:
    (f,) = [f for f in lint_file(str(file)).findings if f.code == code]
    return f"{f.message}\nhint: {f.hint}"


def test_missing_return_route_names_the_hop_that_lacks_it() -> None:
    text = _only(CASES / "s2-broken" / "missing-return-route.yaml", "P402")
    assert "vm03 reaches vm02 but the reply dies at vm02: no route push for 192.168.129.0/24" in text


def test_missing_return_route_says_the_location_is_the_place_to_fix() -> None:
    text = _only(CASES / "s2-broken" / "missing-return-route.yaml", "P402")
    assert "reported at vpcs.vpc02.route_push, the place to fix" in text


def test_missing_return_route_hint_writes_the_route_push() -> None:
    text = _only(CASES / "s2-broken" / "missing-return-route.yaml", "P402")
    assert "hint: add the route push {destination: 192.168.129.0/24, next_hop: 172.17.0.2}" in text


def test_loop_message_names_the_cycle() -> None:
    assert "routing loop vcpe01 -> vcpe02 -> vcpe01" in _only(CASES / "paths" / "routing-loop.yaml",
                                                               "P404")


def test_empty_intent_endpoint_is_only_a_warning() -> None:
    result = lint_file(str(CASES / "paths" / "intent-empty.yaml"))
    assert result.exit_code == 0 and [f.code for f in result.warnings] == ["P405"]


def test_one_cause_for_many_host_pairs_is_reported_once() -> None:
    text = (CASES / "s2-broken" / "missing-return-route.yaml").read_text()
    vm03 = "  vm03: {vxnet: vxnet03, address: 192.168.129.3, instance: {lookup: address}}\n"
    assert vm03 in text
    text = text.replace(vm03, vm03 + vm03.replace("vm03", "vm04").replace(".129.3", ".129.4"))
    text = text.replace("{from: vm03, to: vm02}", "{from: vxnet03, to: vm02}")
    (f,) = [f for f in lint_text(text).findings if f.code == "P402"]
    assert "(and 1 more host pair)" in f.message
