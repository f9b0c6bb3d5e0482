"""Lint findings are matched by code and message, never by line."""

from __future__ import annotations

from netweave.diff.lint import lint_changes
from netweave.lint.findings import Finding


def f(code: str, message: str, line: int) -> Finding:
    return Finding(code, message, file="s.yaml", line=line, column=3)


def test_a_finding_that_moved_lines_is_neither_introduced_nor_fixed() -> None:
    changes = lint_changes([f("R301", "next hop x", 10)], [f("R301", "next hop x", 14)])
    assert (changes.introduced, changes.fixed, changes.remaining) == ((), (), 1)


def test_new_and_fixed_findings_are_reported_on_their_own_side() -> None:
    base = [f("R301", "next hop x", 10)]
    head = [f("A207", "address y twice", 20)]
    changes = lint_changes(base, head)
    assert [x.code for x in changes.introduced] == ["A207"]
    assert [x.code for x in changes.fixed] == ["R301"]


def test_a_second_copy_of_the_same_finding_is_introduced() -> None:
    changes = lint_changes([f("R301", "m", 1)], [f("R301", "m", 1), f("R301", "m", 9)])
    assert [x.line for x in changes.introduced] == [9]
