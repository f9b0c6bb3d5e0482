"""Golden files: the rendered trees of S1-S4, committed under tests/golden/ so that a
change to a template or the model shows up as a reviewable diff.

Regenerate after an intended change: ``NETWEAVE_UPDATE_GOLDEN=1 venv/bin/python -m pytest
tests/test_render_golden.py`` and review ``git diff tests/golden``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from netweave.render import render_topology, write_rendered

from tests.support.render_helpers import SCENARIOS, load

GOLDEN = Path(__file__).resolve().parent / "golden"
BINARY = {".tar", ".gz"}  # archives are checked by their layout tests, not byte diffs

# Key material is masked in the committed golden files: even render's placeholder keys
# look like real ones, and nothing that looks like a key belongs in git. The values are
# checked by the render tests that compare them with the key ring.
_KEY_LINE = re.compile(r"\b(PrivateKey|PresharedKey|secret)([ \t]*=[ \t]*)[^\n]+")
_PEM_KEY = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----|"
                      r"-----BEGIN OpenVPN Static key V1-----.*?-----END OpenVPN Static key V1-----",
                      re.DOTALL)
MASK = "<key material: masked in golden files>"


def masked(text: str) -> str:
    return _PEM_KEY.sub(MASK, _KEY_LINE.sub(rf"\1\2{MASK}", text))


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): masked(p.read_text()) for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix not in BINARY}


def _write_golden(rendered: Path, golden: Path) -> None:
    shutil.rmtree(golden, ignore_errors=True)
    for name, text in _tree(rendered).items():
        (golden / name).parent.mkdir(parents=True, exist_ok=True)
        (golden / name).write_text(text)
        shutil.copymode(rendered / name, golden / name)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_render_matches_the_golden_files(scenario: str, tmp_path: Path) -> None:
    topology, index = load(scenario)
    write_rendered(render_topology(topology, index), tmp_path)
    golden = GOLDEN / scenario
    if os.environ.get("NETWEAVE_UPDATE_GOLDEN"):
        _write_golden(tmp_path, golden)
    got, want = _tree(tmp_path), _tree(golden)
    assert sorted(got) == sorted(want), "files differ: rerun with NETWEAVE_UPDATE_GOLDEN=1"
    for name in want:
        assert got[name] == want[name], f"{scenario}/{name} differs from the golden file"


def test_golden_files_hold_no_key_material() -> None:
    for path in GOLDEN.rglob("*"):
        if path.is_file() and path.suffix not in BINARY:
            text = path.read_text()
            assert masked(text) == text, f"{path} holds key material"
