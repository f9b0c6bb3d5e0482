"""The output the README shows is the output users get: the tour's typo, reach of S2 and the
sample PR comment are regenerated here and compared with the README text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from netweave.cli import main
from netweave.diff import compare as diff
from netweave.diff import report as diff_report

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"
TYPO = ("next_hop: 192.168.129.5 ", "next_hop: 192.168.129.6 ")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    return README[start:README.index("\n## ", start + 1)]


def blocks(text: str, fence: str = "```") -> list[str]:
    return re.findall(rf"^{fence}[a-z]*\n(.*?)^{fence}$", text, re.MULTILINE | re.DOTALL)


@pytest.fixture
def typo_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout whose stacks/s2-many-to-many.yaml has the tour's typo; cwd is its root."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / S2.name).write_text(S2.read_text().replace(*TYPO, 1))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tour_lint_output_after_the_typo_is_what_lint_prints(
        typo_clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown = next(b for b in blocks(section("A five-minute tour")) if "error R301" in b)
    assert main(["lint", "stacks/s2-many-to-many.yaml"]) == 1
    assert capsys.readouterr().out == shown


def test_reach_sample_of_s2_is_what_reach_prints(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    shown = next(b for b in blocks(section("Reachability"))
                 if b.startswith("$ netweave reach stacks/s2-many-to-many.yaml\n"))
    monkeypatch.chdir(ROOT)
    assert main(["reach", "stacks/s2-many-to-many.yaml"]) == 0
    assert capsys.readouterr().out == shown.split("\n", 1)[1]


def test_sample_pr_comment_is_what_diff_writes_for_the_tour_typo(typo_clone: Path) -> None:
    shown = blocks(README[README.index("### A sample comment"):], "````")[0]
    report = diff.compare(str(S2), "stacks/s2-many-to-many.yaml")
    written = diff_report.markdown(report).replace(f"`{S2}`", "`main:stacks/s2-many-to-many.yaml`")
    assert written == shown


def _lint_formats() -> str:
    text = section("Lint")
    return text[text.index("### Output formats"):]


def _lint_out(fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["lint", "--format", fmt, "stacks/s2-many-to-many.yaml"]) == 1
    return capsys.readouterr().out


def test_github_sample_is_what_lint_prints_for_the_typo(typo_clone: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    shown = next(b for b in blocks(_lint_formats()) if b.startswith("::error "))
    assert _lint_out("github", capsys) == shown


def test_json_sample_is_what_lint_prints_for_the_typo_but_the_p401(
        typo_clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown = next(b for b in blocks(_lint_formats()) if '"format": "netweave-lint"' in b)
    printed = json.loads(_lint_out("json", capsys))
    assert [f["code"] for f in printed["files"][0]["findings"]] == ["P401", "R301"]
    printed["files"][0]["findings"] = printed["files"][0]["findings"][1:]
    assert json.dumps(printed, indent=2) + "\n" == shown


def test_sarif_samples_are_the_r301_result_and_rule_lint_prints(
        typo_clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result, rule = [json.loads(b) for b in blocks(_lint_formats())
                    if '"ruleId"' in b or '"shortDescription"' in b]
    run = json.loads(_lint_out("sarif", capsys))["runs"][0]
    assert result in run["results"] and result["ruleId"] == "R301"
    assert rule in run["tool"]["driver"]["rules"] and rule["id"] == "R301"
