"""Emulation: boot a topology in Linux network namespaces with real FRR and
wireguard-go, run the rendered configuration, and prove the reachability matrix.

Layers, one module each: ``naming`` (run prefix, short names) -> ``layout`` (the lab as
data) -> ``netns`` (namespaces, veths, bridges) -> ``dhcp`` (VPC routers, option 121)
-> ``workloads`` (Vultr cloud-init routes) -> ``firewall`` (security groups) ->
``vcpe`` (rendered files, tunnels, FRR) -> ``processes`` (start/track/stop by PID) ->
``checks`` (BGP, ping matrix, verdict) -> ``teardown``; ``lab`` runs them in order.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from netweave.design import Design
from netweave.emulate.checks import (
    TCP_PORT,
    Pair,
    Verdict,
    expected_bgp,
    format_matrix,
    intent_problems,
    request_arrives,
    traceroute,
)
from netweave.emulate.lab import InjectedFailure, Lab
from netweave.emulate.progress import Progress
from netweave.emulate.teardown import remove_orphaned_runs
from netweave.model.index import Index
from netweave.model.topology import Topology

__all__ = ["EmulationResult", "InjectedFailure", "Lab", "Prediction", "emulate", "emulate_change",
           "predicted_matrix"]


@dataclass
class EmulationResult:
    prefix: str
    verdict: Verdict
    bgp_problems: list[str]
    report: list[str] = field(default_factory=list)
    failed_verdict: Verdict | None = None    # after --fail
    prediction: Prediction | None = None
    tcp_verdict: Verdict | None = None
    notes: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    stack: str = ""
    remote_access: list[str] = field(default_factory=list)          # report lines
    remote_access_problems: list[str] = field(default_factory=list)
    change: dict[str, Any] | None = None  # --change: the rehearsal (ChangeResult.as_dict)

    def as_dict(self) -> dict[str, object]:
        """The machine-readable report (``netweave emulate --format json``)."""
        def matrix(verdict: Verdict) -> dict[str, object]:
            return {"pairs": [{"from": a, "to": b, "observed": ok,
                               "predicted": verdict.predicted.get((a, b)),
                               "request_delivered": verdict.request_arrived.get((a, b))}
                              for (a, b), ok in sorted(verdict.observed.items())],
                    "differences": [list(p) for p in verdict.differences],
                    "intent_problems": verdict.intent_problems, "ok": verdict.ok}
        return {"stack": self.stack, "prefix": self.prefix, "ok": self.ok, "hosts": self.hosts,
                "bgp_problems": self.bgp_problems, "ping": matrix(self.verdict),
                "tcp": matrix(self.tcp_verdict) if self.tcp_verdict else None,
                "after_fail": matrix(self.failed_verdict) if self.failed_verdict else None,
                "remote_access": {"lines": self.remote_access,
                                  "problems": self.remote_access_problems,
                                  "ok": not self.remote_access_problems},
                "notes": self.notes, "timings": {name: round(t, 3) for name, t in self.timings},
                "change": self.change}
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.verdict.ok and not self.bgp_problems and not self.remote_access_problems
                and all(v is None or v.ok for v in (self.failed_verdict, self.tcp_verdict))
                and (self.change is None or bool(self.change.get("ok"))))


@dataclass
class Prediction:
    """reach's answer per ordered host pair: reachable, whether the request gets there
    (forward trace delivered), and the hop-by-hop path as text."""

    reachable: dict[Pair, bool] = field(default_factory=dict)
    forward: dict[Pair, bool] = field(default_factory=dict)
    paths: dict[Pair, str] = field(default_factory=dict)
    nodes: dict[Pair, set[str]] = field(default_factory=dict)  # every hop, both directions


def predicted_matrix(topology: Topology, index: Index, design: Design | None = None) -> Prediction:
    from netweave.forwarding.reach import Network
    prediction = Prediction()
    paths = prediction.paths
    for result in Network.build(topology, index, design).matrix():
        key = (result.src, result.dst)
        prediction.reachable[key] = result.reachable
        prediction.forward[key] = result.forward.delivered
        lines = []
        for label, trace in (("forward", result.forward), ("back", result.back)):
            hops = " -> ".join(f"{h.node} [{h.action}]" for h in trace.hops)
            lines.append(f"{label}: {hops}" + (f"  FAILS: {trace.failure}" if trace.failure else ""))
        paths[key] = "\n".join(lines)
        prediction.nodes[key] = {h.node for h in (*result.forward.hops, *result.back.hops)}
    return prediction


def unmodelled_notes(topology: Topology) -> list[str]:
    """Where the lab enforces what reach does not model, the comparison is not meaningful."""
    notes = []
    guarded = sorted(v for v, node in topology.vcpes.items() if node.security_groups)
    if guarded:
        notes.append(f"reach does not model the security groups of vCPEs ({', '.join(guarded)}); "
                     "the lab enforces them: a pair through them observed unreachable beside a "
                     "reachable prediction is marked 'expected' below its DIFFERS line")
    if topology.vpn_servers:
        notes.append("reach has no VPN clients: the remote-access section is checked against the "
                     "topology (push_networks, client_pool) only, not against reach")
    return notes


def without_tunnel(topology: Topology, tunnel: str) -> Topology:
    kept = [t for i, t in enumerate(topology.tunnels) if t.label(i) != tunnel]
    return topology.model_copy(update={"tunnels": kept})


def tunnel_labels(topology: Topology) -> list[str]:
    return [t.label(i) for i, t in enumerate(topology.tunnels)]


@contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM/SIGHUP become exceptions, so ``finally`` blocks tear the lab down."""
    def raise_exit(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; try/finally still tears down
        return
    saved = {s: signal.signal(s, raise_exit) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


MAX_PROBES = 24  # direction probes per matrix (each is one bounded ping)


def _verdict(lab: Lab, topology: Topology, index: Index, observed: dict[Pair, bool],
             prediction: Prediction, title: str) -> tuple[Verdict, list[str]]:
    predicted, paths = prediction.reachable, prediction.paths
    verdict = Verdict(observed, predicted, intent_problems(topology, index, observed))
    hosts = list(lab.layout.hosts)
    details: list[str] = []
    out = details
    blocked = sorted(p for p, ok in observed.items() if not ok)
    for a, b in blocked[:MAX_PROBES]:
        arrived = request_arrives(lab.layout.hosts[a], lab.layout.hosts[b])
        verdict.request_arrived[(a, b)] = arrived
        seen = (f"{b} got the request and answered, the reply was lost" if arrived
                else f"the request was not delivered to {b}")
        want = ("reach: reachable" if predicted.get((a, b))
                else "reach: forward path delivers, return path fails" if prediction.forward.get((a, b))
                else "reach: forward path fails")
        out.append(f"unreachable {a} -> {b}: {seen} ({want})")
    for a, b in verdict.differences:
        seen = "reachable" if observed[(a, b)] else "unreachable"
        want = "reachable" if predicted.get((a, b)) else "unreachable"
        out.append(f"DIFFERS {a} -> {b}: observed {seen}, reach predicted {want}")
        unmodelled = sorted(v for v in prediction.nodes.get((a, b), set())
                            if v in topology.vcpes and topology.vcpes[v].security_groups)
        if unmodelled and not observed[(a, b)]:
            out.append("  expected: reach does not model vCPE security groups; on this path: "
                       + ", ".join(f"{v} ({', '.join(topology.vcpes[v].security_groups)})"
                                   for v in unmodelled))
        if (a, b) in paths:
            out += ["  predicted path:", *("    " + line for line in paths[(a, b)].splitlines())]
        out += ["  observed (traceroute):",
                *("    " + line for line in
                  traceroute(lab.layout.hosts[a], str(lab.layout.hosts[b].address.ip)).splitlines())]
    out += [f"INTENT {p}" for p in verdict.intent_problems]
    agree = len(observed) - len(verdict.differences)
    # the matrix and the verdict first, then why (probes, differences, intent)
    summary = (f"{agree}/{len(observed)} pairs agree with reach; intent "
               f"{'holds' if not verdict.intent_problems else 'VIOLATED'}")
    return verdict, [title, format_matrix(hosts, verdict), summary, *details]


def bgp_lines(problems: list[str], sessions: bool) -> list[str]:
    """The BGP verdict under the matrix; a topology without BGP says so instead of claiming
    that its (zero) sessions are Established."""
    if problems:
        return [f"BGP: {p}" for p in problems]
    if not sessions:
        return ["BGP: no BGP sessions in this topology (no tunnel between two vCPEs with bgp)"]
    return ["BGP: every session Established, every expected prefix learned"]


def emulate(topology: Topology, index: Index, *, file: str = "", tcp: bool = False,
            fail: str | None = None, keep: bool = False, progress: Progress | None = None,
            fail_after: str | None = None, prefix: str | None = None,
            on_ready: Callable[[Lab], None] | None = None,
            bgp_timeout: float | None = None, design: Design | None = None) -> EmulationResult:
    """Build, converge, check, tear down. ``on_ready`` sees the running lab after the
    matrix (benchmarks sample memory there)."""
    progress = progress or Progress(quiet=True)
    design = design if design is not None else Design.build(topology, index)
    prediction = predicted_matrix(topology, index, design)
    # a killed run's lab (namespaces, daemons, sockets) is found and removed before ours
    recovered = remove_orphaned_runs()
    for line in recovered:
        print(f"netweave emulate: {line}", file=sys.stderr)
    lab = Lab(topology, index, file=file, progress=progress, prefix=prefix, fail_after=fail_after,
              bgp_timeout=bgp_timeout, design=design)
    lab.notes.extend(recovered)
    kept = False
    atexit.register(lab.teardown)  # last resort (e.g. sys.exit from elsewhere); idempotent
    try:
        with signals_raise():
            lab.build()
            bgp = lab.converge()
            observed = lab.matrix()
            verdict, report = _verdict(lab, topology, index, observed, prediction,
                                       f"== matrix of {topology.name or file} (ping -c 2 -W 1)")
            report += bgp_lines(bgp, bool(expected_bgp(design)))
            remote_lines: list[str] = []
            remote_problems: list[str] = []
            if lab.layout.vpn_servers:
                remote_lines, remote_problems = lab.remote_access()
                report += remote_lines
            if on_ready:
                on_ready(lab)
            tcp_verdict = None
            if tcp:
                tcp_verdict, more = _verdict(lab, topology, index, lab.matrix(tcp=True), prediction,
                                             f"== TCP connect matrix (port {TCP_PORT}, 2 s timeout)")
                report += more
            failed = None
            if fail:
                downed = lab.fail_tunnel(fail)
                report.append(f"== --fail {fail}: took down {', '.join(downed) or 'nothing'}")
                reduced = without_tunnel(topology, fail)
                bgp += [f"after --fail: {p}" for p in lab.converge(skip_tunnels=(fail,))]
                reduced_index = Index.build(reduced)
                failed, more = _verdict(lab, reduced, reduced_index, lab.matrix(),
                                        predicted_matrix(reduced, reduced_index),
                                        f"== matrix after {fail} failed")
                report += more
            notes = _lab_notes(lab)
            notes += unmodelled_notes(topology)
            if keep:
                lab.keep()
                kept = True
                report += ["lab kept running:", *lab.enter_hints()]
            result = EmulationResult(lab.prefix, verdict, bgp, report, failed, prediction,
                                     tcp_verdict=tcp_verdict, notes=notes + lab.notes,
                                     hosts=list(lab.layout.hosts), stack=topology.name or file,
                                     remote_access=remote_lines,
                                     remote_access_problems=remote_problems)
    finally:
        atexit.unregister(lab.teardown)
        if not kept:
            with progress.phase("teardown"):
                problems = lab.teardown()
            for problem in problems:
                print(f"teardown: {problem}", file=sys.stderr)
    result.timings = list(progress.timings)
    return result


def emulate_change(topology: Topology, index: Index, head: Topology, head_index: Index, *,
                   file: str = "", head_file: str = "", progress: Progress | None = None,
                   prefix: str | None = None, bgp_timeout: float | None = None) -> EmulationResult:
    """``--change``: boot ``topology`` (BASE), probe, apply ``head`` in place through the
    deploy's own path (HostConfig over SSH), check HEAD's matrix, tear down."""
    from netweave.emulate.rehearse import rehearse
    progress = progress or Progress(quiet=True)
    lab = Lab(topology, index, file=file, progress=progress, prefix=prefix, bgp_timeout=bgp_timeout,
              in_place=True)
    atexit.register(lab.teardown)
    try:
        with signals_raise():
            lab.build()
            bgp = lab.converge()
            change, lines = rehearse(lab, topology, index, head, head_index, file, head_file)
            notes = _lab_notes(lab)
            notes += unmodelled_notes(head)
            base_sessions = bool(expected_bgp(Design.build(topology, index)))
            report = [*bgp_lines(bgp, base_sessions), *lines,
                      "notes (what the lab does differently from a cloud VM):",
                      *("  " + n for n in notes + lab.notes)]
            assert change.verdict is not None
            result = EmulationResult(lab.prefix, change.verdict, bgp, report, None,
                                     notes=notes + lab.notes, hosts=list(lab.layout.hosts),
                                     stack=head.name or head_file, change=change.as_dict())
    finally:
        atexit.unregister(lab.teardown)
        with progress.phase("teardown"):
            problems = lab.teardown()
        for problem in problems:
            print(f"teardown: {problem}", file=sys.stderr)
    result.timings = list(progress.timings)
    return result


def _lab_notes(lab: Lab) -> list[str]:
    """What the lab did differently from a cloud VM, one line per note, naming every host
    it applies to (a note shared by all vCPEs is printed once)."""
    by_note: dict[str, list[str]] = {}
    for name, booted in lab.booted.items():
        for note in dict.fromkeys(booted.notes):
            by_note.setdefault(note, []).append(name)
    return [f"{', '.join(names)}: {note}" for note, names in by_note.items()]

