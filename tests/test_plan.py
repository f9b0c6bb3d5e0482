"""netweave plan: the program under mocks, in a child process, with secrets hidden."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from netweave.cli import main
from netweave.deploy import plan

ROOT = Path(__file__).resolve().parent.parent
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"
TOY = "tests.fixtures.toy_program"


@pytest.fixture(scope="module")
def s2_plan() -> plan.Plan:
    return plan.run(S2, "s2-many-to-many")


def by_name(p: plan.Plan, name: str, kind: str = "") -> plan.PlannedResource:
    return next(r for r in p.resources if r.name == name and r.type.endswith(kind))


def test_s2_plan_declares_the_vcpes_their_extra_nic_and_the_route_pushes(s2_plan: plan.Plan) -> None:
    names = {(plan.short_type(r.type), r.name) for r in s2_plan.resources}
    assert {("qingcloud:Instance", "vcpe01"), ("qingcloud:Instance", "vcpe02"),
            ("qingcloud:Nic", "vcpe01-nic1"), ("qingcloud:InstanceRoutes", "vm03-routes"),
            ("netweave:qingcloud:Vpc", "vpc01")} <= names
    assert s2_plan.error is None


def test_plan_records_parents_and_dependencies(s2_plan: plan.Plan) -> None:
    nic = by_name(s2_plan, "vcpe01-nic1")
    assert s2_plan.name_of(nic.parent) == "netweave:qingcloud:Vcpe vcpe01"
    deps = {s2_plan.name_of(d) for d in nic.dependencies}
    assert {"qingcloud:Instance vcpe01", "qingcloud:Vxnet vxnet03"} <= deps


def test_plan_shows_key_inputs(s2_plan: plan.Plan) -> None:
    push = by_name(s2_plan, "vm03-routes")
    assert push.inputs["routes"] == [{"destination": "172.17.0.0/24", "next_hop": "192.168.129.5"}]


def test_secret_inputs_are_shown_as_secret_and_never_in_the_output(s2_plan: plan.Plan) -> None:
    instance = by_name(s2_plan, "vcpe01", ":Instance")
    assert instance.inputs["userdata"] == "[secret]"
    out = plan.render(s2_plan, "json") + plan.render(s2_plan, "text") + plan.render(s2_plan, "markdown")
    assert "ip_forward" not in out and "__provider" not in out


def test_the_program_can_be_planned_twice_in_one_process() -> None:
    first = plan.run(S2, "s2", program=TOY)
    second = plan.run(S2, "s2", program=TOY)
    assert [r.as_dict() for r in first.resources] == [r.as_dict() for r in second.resources]


def test_invokes_are_answered_by_the_mocks() -> None:
    toy = plan.run(S2, "s2", program=TOY)
    assert by_name(toy, "vcpe01").inputs["osId"] == 2136


def test_secret_digests_compare_within_one_diff_only() -> None:
    a, b = plan.run_both((S2, "s2"), (S2, "s2"), program=TOY)
    assert by_name(a, "vcpe01").secrets == by_name(b, "vcpe01").secrets
    c = plan.run(S2, "s2", program=TOY)  # another salt
    assert by_name(c, "vcpe01").secrets != by_name(a, "vcpe01").secrets


def test_plan_command_text_lists_type_name_parent_and_dependencies(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(S2)]) == 0
    out = capsys.readouterr().out
    assert "+ qingcloud:Nic vcpe01-nic1\n    parent: netweave:qingcloud:Vcpe vcpe01" in out
    assert "    userdata: [secret]" in out
    assert "depends on: qingcloud:Instance vcpe01" in out


def test_plan_command_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(S2), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stack"] == "s2-many-to-many" and len(data["resources"]) > 10


def test_plan_command_markdown_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(S2), "--format", "markdown"]) == 0
    assert "| type | name | parent | key inputs | depends on |" in capsys.readouterr().out


def test_plan_needs_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("QY_ACCESS_KEY_ID", "QY_SECRET_ACCESS_KEY", "VULTR_API_KEY", "PULUMI_ACCESS_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    assert plan.run(S2, "s2").resources


def test_plan_of_an_unusable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds: [\n")
    assert main(["plan", str(bad)]) == 2
    assert "S001" in capsys.readouterr().out


def test_two_plans_forked_from_one_worker_equal_two_separate_runs(s2_plan: plan.Plan) -> None:
    extra = ROOT / "tests" / "fixtures" / "diff" / "s2-extra-nic.yaml"
    base, head = plan.run_both((S2, "s2-many-to-many"), (extra, "s2-many-to-many"))
    assert [r.as_dict() for r in base.resources] == [r.as_dict() for r in s2_plan.resources]
    alone = plan.run(extra, "s2-many-to-many")
    assert [r.as_dict() for r in head.resources] == [r.as_dict() for r in alone.resources]


def test_both_plans_of_a_diff_must_be_of_one_stack() -> None:
    with pytest.raises(ValueError, match="one stack"):
        plan.run_both((S2, "a"), (S2, "b"))


def test_a_plan_forked_after_lint_equals_the_worker_plan(s2_plan: plan.Plan) -> None:
    from netweave.lint import lint_file

    forked = plan.run(S2, "s2-many-to-many", linted=lint_file(str(S2)))
    assert [r.as_dict() for r in forked.resources] == [r.as_dict() for r in s2_plan.resources]


def test_a_plan_given_the_lint_result_does_not_lint_again() -> None:
    # In a fresh process: a fork needs this to be the only thread (pytest's may not be).
    code = f"""
from netweave.deploy import plan, program
from netweave.lint import lint_file
linted = lint_file({str(S2)!r})
def no_second_lint(path):
    raise AssertionError(path + " linted again")
program.lint_file = no_second_lint
planning = plan.start([({str(S2)!r}, linted)], "s2-many-to-many")
print(planning.child is not None, planning.result()[0].error)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.stdout.split() == ["True", "None"], done.stderr
