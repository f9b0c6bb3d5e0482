"""The GitHub workflows: actionlint, their safety properties, and the diff script end to end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"
ROUTE_TYPO = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"


def workflow(name: str) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as true
    return {("on" if key is True else str(key)): value for key, value in raw.items()}


def steps(wf: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in wf["jobs"].values() for s in job["steps"]]


def actionlint() -> str | None:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    return found


@pytest.mark.skipif(actionlint() is None, reason="actionlint not installed (pip install -e '.[test]')")
def test_workflows_pass_actionlint() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    proc = subprocess.run([actionlint() or "", "-shellcheck=", "-pyflakes=", *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_workflow_has_triggers_jobs_and_steps() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        wf = workflow(path.name)
        assert wf["name"] and wf["on"] and wf["jobs"], path.name
        for job in wf["jobs"].values():
            assert job["runs-on"] and job["steps"] and job.get("timeout-minutes"), path.name
            for step in job["steps"]:
                assert ("uses" in step) != ("run" in step), (path.name, step)
                if "uses" in step:
                    assert re.search(r"@v\d+$", step["uses"]), step["uses"]


def test_pr_diff_runs_on_pull_requests_without_secrets_or_write_access() -> None:
    wf = workflow("pr-diff.yml")
    assert "pull_request" in wf["on"] and "pull_request_target" not in wf["on"]
    assert wf["permissions"] == {"contents": "read"}
    assert "secrets." not in (WORKFLOWS / "pr-diff.yml").read_text()
    runs = " ".join(s.get("run", "") for s in steps(wf))
    assert "netweave lint --format github" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps(wf))


def test_pr_comment_runs_after_pr_diff_and_never_checks_out_the_pr() -> None:
    wf = workflow("pr-comment.yml")
    assert wf["on"]["workflow_run"]["workflows"] == ["pr-diff"]
    assert wf["permissions"]["pull-requests"] == "write"
    checkout = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/checkout@"))
    assert "with" not in checkout  # the default branch, never the PR's head
    run = " ".join(s.get("run", "") for s in steps(wf))
    assert "python -m netweave.diff.pr_comment" in run
    assert "*[!0-9]*" in run  # the PR number from the artifact is checked to be a number


def test_preview_uses_pulumi_actions_with_pinned_cli_and_comment_editing() -> None:
    wf = workflow("pulumi-preview.yml")
    job = wf["jobs"]["preview"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in wf["jobs"]["stacks"]["if"] and job["needs"] == "stacks"
    (pulumi,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    options = pulumi["with"]
    assert options["command"] == "preview" and options["diff"] is True
    assert options["comment-on-pr"] is True and options["edit-pr-comment"] is True
    assert options["always-include-summary"] is True
    assert re.fullmatch(r"\d+\.\d+\.\d+", options["pulumi-version"])
    assert options["policyPacks"] == "policy"
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.list) }}"


def test_preview_lists_every_stack_file_but_the_schema(tmp_path: Path) -> None:
    (run,) = [s["run"] for s in workflow("pulumi-preview.yml")["jobs"]["stacks"]["steps"] if "run" in s]
    (tmp_path / "stacks").mkdir()
    for name in ("s1-one-to-one.yaml", "s2-many-to-many.yaml", "netweave.schema.json"):
        (tmp_path / "stacks" / name).write_text("")
    out = tmp_path / "out"
    subprocess.run(["bash", "-c", run], cwd=tmp_path, env={**os.environ, "GITHUB_OUTPUT": str(out)},
                   check=True, timeout=30)
    assert out.read_text() == 'list=["s1-one-to-one", "s2-many-to-many"]\n'


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def test_pr_diff_script_writes_one_marked_comment_per_changed_stack(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    (repo / "stacks" / "s2.yaml").write_text(S2.read_text())
    (repo / "stacks" / "other.yaml").write_text(S2.read_text())
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "change")
    (repo / "stacks" / "s2.yaml").write_text(ROUTE_TYPO.read_text())
    (repo / "stacks" / "new.yaml").write_text(S2.read_text())
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "head")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "netweave"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m netweave "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "PYTHONPATH": f"{ROOT / 'modules'}{os.pathsep}{ROOT}",
           "PR_NUMBER": "7"}
    proc = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "pr-diff.sh"), "main", "comments"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = repo / "comments"
    assert sorted(p.name for p in out.iterdir()) == ["new.md", "pr-number", "s2.md"]
    assert (out / "pr-number").read_text().strip() == "7"
    s2 = (out / "s2.md").read_text()
    assert s2.startswith("<!-- netweave-diff stack=s2 -->")
    assert "`vm02 ⇄ vm03`" in s2
    new = (out / "new.md").read_text()
    assert new.startswith("<!-- netweave-diff stack=new -->") and "| type | name |" in new
