"""The bundled stacks are the scenarios users bring: each must lint clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from netweave.commands.schema import SCHEMA_FILE, schema_text
from netweave.lint import lint_file

STACKS = sorted((Path(__file__).resolve().parent.parent / "stacks").glob("*.yaml"))


def test_scenarios_s1_s2_s3_are_bundled() -> None:
    names = {p.stem.split("-")[0] for p in STACKS}
    assert {"s1", "s2", "s3"} <= names


@pytest.mark.parametrize("stack", STACKS, ids=[p.name for p in STACKS])
def test_bundled_stack_lints_clean(stack: Path) -> None:
    result = lint_file(str(stack))
    assert [f"{f.code} {f.line}:{f.column} {f.message}" for f in result.findings] == []


@pytest.mark.parametrize("stack", STACKS, ids=[p.name for p in STACKS])
def test_bundled_stack_points_editors_at_the_schema(stack: Path) -> None:
    first = stack.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./netweave.schema.json"


def test_committed_json_schema_matches_the_model() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "run: netweave schema --write"


def test_json_schema_validates_the_bundled_stacks() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads(SCHEMA_FILE.read_text())
    for stack in STACKS:
        jsonschema.validate(yaml.safe_load(stack.read_text()), schema)


def test_json_schema_rejects_a_misspelled_key_as_an_editor_would() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads(SCHEMA_FILE.read_text())
    data = yaml.safe_load((STACKS[0].parent / "s2-many-to-many.yaml").read_text())
    data["vpcs"]["vpc01"]["route_push"][0]["nexthop"] = data["vpcs"]["vpc01"]["route_push"][0].pop("next_hop")
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    assert any("'nexthop' was unexpected" in e for e in errors)
