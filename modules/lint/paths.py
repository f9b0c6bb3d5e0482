"""Lint rules: paths."""

from __future__ import annotations

from collections.abc import Iterator

from modules.findings import Finding
from modules.lint import Context


def check(ctx: Context) -> Iterator[Finding]:
    return iter(())
