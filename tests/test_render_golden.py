"""Golden files: the rendered trees of S1-S4, committed under tests/golden/ so that a
change to a template or the model shows up as a reviewable diff.

Regenerate after an intended change: ``NETWEAVE_UPDATE_GOLDEN=1 venv/bin/python -m pytest
tests/test_render_golden.py`` and review ``git diff tests/golden``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from modules.render import render_topology, write_rendered
from tests.render_helpers import SCENARIOS, load

GOLDEN = Path(__file__).resolve().parent / "golden"
BINARY = {".tar"}  # archives are checked by their layout tests, not byte diffs


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix not in BINARY}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_render_matches_the_golden_files(scenario: str, tmp_path: Path) -> None:
    topology, index = load(scenario)
    write_rendered(render_topology(topology, index), tmp_path)
    golden = GOLDEN / scenario
    if os.environ.get("NETWEAVE_UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(tmp_path, golden, ignore=shutil.ignore_patterns("*.tar"))
    got, want = _tree(tmp_path), _tree(golden)
    assert sorted(got) == sorted(want), "files differ: rerun with NETWEAVE_UPDATE_GOLDEN=1"
    for name in want:
        assert got[name] == want[name], f"{scenario}/{name} differs from the golden file"
