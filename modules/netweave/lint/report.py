"""Printing findings: for people (text), for programs (json), for GitHub (annotations),
for code scanning (SARIF 2.1.0).

Every format prints a finding through :func:`public` and a line of the file through
:func:`public_line`: no key material reaches a terminal or a CI log, whatever the rule
that found something next to it. A new format calls them too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from netweave.lint import LintResult
from netweave.lint.findings import FAMILIES, RULES, Finding, Rule, Severity
from netweave.lint.secrets import mask, masked
from netweave.model.source import split_lines
from netweave.version import version

FORMATS = ("text", "json", "github", "sarif")


def public(f: Finding) -> Finding:
    """The finding as it may be shown: key material in its message, hint or path masked."""
    return masked(f)


Hidden = dict[int, list[tuple[int, int]]]  # line -> [(first column, column after), ...]


def _scalar_end(line: str, start: int) -> int:
    """Index after the scalar that starts at ``line[start]``: a quoted one ends at its
    closing quote; a plain one inside ``{...}``/``[...]`` at the next ',', '}' or ']';
    otherwise at a comment or the end of the line."""
    if start >= len(line):
        return start
    quote = line[start]
    if quote in "'\"":
        at = start + 1
        while at < len(line):
            if line[at] == "\\" and quote == '"':
                at += 2
                continue
            if line[at] == quote:
                if quote == "'" and line[at + 1:at + 2] == "'":
                    at += 2
                    continue
                return at + 1
            at += 1
        return len(line)
    flow = line.count("{", 0, start) + line.count("[", 0, start) > \
        line.count("}", 0, start) + line.count("]", 0, start)
    stops = [line.find(" #", start)] + ([line.find(c, start) for c in ",}]"] if flow else [])
    return min([s for s in stops if s >= 0] or [len(line)])


def secret_spans(result: LintResult, lines: list[str]) -> Hidden:
    """Where the file holds literal secrets (V504): the value of a ``password:`` has no
    pattern to recognise it by, but lint knows where it is."""
    hidden: Hidden = {}
    if result.source is None:
        return hidden
    for f in result.findings:
        if f.code != "V504":
            continue
        at = result.source.values.get(f.path) if f.at_key else None
        line, column = (at.line, at.column) if at else (f.line, f.column)
        if 1 <= line <= len(lines):
            end = _scalar_end(lines[line - 1], column - 1)
            hidden.setdefault(line, []).append((column, end + 1))
    return hidden


def public_line(text: str, number: int, hidden: Hidden) -> str:
    """Line ``number`` of the file as it may be shown: literal secrets and anything that
    looks like a key replaced by '*' (same width, so a caret under it stays in place)."""
    for first, after in hidden.get(number, ()):
        text = text[:first - 1] + "*" * max(min(after, len(text) + 1) - first, 0) + text[after - 1:]
    return mask(text)


def _excerpt(lines: list[str], f: Finding, hidden: Hidden) -> list[str]:
    if f.line < 1 or f.line > len(lines):
        return []
    text = public_line(lines[f.line - 1].rstrip(), f.line, hidden)
    return [f"   {f.line:>4} | {text}", "        | " + " " * max(f.column - 1, 0) + "^"]


def _lines(result: LintResult) -> list[str]:
    """The file's lines, split once per file (not once per finding: 16,384 findings of a
    big file made that quadratic)."""
    if result.source is None or not result.source.text:
        return []
    return split_lines(result.source.text)


def text(results: Sequence[LintResult], *, excerpts: bool = True) -> str:
    out: list[str] = []
    errors = warnings = 0
    for result in results:
        lines = _lines(result) if excerpts else []
        hidden = secret_spans(result, lines) if excerpts else {}
        for f in map(public, result.findings):
            where = f"{f.file}:{f.line}:{f.column}" if f.line else f.file
            out.append(f"{where}: {f.level.value} {f.code} {f.rule.slug}: {f.message}")
            if excerpts:
                out.extend(_excerpt(lines, f, hidden))
            if f.hint:
                out.append(f"    hint: {f.hint}")
            errors += f.level is Severity.ERROR
            warnings += f.level is Severity.WARNING
    files = len(results)
    status = _status(results)
    out.append(f"{files} file{'s' if files != 1 else ''} linted: {errors} error"
               f"{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
               f" ({status})")
    return "\n".join(out)


def _status(results: Sequence[LintResult]) -> str:
    if any(r.unusable for r in results):
        return "unusable"
    return "failed" if any(r.errors for r in results) else "clean"


# --- JSON ---------------------------------------------------------------------------------

# Bumped on any change a program reading the JSON would notice (README: "lint --format json").
# 1: {"files": [...]} only. 2: format, format_version, netweave, status, exit_code, counts;
# per finding start and end ({"line", "column"}, 1-based; the end is exclusive).
JSON_FORMAT_VERSION = 2


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {"errors": sum(f.level is Severity.ERROR for f in findings),
            "warnings": sum(f.level is Severity.WARNING for f in findings)}


def as_dict(f: Finding) -> dict[str, Any]:
    f = public(f)
    end_line, end_column = f.end
    return {"code": f.code, "rule": f.rule.slug, "family": f.rule.family,
            "severity": f.level.value, "message": f.message, "hint": f.hint,
            "file": f.file, "line": f.line, "column": f.column,
            "start": {"line": f.line, "column": f.column},
            "end": {"line": end_line, "column": end_column},
            "path": list(f.path)}


def as_json(results: Sequence[LintResult]) -> str:
    every = [f for r in results for f in r.findings]
    return json.dumps({
        "format": "netweave-lint", "format_version": JSON_FORMAT_VERSION, "netweave": version(),
        "status": _status(results), "exit_code": max((r.exit_code for r in results), default=0),
        "counts": {"files": len(results), **_counts(every)},
        "files": [{"file": r.file, "exit_code": r.exit_code, **_counts(r.findings),
                   "findings": [as_dict(f) for f in r.findings]} for r in results]}, indent=2)


# --- SARIF --------------------------------------------------------------------------------

# OASIS SARIF 2.1.0 (errata 01); tests/fixtures/sarif/ holds this schema and validates against it.
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def _rule_help(rule: Rule) -> dict[str, str]:
    family = rule.family
    text = (f"{rule.summary}.\n\n{rule.code} {rule.slug} is one of netweave's {family} rules "
            f"(default severity: {rule.severity.value}). Each finding names the objects "
            "involved, points at the offending value, and says in its hint what to change — "
            "usually the nearest value that exists. The README's Lint section lists every rule.")
    markdown = (f"**{rule.summary}.**\n\n`{rule.code}` `{rule.slug}` is one of netweave's "
                f"*{family}* rules (default severity: {rule.severity.value}). Each finding names "
                "the objects involved, points at the offending value, and says in its hint what "
                "to change — usually the nearest value that exists. The README's *Lint* section "
                "lists every rule.")
    return {"text": text, "markdown": markdown}


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {"id": rule.code, "name": rule.slug,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": f"{rule.code} {rule.slug}: {rule.summary}"},
            "help": _rule_help(rule),
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"tags": ["netweave", rule.family]}}


def _artifact(file: str) -> dict[str, str]:
    """Relative to the working directory (the repository root in CI: %SRCROOT%), else a
    file: URI, so code scanning puts the result on the file it shows in the PR."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return {"uri": path.as_uri()}
    return {"uri": PurePosixPath(*path.parts).as_posix(), "uriBaseId": "%SRCROOT%"}


