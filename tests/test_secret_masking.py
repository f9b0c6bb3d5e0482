"""No output format echoes a secret: not the excerpt line, not a message, hint or path.

Lint's text report prints the line of each finding, so a pasted key or password went to
the terminal and the CI log; a key used as a mapping key came back in 'unknown key ...'.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from netweave.cli import main
from netweave.lint import lint_text, report
from netweave.lint.secrets import key_material, mask

from tests.support.fakes import fake_pem

ROOT = Path(__file__).resolve().parent.parent
S2_PATH = ROOT / "stacks" / "s2-many-to-many.yaml"
S2 = S2_PATH.read_text()

WG_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
QINGCLOUD_SECRET = "wJ8aPq3LmZ0xR7tYc2VbN5kD9sG4hF6eU1iO3pQa"
PASSWORD = "hunter2-Correct-Horse"

# (what a user pasted, the secret that must not come back)
LEAKS = {
    "password-value": (S2.replace("  vcpe02:\n", f"  vcpe02:\n    password: {PASSWORD}\n", 1),
                       PASSWORD),
    "wireguard-key-as-a-key": (S2.replace("  vcpe02:\n", f"  vcpe02:\n    {WG_KEY[:-1]}: x\n", 1),
                               WG_KEY[:-1]),
    "aws-id-as-a-key": (S2.replace("  vcpe02:\n", f"  vcpe02:\n    {AWS_ID}: x\n", 1), AWS_ID),
    "aws-secret-in-a-description": (
        S2.replace("  vcpe02:\n", f"  vcpe02:\n    description: 'creds {AWS_SECRET} old'\n", 1),
        AWS_SECRET),
    "qingcloud-secret-next-to-another-finding": (
        S2.replace("  vm01: {vxnet: vxnet01,",
                   f"  vm01: {{description: {QINGCLOUD_SECRET}, vxnet: vxnet09,", 1),
        QINGCLOUD_SECRET),
    "password-next-to-another-finding": (
        S2.replace("  vm01: {vxnet: vxnet01,",
                   f"  vm01: {{password: {PASSWORD}, vxnet: vxnet09,", 1),
        PASSWORD),
}


@pytest.mark.parametrize("fmt", report.FORMATS)
@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_no_lint_output_format_shows_the_secret(leak: str, fmt: str) -> None:
    text, secret = LEAKS[leak]
    result = lint_text(text, "stack.yaml")
    assert result.findings, "the case must produce a finding"
    assert secret not in report.render([result], fmt)


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_the_findings_themselves_carry_no_secret(leak: str) -> None:
    text, secret = LEAKS[leak]
    for f in lint_text(text, "stack.yaml").findings:
        assert secret not in f"{f.message} {f.hint} {f.path}"


def test_a_masked_excerpt_keeps_the_caret_under_the_finding() -> None:
    text, secret = LEAKS["qingcloud-secret-next-to-another-finding"]
    out = report.text([lint_text(text, "stack.yaml")]).splitlines()
    at = next(i for i, x in enumerate(out) if "S107" in x)  # vxnet09, next to the secret
    line, caret = out[at + 1], out[at + 2]
    assert "*" * len(secret) in line and secret not in line
    assert line[caret.index("^"):].startswith("vxnet09")


@pytest.mark.parametrize("command", [["reach"], ["lint", "--format", "json"]])
def test_commands_do_not_print_the_secret(command: list[str], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    text, secret = LEAKS["password-next-to-another-finding"]
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    main([command[0], str(path), *command[1:]])
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_does_not_print_the_secret(fmt: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    text, secret = LEAKS["aws-id-as-a-key"]
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    main(["diff", "--no-plan", "--format", fmt, str(S2_PATH), str(path)])
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err


@pytest.mark.parametrize("text, kind", [
    (WG_KEY, "WireGuard"), (f"key {WG_KEY} here", "WireGuard"), (AWS_ID, "AWS access key id"),
    (f"x={AWS_ID}", "AWS access key id"), (AWS_SECRET, "40-character"),
    (QINGCLOUD_SECRET, "40-character"), (f"secret:{QINGCLOUD_SECRET}.", "40-character"),
    (fake_pem(end=False), "private key"),
])
def test_keys_are_recognised_whole_and_inside_longer_strings(text: str, kind: str) -> None:
    found = key_material(text)
    assert found is not None and kind in found


@pytest.mark.parametrize("text", [
    "3f2a9c1e7b4d8f0a6c5e2b1d9f8a7c6e5d4b3a2f",  # a git commit id
    "https://example.com/Docs/Vcpe01/Setup2024/Tunnel/Runbook42/Step/Three",
    "VCPE01-PRIMARY-ROUTER-IN-VXNET01-PEK3A-2024",
    "2001:db8:1234:5678:9abc:def0:1234:5678/128",
    "vcpe01 is multi-homed in Vxnet 01 and Vxnet 03 and announces Vxnet 03 over BGP",
])
def test_things_that_only_look_like_keys_are_not_keys(text: str) -> None:
    assert key_material(text) is None and mask(text) == text
