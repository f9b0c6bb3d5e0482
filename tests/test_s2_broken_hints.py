"""S2 with one mistyped digit: lint names the value that was meant, not just the rule.

(The codes and locations are checked by the data-driven cases in cases/s2-broken/.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from netweave.lint import lint_file

CASES = Path(__file__).resolve().parent / "cases" / "s2-broken"


@pytest.mark.parametrize(("case", "code", "hint"), [
    ("wrong-digit-push-destination", "R302", "did you mean 192.168.129.0/24?"),
    ("wrong-digit-next-hop", "R301", "the nearest vCPE NIC in vpc01 is 192.168.129.5 (vcpe01 NIC 1)"),
    ("wrong-digit-nic-address", "A208", "did you mean 192.168.129.5?"),
    ("wrong-digit-advertisement", "R304", "did you mean 192.168.128.0/24?"),
])
def test_the_hint_names_the_value_that_was_meant(case: str, code: str, hint: str) -> None:
    findings = [f for f in lint_file(str(CASES / f"{case}.yaml")).findings if f.code == code]
    assert len(findings) == 1
    assert findings[0].hint is not None and findings[0].hint.startswith(hint)
