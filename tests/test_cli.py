"""The command line: exit codes and formats, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from netweave.cli import main

ROOT = Path(__file__).resolve().parent.parent
S2 = str(ROOT / "stacks" / "s2-many-to-many.yaml")


def test_lint_of_a_clean_stack_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", S2]) == 0
    assert "0 errors" in capsys.readouterr().out


def test_lint_of_a_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "no/such/stack.yaml"]) == 2
    assert "S000" in capsys.readouterr().out


def test_lint_of_broken_yaml_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds: [\n")
    assert main(["lint", str(bad)]) == 2
    assert f"{bad}:" in capsys.readouterr().out


def test_lint_json_format_lists_findings_with_locations(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds:\n  qc: {provider: qingcloud, zone: pek3a, zonee: x}\nversion: 1\n")
    assert main(["lint", "--format", "json", str(bad)]) == 2
    data = json.loads(capsys.readouterr().out)
    (f,) = data["files"][0]["findings"]
    assert (f["code"], f["line"], f["column"], f["hint"]) == ("S101", 2, 42, "did you mean 'zone'?")


def test_lint_github_format_emits_workflow_annotations(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds:\n  qc: {provider: qingcloud, zone: pek3a, zonee: x}\nversion: 1\n")
    main(["lint", "--format", "github", str(bad)])
    out = capsys.readouterr().out
    assert out.startswith(f"::error file={bad},line=2,col=42,title=S101 unknown-key::")


def test_runs_as_python_dash_m_netweave() -> None:
    proc = subprocess.run([sys.executable, "-m", "netweave", "lint", S2], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_numeric_name_is_a_located_finding_not_a_crash(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nclouds:\n  qc: {provider: qingcloud, zone: pek3a}\nhosts:\n  010: {}\n")
    assert main(["lint", str(bad)]) == 2
    assert f"{bad}:5:3:" in capsys.readouterr().out  # the key 010 itself, line 5


def test_render_into_a_path_that_is_a_file_says_so_and_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["render", S2, "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert str(taken) in err and "internal error" not in err


def test_graph_creates_the_folder_of_its_output_file(tmp_path: Path) -> None:
    out = tmp_path / "not-yet" / "s2.mmd"
    assert main(["graph", S2, "-o", str(out)]) == 0
    assert out.read_text().startswith("flowchart")


def test_graph_image_graphviz_cannot_write_is_a_message_not_an_internal_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not shutil.which("dot"):
        pytest.skip("Graphviz 'dot' is not installed (bash .ci/setup installs it)")
    assert main(["graph", S2, "--format", "svg", "-o", str(tmp_path)]) == 2  # a folder
    err = capsys.readouterr().err
    assert "could not write" in err and "internal error" not in err


def test_every_option_and_argument_of_every_command_says_what_it_is() -> None:
    import argparse

    from netweave.cli import parser

    top = parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    silent = [f"{name} {action.dest}" for name, command in sub.choices.items()
              for action in command._actions
              if action.help is None and not isinstance(action, argparse._HelpAction)]
    assert silent == []


@pytest.mark.parametrize("seconds", ["-1", "0", "soon"])
def test_emulate_refuses_a_bgp_timeout_that_is_no_positive_number(
        seconds: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["emulate", S2, "--bgp-timeout", seconds])
    assert usage.value.code == 2
    assert "above 0" in capsys.readouterr().err


def test_lint_imports_only_what_it_uses() -> None:
    """`netweave lint` does not load the other commands' machinery (the Pulumi program,
    the renderer, the emulators): it is half the start-up of a lint at 100k prefixes."""
    code = ("import sys\nfrom netweave.cli import main\n"
            f"main(['lint', {S2!r}])\n"
            "heavy = ('netweave.deploy', 'netweave.render', 'netweave.emulate', "
            "'netweave.qingcloud_emulator', 'netweave.diff', 'pulumi', 'jinja2')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy "
            "or '.'.join(m.split('.')[:2]) in heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.splitlines()[-1] == "[]"


def test_help_lists_every_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("lint", "reach", "diff", "emulate", "qingcloud-emulator"))


def test_a_process_that_skips_teardown_still_prints_all_its_output(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", S2, "--format", "json"]) == 0
    in_process = capsys.readouterr().out
    done = subprocess.run([sys.executable, "-m", "netweave", "lint", S2, "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, in_process)
