"""netweave verify: the main job runs every stage in order and stops at the first failure."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from netweave.cli import main

ROOT = Path(__file__).resolve().parent.parent
S2 = str(ROOT / "stacks" / "s2-many-to-many.yaml")


def test_verify_runs_every_stage_of_s2_in_order(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    as_root = os.geteuid() == 0  # emulation needs network namespaces
    skip = [] if as_root else ["--skip", "emulate"]
    assert main(["verify", S2, "--out", str(tmp_path), *skip]) == 0
    out = capsys.readouterr().out
    done = [m.group(1) for m in re.finditer(r"^== ([a-z]+): ok in", out, re.MULTILINE)]
    assert done == ["lint", "reach", "render", "plan", "graph"] + (["emulate"] if as_root else [])
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
    assert "no stage named deploy" in capsys.readouterr().err


def _verify(fails: str | None, skip: list[str], tmp_path: Path) -> int:
    from argparse import Namespace

    from netweave.commands import verify

    return verify.run(Namespace(file=S2, skip=skip, out=str(tmp_path)),
                      main=lambda argv: 1 if argv[0] == fails else 0)


def test_verify_ends_with_one_line_naming_the_stages_that_passed_and_skipped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(None, ["emulate"], tmp_path) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "verify: 5 stages ok (lint, reach, render, plan, graph); skipped: emulate"


def test_verify_says_at_which_stage_it_stopped(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify("render", [], tmp_path) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "verify: stopped at render; later stages not run"


def test_a_passing_stage_is_one_line_unless_verbose(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", S2, "--out", str(tmp_path / "a"), "--skip", "emulate"]) == 0
    quiet = capsys.readouterr().out
    assert "== plan: ok" in quiet and "netweave:qingcloud:Vcpe vcpe01" not in quiet  # the plan
    assert len(quiet.splitlines()) == 2 * 5 + 2  # command and result per stage, skip, verdict
    assert main(["verify", S2, "--out", str(tmp_path / "b"), "--skip", "emulate", "--verbose"]) == 0
    assert "+ netweave:qingcloud:Vcpe vcpe01" in capsys.readouterr().out


def test_the_failing_stage_shows_what_it_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "s2.yaml"
    broken.write_text(Path(S2).read_text().replace("next_hop: 192.168.129.5 ", "next_hop: 192.168.129.6 ", 1))
    assert main(["verify", str(broken), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "error R301 next-hop-not-router" in out and "== lint: failed (exit 1)" in out
