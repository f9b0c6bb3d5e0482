"""YAML loading: positions for every value, duplicate keys refused."""

from __future__ import annotations

import pytest
from netweave.model.source import LoadError, Position, parse


def test_every_value_keeps_its_line_and_column() -> None:
    src = parse("vpcs:\n  vpc01:\n    cidr: 10.0.0.0/16\n", "f.yaml")
    assert src.values[("vpcs", "vpc01", "cidr")] == Position(3, 11)
    assert src.keys[("vpcs", "vpc01", "cidr")] == Position(3, 5)


def test_list_items_are_located_by_index() -> None:
    src = parse("a:\n  - x\n  - y\n")
    assert src.values[("a", 1)] == Position(3, 5)


def test_duplicate_key_is_refused_with_both_positions() -> None:
    with pytest.raises(LoadError) as err:
        parse("vpcs:\n  vpc01: {}\n  vpc01: {}\n", "f.yaml")
    assert (err.value.code, err.value.line, err.value.column) == ("S003", 3, 3)
    assert "first defined at line 2" in err.value.message


def test_keys_keep_their_text_even_when_yaml_1_1_would_read_a_boolean() -> None:
    src = parse("hosts:\n  on: {}\n  yes: {}\n")
    assert set(src.data["hosts"]) == {"on", "yes"}


def test_positions_are_built_on_demand_for_fast_parsed_files() -> None:
    src = parse("vpcs:\n  vpc01:\n    cidr: 10.0.0.0/16\n", "f.yaml")
    assert src.position(("vpcs", "vpc01", "cidr")) == Position(3, 11)


def test_dates_stay_text() -> None:
    assert parse("description: 2024-01-01\n").data == {"description": "2024-01-01"}


def test_merge_keys_bring_in_anchored_values_and_allow_overrides() -> None:
    src = parse("base: &b {cidr: 10.0.0.0/24, description: x}\n"
                "other:\n  <<: *b\n  description: y\n")
    assert src.data["other"] == {"cidr": "10.0.0.0/24", "description": "y"}


def test_syntax_error_is_located() -> None:
    with pytest.raises(LoadError) as err:
        parse("a: [1, 2\nb: 3\n", "f.yaml")
    assert err.value.code == "S001" and err.value.line >= 1


def test_second_document_is_refused() -> None:
    with pytest.raises(LoadError) as err:
        parse("a: 1\n---\nb: 2\n")
    assert err.value.code == "S001" and err.value.line == 3


def test_position_falls_back_to_the_enclosing_node() -> None:
    src = parse("vpcs:\n  vpc01: {}\n")
    assert src.position(("vpcs", "vpc01", "cidr")) == Position(2, 10)
