"""The JSON Schema as editors read it: every key explained, pattern errors in words,
optional keys without a null branch, and `version` required — by the schema and by lint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from netweave.lint import lint_text
from netweave.model.topology import json_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json_schema()
S1 = (ROOT / "stacks" / "s1-one-to-one.yaml").read_text()


def nodes(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from nodes(value, f"{path}/{i}")


def test_every_property_has_a_description() -> None:
    undescribed = [f"{path}/properties/{key}" for path, node in nodes(SCHEMA)
                   for key, prop in (node.get("properties") or {}).items() if not prop.get("description")]
    assert undescribed == []
    assert sum(len(node.get("properties") or {}) for _, node in nodes(SCHEMA)) > 80


def test_every_pattern_has_a_message_in_words() -> None:
    patterns = [(path, node) for path, node in nodes(SCHEMA) if "pattern" in node]
    assert len(patterns) >= 4
    for path, node in patterns:
        message = node.get("patternErrorMessage", "")
        assert message.startswith("not ") and "^" not in message and "[" not in message, path


def test_no_optional_key_has_a_null_branch() -> None:
    assert [path for path, node in nodes(SCHEMA)
            if node.get("type") == "null" or node.get("default", "") is None] == []


def test_version_is_required() -> None:
    assert "version" in SCHEMA["required"]


def _schema_accepts(text: str) -> bool:
    import yaml
    return jsonschema.Draft202012Validator(SCHEMA).is_valid(yaml.safe_load(text))


def test_a_file_without_version_is_refused_by_the_schema_and_by_lint() -> None:
    text = S1.replace("version: 1\n", "", 1)
    assert "version:" not in text and not _schema_accepts(text)
    result = lint_text(text)
    assert result.unusable
    (missing,) = [f for f in result.findings if f.code == "S103"]
    assert missing.message == "the file is missing the required key 'version'"
    assert missing.hint and "version: 1" in missing.hint


@pytest.mark.parametrize(("old", "new", "path"), [
    ("cidr: 192.168.0.0/16", "cidr:", ("vpcs", "vpc01", "cidr")),
    ("asn: 65001", "asn: ~", ("vcpes", "vcpe01", "bgp", "asn")),
    ("vpcs:", "security_groups:\nvpcs:", ("security_groups",)),
])
def test_an_empty_value_is_refused_by_the_schema_and_by_lint_at_its_key(old: str, new: str,
                                                                         path: tuple[str, ...]) -> None:
    text = S1.replace(old, new, 1)
    assert text != S1 and not _schema_accepts(text)
    result = lint_text(text)
    assert [(f.code, f.path) for f in result.findings] == [("S102", path)]
    assert result.findings[0].message.endswith("is empty (null)")


def test_the_committed_schema_file_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "stacks" / "netweave.schema.json").read_text())
    assert committed == json.loads(json.dumps(SCHEMA))
