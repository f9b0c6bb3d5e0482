"""Data-driven lint tests: each file under tests/cases/ is a topology whose header
comments say what lint must find.

    # expect: R301 23:18      an error or warning with that code at line 23, column 18
    # expect: clean           no findings at all

Every listed finding must be reported, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from netweave.lint import lint_file

CASES = sorted((Path(__file__).parent / "cases").rglob("*.yaml"))
EXPECT = re.compile(r"^#\s*expect:\s*(?:(clean)|([SARPV]\d{3})\s+(\d+):(\d+))\s*$")


def expectations(path: Path) -> set[tuple[str, int, int]] | None:
    found: set[tuple[str, int, int]] = set()
    clean = False
    for line in path.read_text().splitlines():
        m = EXPECT.match(line.strip())
        if m and m.group(1):
            clean = True
        elif m:
            found.add((m.group(2), int(m.group(3)), int(m.group(4))))
    if not clean and not found:
        return None
    return found


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(c.parents[1])) for c in CASES])
def test_case_reports_exactly_the_expected_findings(case: Path) -> None:
    expected = expectations(case)
    assert expected is not None, f"{case} has no '# expect:' header"
    result = lint_file(str(case))
    got = {(f.code, f.line, f.column) for f in result.findings}
    detail = "\n".join(f"{f.code} {f.line}:{f.column} {f.message}" for f in result.findings)
    assert got == expected, f"findings differ:\n{detail}"
