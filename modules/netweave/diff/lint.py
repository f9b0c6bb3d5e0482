"""Lint findings a change introduces or fixes.

Findings are matched by rule code and message (then YAML path), never by line number:
inserting a line above a finding must not report it as fixed and introduced again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from netweave.lint.findings import Finding


def _key(f: Finding) -> tuple[str, str]:
    return (f.code, f.message)


@dataclass(frozen=True)
class LintChanges:
    introduced: tuple[Finding, ...]  # located in HEAD's file
    fixed: tuple[Finding, ...]  # located in BASE's file
    remaining: int  # findings present on both sides


def lint_changes(base: Sequence[Finding], head: Sequence[Finding]) -> LintChanges:
    before = Counter(_key(f) for f in base)
    after = Counter(_key(f) for f in head)
    introduced, fixed = [], []
    seen: Counter[tuple[str, str]] = Counter()
    for f in head:
        seen[_key(f)] += 1
        if seen[_key(f)] > before[_key(f)]:
            introduced.append(f)
    seen.clear()
    for f in base:
        seen[_key(f)] += 1
        if seen[_key(f)] > after[_key(f)]:
            fixed.append(f)
    remaining = sum((before & after).values())
    return LintChanges(tuple(introduced), tuple(fixed), remaining)
