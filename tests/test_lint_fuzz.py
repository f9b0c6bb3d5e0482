"""Property: whatever a user does to a valid stack, lint answers with findings or exit 2.

Hypothesis mutates the bundled stacks S1-S3 the ways people break files: values
replaced (random strings, numbers, addresses one digit off, networks), keys renamed
or dropped, types swapped (a value wrapped in a list or mapping), list items
duplicated, referenced objects deleted. Lint must never raise, and its reports must
render in every output format.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from netweave.lint import EXIT_UNUSABLE, lint_text, report

STACKS = sorted((Path(__file__).resolve().parent.parent / "stacks").glob("s[123]-*.yaml"))
DOCS = {p.name: yaml.safe_load(p.read_text()) for p in STACKS}

Path_ = tuple[Any, ...]


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


def _get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _one_digit_off(text: str, data: st.DataObject) -> str:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return text
    i = data.draw(st.sampled_from(digits))
    return text[:i] + data.draw(st.sampled_from("0123456789")) + text[i + 1:]


ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
networks = st.tuples(st.ip_addresses(), st.integers(0, 128)).map(
    lambda t: f"{t[0]}/{min(t[1], t[0].max_prefixlen)}")
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5_000_000_000), st.floats(allow_nan=False),
    st.text(max_size=12), ipv4, ipv6, networks,
    st.sampled_from(["vpc01", "vxnet01", "vxnet03", "vcpe01", "vcpe02", "vm01", "qc-pek3a",
                     "wireguard", "openvpn", "pptp", "private", "internet", "0.0.0.0/0", "::/0",
                     "192.168.128.1", "192.168.128.0", "169.254.100.1/30", "23456", "65535"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3),
                   st.dictionaries(st.text(max_size=8), scalars, max_size=2))

# Weighted towards what still parses, so the rule families (not only the schema stage)
# see plenty of broken designs: one digit off, another address, a deleted object.
MUTATIONS = ("replace", "digit", "digit", "digit", "readdress", "readdress", "rename_ref",
             "delete", "delete", "rename", "wrap_list", "wrap_map", "duplicate", "stringify")
NAMES = ("vpc01", "vpc02", "vxnet01", "vxnet02", "vxnet03", "vcpe01", "vcpe02", "vm01", "vm03",
         "qc-apps", "vultr-net", "qc-vcpe", "vultr-vcpe", "qc-vpc", "vultr-vpc", "vultr-ams")


def _addresses(doc: Any) -> list[Path_]:
    return [p for p in _paths(doc) if p and isinstance(v := _get(doc, p), str)
            and any(c.isdigit() for c in v) and ("." in v or ":" in v)]


def _mutate(doc: Any, data: st.DataObject) -> None:
    pool = _addresses(doc) if data.draw(st.booleans()) else []
    path = data.draw(st.sampled_from(pool or _paths(doc)))
    kind = data.draw(st.sampled_from(MUTATIONS))
    if not path:
        return
    parent, key = _get(doc, path[:-1]), path[-1]
    value = parent[key]
    if kind == "replace":
        parent[key] = data.draw(values)
    elif kind == "digit" and isinstance(value, str):
        parent[key] = _one_digit_off(value, data)
    elif kind == "readdress" and isinstance(value, str) and "." in value:
        prefix = value.partition("/")[2]
        address = data.draw(st.one_of(ipv4, st.sampled_from(
            ["192.168.128.1", "192.168.129.5", "172.17.0.2", "10.8.0.2", "169.254.100.2"])))
        parent[key] = f"{address}/{prefix}" if prefix else address
    elif kind == "rename_ref" and isinstance(value, str) and value in NAMES:
        parent[key] = data.draw(st.sampled_from(NAMES))
    elif kind == "delete":
        del parent[key]  # dropped keys, list items, whole referenced objects
    elif kind == "rename" and isinstance(parent, dict):
        new = data.draw(st.one_of(st.text(min_size=1, max_size=10), st.just(str(key) + "s"),
                                  st.just(str(key)[:-1] or "x")))
        parent[new] = parent.pop(key)
    elif kind == "wrap_list":
        parent[key] = [value]
    elif kind == "wrap_map":
        parent[key] = {"value": value}
    elif kind == "duplicate" and isinstance(value, list) and value:
        value.append(copy.deepcopy(data.draw(st.sampled_from(value))))
    elif kind == "stringify" and not isinstance(value, dict | list):
        parent[key] = str(value)


@pytest.mark.parametrize("stack", sorted(DOCS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_lint_never_raises_on_a_mutated_stack(stack: str, data: st.DataObject) -> None:
    doc = copy.deepcopy(DOCS[stack])
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(doc, data)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    result = lint_text(text, file=stack)
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == EXIT_UNUSABLE:
        assert result.findings, "exit 2 must say why"
    assert all(f.code and f.message and f.line >= 1 for f in result.findings)
    report.text([result])
    json.loads(report.as_json([result]))
    report.github([result])
