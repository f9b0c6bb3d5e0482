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
from typing import Any

from netweave import graph
from netweave.deploy import plan
from netweave.diff import reach as reachdiff
from netweave.diff.boot import BootChanges, boot_changes
from netweave.diff.lint import LintChanges, lint_changes
from netweave.diff.network import Change, network_changes
from netweave.diff.resources import HostChange, ResourceChange, host_changes, resource_changes
from netweave.lint import LintResult, lint_bytes
from netweave.model.gitref import Revision, read
from netweave.model.index import Index
from netweave.model.topology import Topology


@dataclass
class Side:
    revision: Revision
    lint: LintResult

    @property
    def topology(self) -> Topology | None:
        return self.lint.topology

    @property
    def index(self) -> Index | None:
        return self.lint.index if self.lint.topology is not None else None



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
    boot: list[BootChanges] = field(default_factory=list)  # each changed host's boot files
    hosts: list[HostChange] = field(default_factory=list)  # in place or replaced, per host
    rehearsal: dict[str, Any] | None = None  # `netweave emulate BASE --change HEAD --format json`
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
    base_rev, head_rev = read(base_spec), read(head_spec)
    stack = plan.stack_name(head_rev.path)
    with tempfile.TemporaryDirectory(prefix="netweave-diff-") as tmp:
        base = Side(base_rev, lint_bytes(base_rev.data, file=base_rev.display))
        head = Side(head_rev, lint_bytes(head_rev.data, file=head_rev.display))
        report = DiffReport(stack, base, head, lint_changes(base.lint.findings, head.lint.findings))
        if base.topology is None or head.topology is None:
            unusable = base_rev.display if base.topology is None else head_rev.display
            report.reach_note = report.network_note = f"{unusable} is not a usable topology (see lint)"
            report.plan_note = report.reach_note
            return report
        # The two offline plans run in children forked now, with both lint results (and the
        # design they carry), while this process traces and compares: the machine has
        # more than one core, and nothing is linted twice.
        planned = _plans(base, head, stack, program, Path(tmp)) if plans else None
        base_index, head_index = base.lint.index, head.lint.index
        _reachability(report, base.lint, head.lint)
        base_design, head_design = base.lint.design, head.lint.design
        report.network = network_changes(base.topology, head.topology, base_design, head_design)
        report.graph = graph.merged(graph.build(base.topology, base_index, base_design),
                                    graph.build(head.topology, head_index, head_design))
        if planned is None:
            report.plan_note = "offline plans skipped (--no-plan)"
        else:
            _resources(report, planned)
    return report


def _reachability(report: DiffReport, base: LintResult, head: LintResult) -> None:
    assert base.topology is not None and head.topology is not None
    try:
        hosts = sorted(set(base.network.hosts) | set(head.network.hosts))
        before = reachdiff.Reachability.of(base.network, hosts)
        after = reachdiff.Reachability.of(head.network, hosts)
    except ImportError:
        report.reach_note = "the forwarding model (netweave.forwarding.reach) is not available"
        return
    report.pairs = reachdiff.pair_changes(before, after)
    report.intents = reachdiff.intent_changes(
        reachdiff.intent_status(base.topology, base.index, before),
        reachdiff.intent_status(head.topology, head.index, after))


def _plans(base: Side, head: Side, stack: str, program: str, tmp: Path) -> plan.Planning:
    files: list[tuple[str | Path, LintResult | None]] = []
    for side, name in ((base, "base"), (head, "head")):
        path = tmp / name / Path(side.revision.path).name
        path.parent.mkdir()
        path.write_bytes(side.revision.data)  # the program's topology file
        files.append((path, side.lint))
    return plan.start(files, stack, program=program)


def _resources(report: DiffReport, planned: plan.Planning) -> None:
    try:
        before, after = planned.result()
    except plan.PlanError as failed:
        report.plan_note = str(failed)
        return
    if after.error or before.error:
        which = "HEAD" if after.error else "BASE"
        report.plan_note = (f"the program stops on {which} before declaring resources "
                            "(lint errors: nothing would be deployed)")
        return
    vcpes = set(report.base.topology.vcpes if report.base.topology else ()) | set(
        report.head.topology.vcpes if report.head.topology else ())
    servers = set(report.base.topology.vpn_servers if report.base.topology else ()) | set(
        report.head.topology.vpn_servers if report.head.topology else ())
    report.resources = resource_changes(before, after, vcpes)
    report.hosts = host_changes(report.resources, vcpes | servers)
    hosts = {h.host for h in report.hosts if h.how in ("in place", "replaced")}
    if hosts and report.base.topology is not None and report.head.topology is not None:
        try:
            report.boot = boot_changes(report.base.topology, report.head.topology, hosts)
        except Exception as exc:  # the renderer refusing a design must not hide the diff
            report.plan_note = f"boot files not compared: {type(exc).__name__}: {exc}"
