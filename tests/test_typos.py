"""Typo search for hints: exact, indexed once, the same answers as trying every variant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netweave.lint import lint_text
from netweave.lint.typos import NameIndex, TypoIndex, distance, one_keystroke

ROOT = Path(__file__).resolve().parent.parent
S2 = (ROOT / "stacks" / "s2-many-to-many.yaml").read_text()
ALPHABET = "0123456789./:ab"


def _table_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _every_slip(text: str) -> Iterator[str]:
    for i in range(len(text)):
        yield text[:i] + text[i + 1:]
        for c in ALPHABET:
            yield text[:i] + c + text[i + 1:]
        if i + 1 < len(text):
            yield text[:i] + text[i + 1] + text[i] + text[i + 2:]
    for i in range(len(text) + 1):
        for c in ALPHABET:
            yield text[:i] + c + text[i:]


@settings(max_examples=500, deadline=None)
@given(st.text(ALPHABET, max_size=20), st.text(ALPHABET, max_size=20))
def test_bit_vector_distance_equals_the_levenshtein_table(a: str, b: str) -> None:
    assert distance(a, b) == _table_distance(a, b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(ALPHABET, min_size=1, max_size=8), min_size=1, max_size=30),
       st.text(ALPHABET, min_size=1, max_size=8))
def test_the_index_finds_exactly_the_texts_one_keystroke_away(texts: list[str], query: str) -> None:
    expected = {i for i, t in enumerate(texts) if t != query and t in set(_every_slip(query))}
    assert set(TypoIndex(texts).slips(query)) == expected
    assert all(one_keystroke(query, texts[i]) for i in expected)


def test_a_swapped_pair_of_digits_is_one_keystroke() -> None:
    assert one_keystroke("192.168.129.0/24", "192.168.192.0/24")
    assert not one_keystroke("192.168.129.0/24", "192.168.921.0/24")


def test_a_big_pool_of_names_still_finds_the_misspelt_one() -> None:
    index = NameIndex([f"vxnet{i:04d}" for i in range(5000)] + ["backend-db", "frontend-web"])
    assert index.nearest("backedn-db") == "backend-db"  # swapped letters
    assert index.nearest("frontend-wbe2") == "frontend-web"
    assert index.nearest("Backend-DB") == "backend-db"
    assert index.nearest("zzzzzz") is None


def test_a_small_pool_is_ranked_like_difflib() -> None:
    assert NameIndex(["vxnet01", "vxnet02", "vpc01"]).nearest("vxnet1") == "vxnet01"


def _uncovered_pushes(n: int) -> str:
    pushes = "".join(f"      - {{destination: 10.{i // 256}.{i % 256}.0/24, next_hop: 192.168.128.2}}\n"
                     for i in range(n))
    marker = "    route_push:\n"
    at = S2.index(marker) + len(marker)
    return S2[:at] + pushes + S2[at:]


def test_hints_for_many_findings_index_each_candidate_set_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []
    original = TypoIndex._build

    def counted(self: TypoIndex) -> object:
        if self._hashes is None:
            builds.append(len(self.texts))
        return original(self)

    monkeypatch.setattr(TypoIndex, "_build", counted)
    result = lint_text(_uncovered_pushes(300))
    assert len([f for f in result.findings if f.code == "R302"]) == 300
    assert len(builds) <= 3  # one per candidate set asked (vcpe01's routes), not one per finding
