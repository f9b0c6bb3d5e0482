"""Lint: every check that runs before anything is deployed.

Stages, as in netlab: load (YAML with positions) -> schema (pydantic) -> references ->
rule families (one module each: addressing, routing, paths, vpn). Findings of all rules
are collected and reported together; the schema stages stop the run early because
later rules need a well-formed model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from netweave.allocation import bulk_allocation
from netweave.design import Design
from netweave.lint import references
from netweave.lint.findings import Finding, Severity
from netweave.lint.schema import validate
from netweave.lint.secrets import masked
from netweave.model.index import Index
from netweave.model.source import LoadError, Source, load, parse, parse_bytes
from netweave.model.topology import Topology

if TYPE_CHECKING:
    from netweave.forwarding.reach import Network

# Rule families after the schema stage, in report order. Each module has
# ``check(ctx: Context) -> Iterable[Finding]``.
FAMILIES = ("addressing", "routing", "vpn", "paths", "vultr", "qingcloud")

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2


@dataclass
class Context:
    """What a rule family gets: the model, its index, the derived design, and the
    forwarding model on demand."""

    topology: Topology
    index: Index

    @cached_property
    def design(self) -> Design:
        return Design.build(self.topology, self.index)

    @cached_property
    def network(self) -> Network:
        from netweave.forwarding.reach import Network  # built only for families that need paths
        return Network.build(self.topology, self.index, self.design)


@dataclass
class LintResult:
    file: str
    source: Source | None
    findings: list[Finding] = field(default_factory=list)
    topology: Topology | None = None
    unusable: bool = False  # the file could not be turned into a model (exit 2)
    # What lint derived (index, design, forwarding model): later stages reuse it, never
    # rebuild it.
    context: Context | None = None

    @property
    def index(self) -> Index:
        if self.context is None:
            raise Unusable(self)
        return self.context.index

    @property
    def design(self) -> Design:
        if self.context is None:
            raise Unusable(self)
        return self.context.design

    @property
    def network(self) -> Network:
        if self.context is None:
            raise Unusable(self)
        return self.context.network

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Severity.WARNING]

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_UNUSABLE
        return EXIT_ERRORS if self.errors else EXIT_OK


def _family(name: str) -> Callable[[Context], Iterable[Finding]]:
    module: Any = importlib.import_module(f"netweave.lint.{name}")
    return module.check  # type: ignore[no-any-return]


def lint_source(source: Source, families: Iterable[str] = FAMILIES) -> LintResult:
    with bulk_allocation():  # everything lint builds lives until the command ends
        return _lint(source, families)


def _lint(source: Source, families: Iterable[str]) -> LintResult:
    result = LintResult(source.file, source)
    schema = validate(source)
    found = list(schema.findings)
    topology = schema.topology
    if topology is not None:
        found.extend(references.check(topology))
    if topology is None or any(f.code.startswith("S") for f in found):
        result.findings = _located(found, source)
        result.unusable = True
        return _refused_by_the_careful_parser(result)
    result.topology = topology
    ctx = result.context = Context(topology, Index.build(topology))
    for name in families:
        found.extend(_family(name)(ctx))
    result.findings = _located(_without_consequences(found), source)
    return _refused_by_the_careful_parser(result)


def _refused_by_the_careful_parser(result: LintResult) -> LintResult:
    """A big file yaml-rs read but libyaml refuses (the two disagree on a few corners of
    YAML) has findings nobody can locate: its syntax error, with its position, is the
    answer instead."""
    error = result.source.position_error if result.source is not None else None
    return _load_failure(error) if error is not None else result


# Warnings a model-wide search finds as consequences of another finding: shown only when
# nothing else explains them (a return path broken by a black-hole next hop is that R301).
CONSEQUENCES = frozenset({"P406"})


def _without_consequences(found: list[Finding]) -> list[Finding]:
    if not any(f.code in CONSEQUENCES for f in found):
        return found
    # broken addressing (overlaps, duplicates, reserved addresses) makes paths fail anywhere
    addressing = any(f.code.startswith("A") and f.level is Severity.ERROR for f in found)
    places = {f.path for f in found if f.code not in CONSEQUENCES}

    def explained(path: tuple[str | int, ...]) -> bool:
        return any(path[:n] in places for n in range(1, len(path) + 1)) or any(
            p[:len(path)] == path for p in places)

    return [f for f in found
            if f.code not in CONSEQUENCES or not (addressing or explained(f.path))]


def _located(found: Iterable[Finding], source: Source) -> list[Finding]:
    # masked here, once: every consumer of findings (reports, diff, the Pulumi program's
    # log, the policy pack) gets messages, hints and paths without key material
    unique = {masked(f.located(source)) for f in found}
    return sorted(unique, key=Finding.sort_key)


def _load_failure(error: LoadError) -> LintResult:
    result = LintResult(error.file, None, unusable=True)
    result.findings = [masked(Finding(error.code, error.message, (), error.hint, file=error.file,
                                      line=error.line, column=error.column))]
    return result


def lint_file(path: str, families: Iterable[str] = FAMILIES) -> LintResult:
    try:
        source = load(path)
    except LoadError as error:
        return _load_failure(error)
    return lint_source(source, families)


def lint_text(text: str, file: str = "<string>", families: Iterable[str] = FAMILIES) -> LintResult:
    try:
        source = parse(text, file)
    except LoadError as error:
        return _load_failure(error)
    return lint_source(source, families)


def lint_bytes(data: bytes, file: str = "<string>",
               families: Iterable[str] = FAMILIES) -> LintResult:
    """Lint a file's raw bytes (``git show`` output): non-UTF-8 is a finding with its place."""
    try:
        source = parse_bytes(data, file)
    except LoadError as error:
        return _load_failure(error)
    return lint_source(source, families)


def load_topology(path: str) -> tuple[Topology, Index, LintResult]:
    """For commands that need a usable model (reach, render, ...): lint, then hand it over.

    Raises :class:`Unusable` when the file cannot become a model; lint errors of later
    families are returned for the caller to decide (render refuses, reach explains).
    """
    result = lint_file(path)
    if result.topology is None:
        raise Unusable(result)
    return result.topology, result.index, result


class Unusable(Exception):
    def __init__(self, result: LintResult) -> None:
        super().__init__(f"{result.file} is not a usable topology")
        self.result = result
