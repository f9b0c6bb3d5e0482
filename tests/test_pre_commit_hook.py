"""`.pre-commit-hooks.yaml`: netweave lint as a pre-commit hook, checked with pre-commit's own
manifest loader (https://pre-commit.com/#creating-new-hooks)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
clientlib = pytest.importorskip("pre_commit.clientlib",
                                reason="pre-commit not installed (pip install -e '.[test]')")
identify = pytest.importorskip("identify.identify")


def hook() -> dict[str, Any]:
    (found,) = clientlib.load_manifest(str(MANIFEST))  # raises on a manifest pre-commit refuses
    assert isinstance(found, dict)
    return found


def test_the_manifest_is_valid_for_pre_commit_and_runs_netweave_lint() -> None:
    h = hook()
    assert (h["id"], h["language"], h["entry"]) == ("netweave-lint", "python", "netweave lint")
    assert h["pass_filenames"] is True


@pytest.mark.parametrize(("path", "linted"), [
    ("stacks/s2-many-to-many.yaml", True), ("stacks/edge.yml", True),
    ("stacks/netweave.schema.json", False), ("tests/cases/addressing/A201-vxnet-outside-vpc-bad.yaml", False),
    (".github/workflows/pr-diff.yml", False), ("Pulumi.yaml", False),
])
def test_the_hook_picks_the_stack_files_only(path: str, linted: bool) -> None:
    h = hook()
    picked = (re.search(h["files"], path) is not None and not re.search(h["exclude"], path)
              and set(h["types"]) <= identify.tags_from_filename(path))
    assert picked is linted


@pytest.mark.parametrize(("files", "status"), [
    (["stacks/s1-one-to-one.yaml", "stacks/s2-many-to-many.yaml"], 0),
    (["tests/fixtures/diff/s2-route-typo.yaml"], 1),
])
def test_the_entry_with_the_staged_files_refuses_a_commit_with_lint_errors(files: list[str],
                                                                            status: int) -> None:
    # pre-commit runs `entry` with the staged file names appended
    argv = [sys.executable, "-m", "netweave", *shlex.split(hook()["entry"])[1:], *files]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == status, done.stdout + done.stderr
