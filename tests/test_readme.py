"""The README is the user's manual: its commands and YAML reference must stay true."""

from __future__ import annotations

from pathlib import Path

import yaml
from netweave.model import topology as model
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_fresh_clone_commands() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == ["bash .ci/setup && venv/bin/netweave verify stacks/s2-many-to-many.yaml",
                     "bash .ci/setup && venv/bin/python -m pytest -q"]


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/setup && venv/bin/python -m pytest -q" in ci


def test_yaml_reference_mentions_every_key_of_the_schema() -> None:
    reference = README.split("## The topology file", 1)[1].split("\n## ", 1)[0]
    missing = set()
    for cls in vars(model).values():
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == model.__name__:
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if f"{key}:" not in reference:
                    missing.add(f"{cls.__name__}.{key}")
    assert not missing


def test_yaml_reference_example_is_valid_yaml() -> None:
    reference = README.split("## The topology file", 1)[1]
    example = reference.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert isinstance(yaml.safe_load(example), dict)


def test_yaml_reference_example_passes_the_schema() -> None:
    from netweave.lint.schema import validate
    from netweave.model.source import parse

    reference = README.split("## The topology file", 1)[1]
    example = reference.split("```yaml\n", 1)[1].split("```", 1)[0]
    result = validate(parse(example, "README.md"))
    assert [f.message for f in result.findings] == []
