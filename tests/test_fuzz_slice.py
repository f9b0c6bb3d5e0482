"""A seeded slice of bench/fuzz.py: 100 mutated stacks and test cases (byte, token, type,
structure and value mutations) through lint, reach, graph, render and diff, in process.
None may crash, hang or report a finding without a line and column. The full run
(``venv/bin/python bench/fuzz.py``, 10,000+ inputs) is a benchmark, not a test."""

from __future__ import annotations

import pytest

from bench import fuzz

SLICE = 100


@pytest.fixture(scope="module")
def tally() -> fuzz.Tally:
    return fuzz.run(seed=2026, count=SLICE)


def test_the_slice_covers_every_kind_of_mutation(tally: fuzz.Tally) -> None:
    assert tally.inputs == SLICE and set(tally.by_kind) == set(fuzz.KINDS)
    assert tally.usable > 0  # some inputs stay topologies: reach, render and diff run too


@pytest.mark.parametrize("what", ["crash", "hang", "positionless"])
def test_no_mutated_input_makes_a_command(what: str, tally: fuzz.Tally) -> None:
    found = [f"{f.command} on input {f.number} ({f.kind} of {f.base}): "
             f"{f.detail.strip().splitlines()[-1] if f.detail.strip() else ''}"
             for f in tally.failures if f.what == what]
    assert found == [], "replay with: venv/bin/python bench/fuzz.py --seed 2026 --only N"


def test_the_same_seed_makes_the_same_inputs() -> None:
    first = [(n, k, b, d) for n, k, b, d in fuzz.inputs(7, 20)]
    assert first == list(fuzz.inputs(7, 20))
