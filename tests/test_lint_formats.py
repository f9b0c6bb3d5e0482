"""lint's machine formats: SARIF 2.1.0 (validated against the OASIS schema) and the
versioned JSON, on the bundled stacks and on broken ones."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import netweave
import pytest
from netweave.cli import main
from netweave.lint import lint_file
from netweave.lint.findings import RULES
from netweave.lint.report import JSON_FORMAT_VERSION, as_json, sarif
from netweave.version import version

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
STACKS = sorted((ROOT / "stacks").glob("*.yaml"))
BROKEN = [ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml",
          *sorted((ROOT / "tests" / "cases").glob("*/*-bad.yaml"))]


def sarif_of(*files: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(sarif([lint_file(str(f)) for f in files]))
    return log


def json_of(*files: Path) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(as_json([lint_file(str(f)) for f in files]))
    return out


def test_the_vendored_schema_is_the_oasis_errata_01_file() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == (
        "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e")
    schema_id = json.loads(SCHEMA_FILE.read_text())["id"]
    assert schema_id.endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


@pytest.mark.parametrize("files", [STACKS, BROKEN, [ROOT / "stacks" / "missing.yaml"]],
                         ids=["bundled-stacks", "broken-stacks", "missing-file"])
def test_sarif_validates_against_the_sarif_2_1_0_schema(files: list[Path]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(sarif_of(*files)), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_sarif_lists_every_rule_with_help_and_its_default_level() -> None:
    driver = sarif_of(*STACKS)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "netweave" and driver["version"] == version()
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    for rule in driver["rules"]:
        catalogue = RULES[rule["id"]]
        assert rule["name"] == catalogue.slug
        assert rule["shortDescription"]["text"] == catalogue.summary
        assert catalogue.summary in rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] == catalogue.severity.value


def test_every_sarif_result_points_at_its_rule_and_the_region_of_the_offending_value() -> None:
    log = sarif_of(*BROKEN)
    run = log["runs"][0]
    findings = [f for path in BROKEN for f in lint_file(str(path)).findings]
    assert len(run["results"]) == len(findings) > 40
    for result, f in zip(run["results"], findings, strict=True):
        assert result["ruleId"] == f.code and f.code in {r["id"] for r in run["tool"]["driver"]["rules"]}
        assert result["level"] == f.level.value and result["message"]["text"].startswith(f.message)
        (location,) = result["locations"]
        region = location["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (f.line, f.column)
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert location["physicalLocation"]["artifactLocation"]["uri"] == \
            Path(f.file).resolve().relative_to(Path.cwd()).as_posix()


def test_the_sarif_region_spans_exactly_the_mistyped_next_hop() -> None:
    typo = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"
    (r301,) = [r for r in sarif_of(typo)["runs"][0]["results"] if r["ruleId"] == "R301"]
    region = r301["locations"][0]["physicalLocation"]["region"]
    line = typo.read_text().splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1:region["endColumn"] - 1] == "192.168.129.6"
    assert "hint: the nearest vCPE NIC in vpc01 is 192.168.129.5" in r301["message"]["text"]


def test_the_command_line_writes_sarif_and_exits_as_lint_does(capsys: pytest.CaptureFixture[str]) -> None:
    typo = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"
    assert main(["lint", "--format", "sarif", str(typo)]) == 1
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0" and log["runs"][0]["invocations"][0]["exitCode"] == 1


def test_json_carries_its_format_version_and_the_counts() -> None:
    typo = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"
    out = json_of(*STACKS, typo)
    assert (out["format"], out["format_version"], out["netweave"]) == ("netweave-lint", JSON_FORMAT_VERSION,
                                                                        version())
    findings = [f for path in (*STACKS, typo) for f in lint_file(str(path)).findings]
    assert out["counts"] == {"files": len(STACKS) + 1,
                             "errors": sum(f.level.value == "error" for f in findings),
                             "warnings": sum(f.level.value == "warning" for f in findings)}
    assert out["counts"]["errors"] >= 2  # the typo's R301 and P401
    assert (out["status"], out["exit_code"]) == ("failed", 1)
    assert [(f["file"], f["errors"], f["warnings"]) for f in out["files"]][-1] == (str(typo), 2, 0)


def test_json_findings_have_start_and_end_positions() -> None:
    typo = ROOT / "tests" / "fixtures" / "diff" / "s2-route-typo.yaml"
    (r301,) = [f for f in json_of(typo)["files"][0]["findings"] if f["code"] == "R301"]
    assert r301["start"] == {"line": 24, "column": 19} == {"line": r301["line"], "column": r301["column"]}
    assert r301["end"] == {"line": 24, "column": 32}


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"netweave {version()}\n"


def test_the_package_version_is_pyprojects() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert netweave.__version__ == project["version"] == version()
