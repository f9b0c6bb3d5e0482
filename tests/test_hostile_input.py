"""Hostile input: every command answers with a located finding, never a crash, a hang,
a silent truncation or unbounded memory (issue 13's list, one test per failure)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netweave.cli import main
from netweave.lint import lint_file, lint_text
from netweave.model import source as source_module
from netweave.model.source import MAX_DOCUMENT_BYTES, LoadError, parse

ROOT = Path(__file__).resolve().parent.parent
S2_PATH = ROOT / "stacks" / "s2-many-to-many.yaml"
S2 = S2_PATH.read_text()
PADDING = "# padding\n" * 8000  # past CAREFUL_BELOW: the fast parser reads the file
COMMANDS = [["lint"], ["reach"], ["graph", "-o", "{out}/g.dot"], ["render", "--out", "{out}/r"]]


def _write(tmp_path: Path, text: str | bytes, name: str = "stack.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _codes(text: str) -> list[tuple[str, int, int]]:
    return [(f.code, f.line, f.column) for f in lint_text(text, "f.yaml").findings]


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# --- control characters, byte order marks, encodings ----------------------------------

def test_a_nul_byte_is_refused_with_its_line_and_column_not_read_as_the_end_of_the_file() -> None:
    text = S2.replace("intent:", "\x00intent:")
    line = text[:text.index("\x00")].count("\n") + 1
    assert _codes(text) == [("S001", line, 1)]


def test_a_nul_byte_makes_reach_refuse_instead_of_checking_no_intent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, S2.replace("intent:", "\x00intent:"))
    assert main(["reach", str(path)]) == 2
    out = capsys.readouterr().out
    assert "S001" in out and "0 of 0" not in out


@pytest.mark.parametrize("char", ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x9b", "\ufffe"])
def test_a_control_character_is_refused_where_it_stands(char: str) -> None:
    text = S2.replace("zone: pek3a", f"zone: pe{char}k3a", 1)
    line = text[:text.index(char)].count("\n") + 1
    column = text.index(char) - text.rfind("\n", 0, text.index(char))
    [(code, at_line, at_column)] = _codes(text)
    assert (code, at_line, at_column) == ("S001", line, column)


def test_a_tab_inside_a_quoted_value_is_text_not_a_control_character() -> None:
    text = S2.replace("name: s2-many-to-many", 'description: "a\tb"\nname: s2-many-to-many', 1)
    assert not [c for c in _codes(text) if c[0] == "S001"]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + S2.encode())
    assert lint_file(str(path)).findings == []
    assert lint_text("\ufeff" + S2).findings == []


def test_a_file_that_is_not_utf8_is_a_decode_error_at_the_bad_byte(tmp_path: Path) -> None:
    text = S2.replace("name: s2-many-to-many", "name: s2-many-to-many\ndescription: café", 1)
    path = _write(tmp_path, text.encode("latin-1"))
    line = text[:text.index("é")].count("\n") + 1
    [f] = lint_file(str(path)).findings
    assert (f.code, f.rule.slug, f.line, f.column) == ("S004", "not-utf8", line, 17)
    assert "0xE9" in f.message


def test_lint_of_a_non_utf8_file_exits_2_with_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, b"version: 1\nname: \xff\n")
    assert main(["lint", str(path)]) == 2
    assert f"{path}:2:7: error S004 not-utf8" in capsys.readouterr().out


def test_diff_of_a_non_utf8_file_reports_the_decode_error_instead_of_crashing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, S2.replace("vpc01", "vpc\xe901", 1).encode("latin-1"))
    assert main(["diff", "--no-plan", str(S2_PATH), str(path)]) == 0
    assert "S004" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_of_a_non_utf8_git_revision_reports_the_decode_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    _write(tmp_path, b"version: 1\nname: \xff\n", "s.yaml")
    subprocess.run([*git, "add", "s.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "latin-1"], check=True)
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "--no-plan", "HEAD:s.yaml", str(S2_PATH)]) == 0
    assert "S004" in capsys.readouterr().out


# --- bounded: aliases, size, nesting, numbers -----------------------------------------

def test_a_billion_laughs_alias_bomb_is_refused_as_it_expands() -> None:
    [(code, line, _column)] = _codes(_billion_laughs())
    assert (code, line) == ("S005", 1)


def test_an_alias_bomb_with_merge_keys_is_refused_too() -> None:
    [(code, _line, _column)] = _codes(_billion_laughs() + "m: {<<: {a: 1}}\n")
    assert code == "S005"


def test_aliases_that_expand_moderately_still_load() -> None:
    text = S2.replace("description: ", "description: &d ", 1) + "\n"
    assert parse(text).data["description"]


def test_a_file_larger_than_the_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_DOCUMENT_BYTES + 4096)
    [f] = lint_file(str(path)).findings
    assert f.code == "S005" and "64 MiB" in f.message


def test_nesting_deeper_than_the_parsers_allow_is_a_syntax_error_not_a_crash() -> None:
    # 20,000 compact levels: yaml-rs overflows its stack (segfault) near 10,000
    [(code, _line, _column)] = _codes("- " * 20_000 + "a\n")
    assert code == "S001"


@pytest.mark.parametrize("where", ["asn: 65001", "mtu: 1400"])
def test_a_4301_digit_integer_is_refused_where_it_stands(where: str) -> None:
    text = S2.replace("asn: 65001", "asn: " + "9" * 4301).replace(
        "name: s2-many-to-many", "name: s2-many-to-many", 1)
    findings = lint_text(text, "f.yaml").findings
    assert [(f.code, f.path[-1]) for f in findings] == [("S005", "asn")]
    assert findings[0].line == text[:text.index("9" * 4301)].count("\n") + 1


def test_a_huge_integer_in_a_file_with_merge_keys_is_refused_before_conversion() -> None:
    text = S2.replace("asn: 65001", "asn: " + "9" * 4301) + "\nx: &x {a: 1}\ny: {<<: *x}\n"
    assert "S005" in [f.code for f in lint_text(text).findings]


def test_a_huge_integer_as_a_key_is_refused() -> None:
    # (a 4,301-digit key is a syntax error: YAML limits implicit keys to 1,024 characters)
    text = S2.replace("  vm01:", "  " + "9" * 30 + ": {}\n  vm01:", 1)
    assert [f.code for f in lint_text(text + PADDING).findings][:1] == ["S005"]  # yaml-rs: a number
    assert [f.code for f in lint_text(text).findings][:1] == ["S106"]  # libyaml keeps key text


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_refuses_a_4301_digit_integer_with_exit_2(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, S2.replace("asn: 65001", "asn: " + "9" * 4301))
    argv = [a.format(out=tmp_path) for a in command]
    assert main([argv[0], str(path), *argv[1:]]) == 2
    assert "S005" in capsys.readouterr().out


def test_diff_of_a_4301_digit_integer_reports_it(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    path = _write(tmp_path, S2.replace("asn: 65001", "asn: " + "9" * 4301))
    assert main(["diff", "--no-plan", str(S2_PATH), str(path)]) == 0
    assert "S005" in capsys.readouterr().out


# --- both parsers read a file alike (YAML 1.2) ----------------------------------------

@pytest.mark.parametrize("plain, value", [
    ("yes", "yes"), ("on", "on"), ("No", "No"), ("010", 10), ("0o10", 8), ("0x10", 16),
    ("1_000", 1000), ("1:20", "1:20"), ("1e3", 1000.0), ("True", True), ("~", None),
    ("2001-01-01", "2001-01-01"), (".5", 0.5), ("-.Inf", -math.inf),
])
def test_plain_scalars_read_as_yaml_1_2_by_both_parsers(plain: str, value: object) -> None:
    fast = parse(f"a: {plain}\n{PADDING}").data["a"]  # big: yaml-rs reads it
    careful = parse(f"a: {plain}\n").data["a"]  # small: libyaml reads it
    merged = parse(f"a: {plain}\nb: {{<<: {{c: 1}}}}\n{PADDING}").data["a"]  # big, merge keys
    assert (fast, type(fast)) == (value, type(value)) == (careful, type(careful)) \
        == (merged, type(merged))


def test_a_big_file_yaml_rs_reads_but_libyaml_refuses_is_a_located_syntax_error() -> None:
    # YAML 1.2 lets an anchor be defined again; libyaml refuses it. With a finding to
    # locate, the refusal (with its place) is the answer, not findings all at line 1.
    text = S2.replace("asn: 65001", "asn: &n 65001").replace("asn: 65002", "asn: &n 0") + PADDING
    [f] = lint_text(text, "big.yaml").findings
    assert (f.code, f.line) == ("S001", text[:text.index("&n 0")].count("\n") + 1)


@pytest.mark.skipif(source_module._fast_loads is None, reason="yaml-rs is not installed")
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789_.eE+-xXoObBaAfFinINtTrRuUlL~", min_size=1, max_size=8))
def test_the_two_parsers_read_every_plain_scalar_alike(plain: str) -> None:
    text = f"a: {plain}\n"
    try:
        fast = source_module._fast_loads(text, parse_datetime=False)["a"]
    except Exception:
        return  # not a scalar yaml-rs reads: the careful parser reports it
    try:
        slow = source_module._parse_with_positions(text, "f").data["a"]
    except LoadError:
        return
    if isinstance(fast, float) and math.isnan(fast):
        assert isinstance(slow, float) and math.isnan(slow)
    else:
        assert (slow, type(slow)) == (fast, type(fast))


@pytest.mark.parametrize("merge", ["", "m: {<<: {a: 1}}\n"], ids=["fast", "merge-keys"])
def test_a_yaml_1_1_boolean_is_text_so_public_ip_yes_is_refused(merge: str) -> None:
    text = S2.replace("  vcpe02:\n", "  vcpe02:\n    public_ip: yes\n", 1) + merge
    assert "S102" in [f.code for f in lint_text(text).findings if f.path[-1:] == ("public_ip",)]
