"""netweave verify: the main job runs every stage in order and stops at the first failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.cli import main

ROOT = Path(__file__).resolve().parent.parent
S2 = str(ROOT / "stacks" / "s2-many-to-many.yaml")


def test_verify_runs_every_stage_of_s2_in_order(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", S2, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    done = [line.split(":")[0][3:] for line in out.splitlines()
            if line.startswith("== ") and line.split(": ", 1)[1].startswith("ok")]
    assert done == ["lint", "reach", "render", "plan", "graph"]
    assert (tmp_path / "manifest.json").exists() and (tmp_path / "topology.svg").exists()


def test_verify_stops_at_the_first_failing_stage(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(S2).read_text().replace("next_hop: 192.168.129.5",
                                                   "next_hop: 192.168.129.6"))
    assert main(["verify", str(broken), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "== lint: failed (exit 1)" in out and "== reach:" not in out


def test_verify_refuses_an_unknown_stage_to_skip(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", S2, "--skip", "deploy"]) == 2
    assert "no stage named deploy" in capsys.readouterr().out
