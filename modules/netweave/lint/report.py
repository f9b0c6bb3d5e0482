"""Printing findings: for people (text), for programs (json), for GitHub (annotations)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from netweave.lint import LintResult
from netweave.lint.findings import Finding, Severity
from netweave.model.source import split_lines

FORMATS = ("text", "json", "github")


def _excerpt(lines: list[str], f: Finding) -> list[str]:
    if f.line < 1 or f.line > len(lines):
        return []
    text = lines[f.line - 1].rstrip()
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
        for f in result.findings:
            where = f"{f.file}:{f.line}:{f.column}" if f.line else f.file
            out.append(f"{where}: {f.level.value} {f.code} {f.rule.slug}: {f.message}")
            if excerpts:
                out.extend(_excerpt(lines, f))
            if f.hint:
                out.append(f"    hint: {f.hint}")
            errors += f.level is Severity.ERROR
            warnings += f.level is Severity.WARNING
    files = len(results)
    status = "unusable" if any(r.unusable for r in results) else (
        "failed" if errors else "clean")
    out.append(f"{files} file{'s' if files != 1 else ''} linted: {errors} error"
               f"{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
               f" ({status})")
    return "\n".join(out)


def as_dict(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "rule": f.rule.slug, "family": f.rule.family,
            "severity": f.level.value, "message": f.message, "hint": f.hint,
            "file": f.file, "line": f.line, "column": f.column,
            "path": list(f.path)}


def as_json(results: Sequence[LintResult]) -> str:
    return json.dumps({"files": [{"file": r.file, "exit_code": r.exit_code,
                                  "findings": [as_dict(f) for f in r.findings]}
                                 for r in results]}, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[LintResult]) -> str:
    """GitHub workflow commands: annotations shown on the YAML lines of a pull request."""
    out = []
    for result in results:
        for f in result.findings:
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
    if fmt == "github":
        return github(results)
    return text(results)
