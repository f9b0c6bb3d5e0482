"""The GitHub workflows: actionlint, their safety properties, and the diff script end to end."""

from __future__ import annotations

import json
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


def tool(name: str) -> str | None:
    """A linter installed by the test extras (in the venv's bin) or on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def actionlint() -> str | None:
    return tool("actionlint")


USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", re.MULTILINE)


@pytest.mark.skipif(actionlint() is None, reason="actionlint not installed (pip install -e '.[test]')")
def test_workflows_pass_actionlint() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    proc = subprocess.run([actionlint() or "", "-shellcheck=", "-pyflakes=", *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# https://docs.zizmor.sh/usage/#exit-codes: 0 clean; 11-14 the highest severity found
# (11 informational ... 14 high). --offline: no GitHub API (the tests have no network).
@pytest.mark.skipif(tool("zizmor") is None, reason="zizmor not installed (pip install -e '.[test]')")
def test_workflows_have_no_medium_or_high_zizmor_finding() -> None:
    proc = subprocess.run([tool("zizmor") or "", "--offline", "--no-progress", "--min-severity", "medium",
                           "--format", "plain", str(WORKFLOWS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_only_zizmor_ignore_is_the_documented_workflow_run_pattern() -> None:
    ignores = [(path.name, line.strip()) for path in WORKFLOWS.glob("*.yml")
               for line in path.read_text().splitlines() if "zizmor:" in line]
    assert ignores == [("pr-comment.yml", "on: # zizmor: ignore[dangerous-triggers] the safe workflow_run "
                                          "pattern: see the header")]
    header = (WORKFLOWS / "pr-comment.yml").read_text().split("\nname:")[0]
    for mitigation in ("never checks out or runs the PR's code", "workflow_run.head_sha",
                       "github-actions[bot]"):
        assert mitigation in header


def test_every_action_is_pinned_to_a_commit_with_its_release_tag_named() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for action, rest in USES.findall(path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), (path.name, action)
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", rest), (path.name, action, "name the tag")


def test_one_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.yml"):
        for action, rest in USES.findall(path.read_text()):
            name, _, sha = action.partition("@")
            pins.setdefault(name, set()).add(f"{sha}{rest.strip()}")
    assert {name: len(shas) for name, shas in pins.items() if len(shas) > 1} == {}


def test_permissions_are_granted_per_job_and_none_at_the_workflow_level() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        wf = workflow(path.name)
        assert wf["permissions"] == {}, path.name
        for name, job in wf["jobs"].items():
            assert isinstance(job.get("permissions"), dict), (path.name, name)


def test_every_checkout_drops_its_credentials() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for step in steps(workflow(path.name)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_every_workflow_runs_once_per_pull_request_or_branch() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        group = workflow(path.name)["concurrency"]["group"]
        assert group.startswith(f"{path.stem}-") and "${{" in group, path.name


def test_every_workflow_has_triggers_jobs_and_steps() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        wf = workflow(path.name)
        assert wf["name"] and wf["on"] and wf["jobs"], path.name
        for job in wf["jobs"].values():
            assert job["runs-on"] and job["steps"] and job.get("timeout-minutes"), path.name
            for step in job["steps"]:
                assert ("uses" in step) != ("run" in step), (path.name, step)


def test_pr_diff_runs_on_pull_requests_without_secrets_or_write_access() -> None:
    wf = workflow("pr-diff.yml")
    assert "pull_request" in wf["on"] and "pull_request_target" not in wf["on"]
    assert [job["permissions"] for job in wf["jobs"].values()] == [{"contents": "read"}]
    assert "secrets." not in (WORKFLOWS / "pr-diff.yml").read_text()
    runs = " ".join(s.get("run", "") for s in steps(wf))
    assert "netweave lint --format github" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps(wf))


def test_pr_comment_runs_after_pr_diff_and_never_checks_out_the_pr() -> None:
    wf = workflow("pr-comment.yml")
    assert wf["on"]["workflow_run"]["workflows"] == ["pr-diff"]
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "write"}
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert set(checkout["with"]) == {"persist-credentials"}  # the default branch, never the PR's head
    run = " ".join(s.get("run", "") for s in job["steps"])
    assert "python3 -m netweave.diff.pr_comment" in run
    assert "*[!0-9]*" in run  # the PR number from the artifact is checked to be a number


def test_pr_comment_verifies_the_pr_number_against_the_head_commit_github_reported() -> None:
    (job,) = workflow("pr-comment.yml")["jobs"].values()
    (post,) = [s for s in job["steps"] if "netweave.diff.pr_comment" in s.get("run", "")]
    assert post["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert '--head-sha "$HEAD_SHA"' in post["run"]
    assert "${{" not in post["run"]  # event data reaches the shell through env only


def test_pr_comment_skips_cancelled_runs_but_posts_for_failed_ones() -> None:
    (job,) = workflow("pr-comment.yml")["jobs"].values()
    assert "github.event.workflow_run.conclusion != 'cancelled'" in job["if"]


def test_preview_uses_pulumi_actions_with_pinned_cli_and_comment_editing() -> None:
    wf = workflow("pulumi-preview.yml")
    job = wf["jobs"]["preview"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in wf["jobs"]["stacks"]["if"] and job["needs"] == "stacks"
    (pulumi,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    options = pulumi["with"]
    assert options["command"] == "preview" and options["diff"] is True
    assert options["upsert"] is True  # a PR adding a stack file previews a stack not yet created
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


def _pr_diff(tmp_path: Path, **env_extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """pr-diff.sh on a repository whose PR changes s2 (a route typo) and adds a stack."""
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
    env = {key: value for key, value in os.environ.items() if key != "FAIL_ON_LOSS"}
    env.update({"PATH": f"{bin_dir}:{os.environ['PATH']}",
                "PYTHONPATH": f"{ROOT / 'modules'}{os.pathsep}{ROOT}",
                "PR_NUMBER": "7", **env_extra})
    proc = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "pr-diff.sh"), "main", "comments"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    return proc, repo / "comments"


def test_pr_diff_script_writes_one_marked_comment_per_changed_stack(tmp_path: Path) -> None:
    proc, out = _pr_diff(tmp_path, FAIL_ON_LOSS="false")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["new.md", "pr-number", "s2.md"]
    assert (out / "pr-number").read_text().strip() == "7"
    s2 = (out / "s2.md").read_text()
    assert s2.startswith("<!-- netweave-diff stack=s2 -->")
    assert "`vm02 ⇄ vm03`" in s2
    new = (out / "new.md").read_text()
    assert new.startswith("<!-- netweave-diff stack=new -->") and "| type | name |" in new


def test_pr_diff_script_fails_the_check_on_lost_reachability_after_writing_every_comment(
        tmp_path: Path) -> None:
    proc, out = _pr_diff(tmp_path)  # FAIL_ON_LOSS defaults to true
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["new.md", "pr-number", "s2.md"]
    assert "::error title=netweave diff::stack s2 loses reachability" in proc.stdout


def test_pr_diff_script_refuses_a_fail_on_loss_that_is_not_true_or_false(tmp_path: Path) -> None:
    proc, _ = _pr_diff(tmp_path, FAIL_ON_LOSS="yes")
    assert proc.returncode == 2 and "FAIL_ON_LOSS must be true or false" in proc.stderr


def test_pr_diff_fails_on_loss_unless_the_repository_variable_says_false() -> None:
    (job,) = workflow("pr-diff.yml")["jobs"].values()
    (diff,) = [s for s in job["steps"] if "pr-diff.sh" in s.get("run", "")]
    assert diff["env"]["FAIL_ON_LOSS"] == "${{ vars.NETWEAVE_FAIL_ON_LOSS || 'true' }}"
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"  # the comment explaining the red check is still posted


def test_lint_uploads_the_sarif_lint_writes_then_fails_on_errors(tmp_path: Path) -> None:
    (job,) = workflow("lint.yml")["jobs"].values()
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    names = [s.get("name") or s["uses"].split("@")[0] for s in job["steps"]]
    assert names.index("Lint every stack (SARIF)") < names.index("Upload to code scanning") \
        < names.index("Fail on lint errors")
    lint = next(s for s in job["steps"] if s.get("id") == "lint")
    upload = next(s for s in job["steps"] if s.get("name") == "Upload to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "netweave.sarif" and "always()" in upload["if"]
    # a fork PR's token cannot write security events: the upload is for this repository's PRs
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    # the lint step itself, on a broken stack: the SARIF is written and the status kept
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "s2.yaml").write_text(ROUTE_TYPO.read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "netweave").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m netweave "$@"\n')
    (bin_dir / "netweave").chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(out),
           "PYTHONPATH": f"{ROOT / 'modules'}{os.pathsep}{ROOT}"}
    subprocess.run(["bash", "-e", "-c", lint["run"]], cwd=tmp_path, env=env, check=True, timeout=120)
    assert out.read_text() == "status=1\n"
    results = json.loads((tmp_path / "netweave.sarif").read_text())["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"P401", "R301"}
