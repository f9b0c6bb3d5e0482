"""``netweave diff BASE HEAD``: what a change does, in the order a reviewer needs it.

1. reachability (host pairs and intent rules gained or lost), 2. lint findings
introduced or fixed, 3. network changes in the domain's words, 4. resource changes of
the two offline plans. Each stage runs only on what the earlier ones could use: a file
that is not a usable topology gets its lint findings and nothing else.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from modules import graph, plan, reachdiff
from modules.gitref import Revision, read
from modules.index import Index
from modules.lint import LintResult, lint_text
from modules.lintdiff import LintChanges, lint_changes
from modules.model import Topology
from modules.netdiff import Change, network_changes
from modules.resdiff import ResourceChange, resource_changes


@dataclass
class Side:
    revision: Revision
    lint: LintResult

    @property
    def topology(self) -> Topology | None:
        return self.lint.topology

    @property
    def index(self) -> Index | None:
        return Index.build(self.lint.topology) if self.lint.topology is not None else None

    @classmethod
    def load(cls, spec: str) -> Side:
        revision = read(spec)
        return cls(revision, lint_text(revision.text, file=revision.display))


@dataclass
class DiffReport:
    stack: str
    base: Side
    head: Side
    lint: LintChanges
    pairs: list[reachdiff.PairChange] = field(default_factory=list)
    intents: list[reachdiff.IntentChange] = field(default_factory=list)
    reach_note: str | None = None  # why reachability could not be compared
    network: list[Change] = field(default_factory=list)
    network_note: str | None = None
    resources: list[ResourceChange] | None = None
    plan_note: str | None = None
    graph: graph.Graph | None = None

    @property
    def lost(self) -> list[reachdiff.PairChange]:
        return [p for p in self.pairs if p.lost]

    @property
    def gained(self) -> list[reachdiff.PairChange]:
        return [p for p in self.pairs if not p.lost]

    @property
    def vcpe_interruptions(self) -> list[ResourceChange]:
        return [r for r in self.resources or [] if r.interrupts_traffic]


def compare(base_spec: str, head_spec: str, *, plans: bool = True,
            program: str = plan.DEFAULT_PROGRAM) -> DiffReport:
    base, head = Side.load(base_spec), Side.load(head_spec)
    topo = head.topology or base.topology
    stack = plan.stack_name(head.revision.path, topo.name if topo else None)
    report = DiffReport(stack, base, head, lint_changes(base.lint.findings, head.lint.findings))
    if base.topology is None or head.topology is None:
        unusable = base.revision.display if base.topology is None else head.revision.display
        report.reach_note = report.network_note = f"{unusable} is not a usable topology (see lint)"
        report.plan_note = report.reach_note
        return report
    base_index, head_index = Index.build(base.topology), Index.build(head.topology)
    _reachability(report, base.topology, base_index, head.topology, head_index)
    report.network = network_changes(base.topology, head.topology)
    report.graph = graph.merged(graph.build(base.topology, base_index),
                                graph.build(head.topology, head_index))
    if plans:
        _resources(report, base, head, program)
    else:
        report.plan_note = "offline plans skipped (--no-plan)"
    return report


def _reachability(report: DiffReport, base: Topology, base_index: Index,
                  head: Topology, head_index: Index) -> None:
    try:
        before = reachdiff.Reachability.of(base, base_index)
        after = reachdiff.Reachability.of(head, head_index)
    except ImportError:
        report.reach_note = "the forwarding model (modules.reach) is not available"
        return
    report.pairs = reachdiff.pair_changes(before, after)
    report.intents = reachdiff.intent_changes(reachdiff.intent_status(base, base_index, before),
                                              reachdiff.intent_status(head, head_index, after))


def _resources(report: DiffReport, base: Side, head: Side, program: str) -> None:
    with tempfile.TemporaryDirectory(prefix="netweave-diff-") as tmp:
        files = []
        for side, name in ((base, "base"), (head, "head")):
            path = Path(tmp) / name / Path(side.revision.path).name
            path.parent.mkdir()
            path.write_text(side.revision.text, encoding="utf-8")
            files.append(path)
        try:
            before, after = plan.run_both((files[0], report.stack), (files[1], report.stack),
                                          program=program)
        except plan.PlanError as failed:
            report.plan_note = str(failed)
            return
    if after.error or before.error:
        which = "HEAD" if after.error else "BASE"
        report.plan_note = (f"the program stops on {which} before declaring resources "
                            "(lint errors: nothing would be deployed)")
        return
    vcpes = set(base.topology.vcpes if base.topology else ()) | set(
        head.topology.vcpes if head.topology else ())
    report.resources = resource_changes(before, after, vcpes)