def _sarif_result(f: Finding) -> dict[str, Any]:
    f = public(f)
    location: dict[str, Any] = {"artifactLocation": _artifact(f.file)}
    if f.line:
        end_line, end_column = f.end
        location["region"] = {"startLine": f.line, "startColumn": f.column,
                              "endLine": end_line, "endColumn": end_column}
    message = f.message + (f"\nhint: {f.hint}" if f.hint else "")
    # ruleId only: a ruleIndex would change meaning whenever a rule joins the catalogue
    return {"ruleId": f.code, "level": _SARIF_LEVEL[f.level],
            "message": {"text": message},
            "locations": [{"physicalLocation": location}]}


def sarif(results: Sequence[LintResult]) -> str:
    """One SARIF run: every rule of the catalogue (with help) and one result per finding."""
    rules = sorted(RULES.values(), key=lambda r: r.code)
    exit_code = max((r.exit_code for r in results), default=0)
    log = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netweave", "version": version(), "semanticVersion": version(),
                "rules": [_sarif_rule(r) for r in rules],
                "properties": {"families": dict(FAMILIES)}}},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "invocations": [{"executionSuccessful": True, "exitCode": exit_code}],
            "results": [_sarif_result(f) for r in results for f in r.findings],
        }],
    }
    return json.dumps(log, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[LintResult]) -> str:
    """GitHub workflow commands: annotations shown on the YAML lines of a pull request."""
    out = []
    for result in results:
        for f in map(public, result.findings):
            level = "error" if f.level is Severity.ERROR else "warning"
            props = [f"file={_escape_property(f.file)}"]
            if f.line:
                props += [f"line={f.line}", f"col={f.column}"]
            props.append(f"title={_escape_property(f'{f.code} {f.rule.slug}')}")
            message = f.message + (f"\nhint: {f.hint}" if f.hint else "")
            out.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(out)


def render(results: Sequence[LintResult], fmt: str) -> str:
    if fmt == "json":
        return as_json(results)
    if fmt == "sarif":
        return sarif(results)
    if fmt == "github":
        return github(results)
    return text(results)
