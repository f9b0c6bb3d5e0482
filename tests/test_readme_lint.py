"""The README's Lint section lists every rule code, exactly as the catalogue defines it."""

from __future__ import annotations

import re
from pathlib import Path

from netweave.lint.findings import RULES

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| ([SARPV]\d{3}) \| `([a-z0-9-]+)` \| (error|warning) \| (.+) \|$")


def lint_section() -> str:
    text = README.read_text()
    start = text.index("\n## Lint\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_readme_lint_table_lists_every_code_with_its_rule_and_severity() -> None:
    rows = {m.group(1): (m.group(2), m.group(3))
            for m in map(ROW.match, lint_section().splitlines()) if m}
    expected = {code: (r.slug, r.severity.value) for code, r in RULES.items()}
    assert rows == expected, "regenerate the table in README.md ## Lint from netweave/findings.RULES"
