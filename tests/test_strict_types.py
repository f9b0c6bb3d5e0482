"""Types are strict, and lint agrees with the JSON Schema editors check against.

`true` is not a number (`asn: true` once rendered `router bgp 1`), `"65001"` is not a
number and `1400` is not a string. The committed JSON Schema and lint's validator are
generated from one model; this table checks they accept and refuse the same values.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from netweave.commands.schema import SCHEMA_FILE
from netweave.lint import lint_text
from netweave.model.source import PathKey

ROOT = Path(__file__).resolve().parent.parent
S1 = yaml.safe_load((ROOT / "stacks" / "s1-one-to-one.yaml").read_text())
S1["security_groups"] = {"web": {"rules": [{"protocol": "tcp", "ports": 443}]}}
S1["vcpes"]["vcpe01"]["security_groups"] = ["web"]

ACCEPT, REFUSE = True, False
# (path, value, accepted): one row per typed input a user could write.
CASES: list[tuple[PathKey, Any, bool]] = [
    (("vcpes", "vcpe01", "bgp", "asn"), 65001, ACCEPT),
    (("vcpes", "vcpe01", "bgp", "asn"), True, REFUSE),
    (("vcpes", "vcpe01", "bgp", "asn"), "65001", REFUSE),
    (("vcpes", "vcpe01", "bgp", "asn"), 65001.0, ACCEPT),  # JSON Schema: 1.0 is an integer
    (("vcpes", "vcpe01", "bgp", "asn"), 65001.5, REFUSE),
    (("vcpes", "vcpe01", "bgp", "asn"), None, REFUSE),
    (("vcpes", "vcpe01", "bgp", "asn"), 1e300, REFUSE),
    (("clouds", "qc-pek3a", "mtu"), 1400, ACCEPT),
    (("clouds", "qc-pek3a", "mtu"), "1400", REFUSE),
    (("clouds", "qc-pek3a", "mtu"), True, REFUSE),
    (("tunnels", 0, "port"), 51820, ACCEPT),
    (("tunnels", 0, "port"), True, REFUSE),
    (("tunnels", 0, "port"), "51820", REFUSE),
    (("tunnels", 0, "keepalive"), False, REFUSE),
    (("tunnels", 0, "keepalive"), 0, ACCEPT),
    (("tunnels", 0, "psk"), True, ACCEPT),
    (("tunnels", 0, "psk"), "yes", REFUSE),
    (("tunnels", 0, "psk"), 1, REFUSE),
    (("tunnels", 0, "type"), 1, REFUSE),
    (("vcpes", "vcpe01", "public_ip"), False, ACCEPT),
    (("vcpes", "vcpe01", "public_ip"), 0, REFUSE),
    (("vcpes", "vcpe01", "public_ip"), "false", REFUSE),
    (("version",), 1, ACCEPT),
    (("version",), 1.0, ACCEPT),
    (("version",), True, REFUSE),
    (("version",), "1", REFUSE),
    (("version",), 2, REFUSE),
    (("name",), 5, REFUSE),
    (("description",), 5, REFUSE),
    (("description",), True, REFUSE),
    (("clouds", "qc-pek3a", "zone"), 123, REFUSE),
    (("vpcs", "vpc01", "cidr"), 10, REFUSE),
    (("hosts", "vm01", "address"), 3232268291, REFUSE),
    (("hosts", "vm01", "vxnet"), 1, REFUSE),
    (("tunnels", 0, "ends", 0, "address"), 1.5, REFUSE),
    (("vcpes", "vcpe01", "instance_type"), 2, REFUSE),
    (("intent", "must_reach", 0, "from"), 5, REFUSE),
    (("security_groups", "web", "rules", 0, "ports"), 443, ACCEPT),
    (("security_groups", "web", "rules", 0, "ports"), 443.0, ACCEPT),
    (("security_groups", "web", "rules", 0, "ports"), "443", ACCEPT),
    (("security_groups", "web", "rules", 0, "ports"), "8000-8100", ACCEPT),
    (("security_groups", "web", "rules", 0, "ports"), True, REFUSE),
    (("security_groups", "web", "rules", 0, "ports"), -1, REFUSE),
    (("security_groups", "web", "rules", 0, "ports"), 100000, REFUSE),
    (("security_groups", "web", "rules", 0, "protocol"), True, REFUSE),
]


def _with(path: PathKey, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(S1)
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def _schema_findings(data: dict[str, Any]) -> list[str]:
    result = lint_text(json.dumps(data), "case.yaml")  # JSON is YAML: the typed value survives
    # the schema stage: shape (S1xx) and literal secrets (a string where `psk: true` goes)
    return [f"{f.code} {f.message}" for f in result.findings
            if f.code.startswith("S") or f.code == "V504"]


def _json_schema_errors(data: dict[str, Any]) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]


def _case_id(case: tuple[PathKey, Any, bool]) -> str:
    path, value, accepted = case
    return f"{'.'.join(map(str, path))}={value!r}-{'accepted' if accepted else 'refused'}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_lint_accepts_exactly_what_the_json_schema_accepts(case: tuple[PathKey, Any, bool]) -> None:
    path, value, accepted = case
    data = _with(path, value)
    assert (_schema_findings(data) == []) is accepted, _schema_findings(data)
    assert (_json_schema_errors(data) == []) is accepted, _json_schema_errors(data)


def test_the_base_document_is_valid_for_both() -> None:
    assert _schema_findings(S1) == [] and _json_schema_errors(S1) == []


@pytest.mark.parametrize("text, field", [("asn: true", "asn"), ("asn: '65001'", "asn")])
def test_a_boolean_or_quoted_asn_is_a_wrong_type_at_the_asn(text: str, field: str) -> None:
    source = (ROOT / "stacks" / "s1-one-to-one.yaml").read_text().replace("asn: 65001", text)
    result = lint_text(source, "s1.yaml")
    assert [(f.code, f.path[-1], f.line) for f in result.findings] == [("S102", field, 44)]


def test_a_whole_float_is_read_as_the_integer_it_is() -> None:
    source = (ROOT / "stacks" / "s1-one-to-one.yaml").read_text().replace("asn: 65001", "asn: 65001.0")
    result = lint_text(source, "s1.yaml")
    assert result.findings == [] and result.topology is not None
    bgp = result.topology.vcpes["vcpe01"].bgp
    assert bgp is not None and type(bgp.asn) is int and bgp.asn == 65001
