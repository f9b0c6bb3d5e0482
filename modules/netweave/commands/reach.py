"""netweave reach FILE: who reaches whom, both ways, and why not.

Prints the ping matrix of every host pair from the forwarding model
(``netweave.forwarding.reach``), marks the pairs the intent speaks about, and with
``--explain A B`` walks one ping hop by hop. Exit 0 when every ``must_reach``
holds, no ``must_not_reach`` leaks and lint finds no errors; 1 otherwise
(with ``--explain``: 1 when the pair does not reach); 2 when the file is unusable.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from netweave.forwarding.classes import Verdicts
from netweave.forwarding.reach import Network, PingResult, Trace
from netweave.lint import EXIT_ERRORS, EXIT_OK, EXIT_UNUSABLE, LintResult, Unusable, load_topology, report
from netweave.lint.findings import Severity
from netweave.lint.schema import dotted, nearest

HELP = "reachability matrix of the hosts, both ways; --explain A B walks one ping hop by hop"
DESCRIPTION = (HELP + ". Exit 0 when every must_reach holds both ways, nothing leaks and the "
               "file lints clean; 1 otherwise (with --explain: 1 when that ping fails); 2 when "
               "the file is unusable.")
ORDER = 20

# Past this many hosts the grid is unreadable: only the broken pairs are listed.
GRID_MAX_HOSTS = 30
LIST_MAX = 50


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="topology YAML file")
    p.add_argument("--explain", nargs=2, metavar=("A", "B"),
                   help="hop-by-hop path of a ping from host A to host B and its reply")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json: every pair with both traces, intent, findings")


@dataclass
class IntentCheck:
    group: str  # "must_reach" | "must_not_reach"
    index: int
    src: str
    dst: str
    hosts: int  # host pairs checked
    broken: list[str] = field(default_factory=list)  # what violates it, in words

    @property
    def holds(self) -> bool:
        return not self.broken


def _intent(net: Network) -> tuple[list[IntentCheck], dict[frozenset[str], str]]:
    """Each intent entry checked, and which host pairs each one covers."""
    checks: list[IntentCheck] = []
    covered: dict[frozenset[str], str] = {}
    intent = net.topology.intent
    if intent is None:
        return checks, covered
    for group in ("must_reach", "must_not_reach"):
        for i, pair in enumerate(getattr(intent, group)):
            pairs = [(a, b) for a in net.index.hosts_in(pair.from_)
                     for b in net.index.hosts_in(pair.to) if a != b]
            check = IntentCheck(group, i, pair.from_, pair.to, len(pairs))
            for a, b in pairs:
                covered.setdefault(frozenset((a, b)), group)
                for x, y in ((a, b), (b, a)):
                    if group == "must_reach":
                        ping = net.ping(x, y)
                        if not ping.reachable:
                            failed = ping.forward if not ping.forward.delivered else ping.back
                            check.broken.append(failed.failure or f"{x} -> {y} fails")
                    elif (trace := net.trace(x, y)).delivered:
                        check.broken.append(f"{x} reaches {y}: {trace.summary()}")
            checks.append(check)
    return checks, covered


def _grid(verdicts: Verdicts, covered: dict[frozenset[str], str]) -> list[str]:
    hosts = verdicts.hosts
    width = max([len(h) for h in hosts] + [4]) + 1
    lines = [" " * (width + 5) + "".join(h.rjust(width + 1) for h in hosts)]
    for a in hosts:
        cells = []
        for b in hosts:
            if a == b:
                cells.append("-")
                continue
            mark = {"must_reach": "*", "must_not_reach": "!"}.get(covered.get(frozenset((a, b)), ""), "")
            cells.append(verdicts.cell(a, b) + mark)
        lines.append(f"from {a.ljust(width)}" + "".join(c.rjust(width + 1) for c in cells))
    return lines


def _text_matrix(file: str, net: Network, checks: list[IntentCheck],
                 covered: dict[frozenset[str], str]) -> str:
    # Verdicts for every pair come from the classes (no pair-by-pair trace); words and
    # hops only for the pairs listed.
    verdicts = Verdicts(net)
    hosts = verdicts.hosts
    pings, ok = verdicts.pings, verdicts.reachable_count
    out = [f"reachability of {file}: {len(hosts)} hosts, {pings} pings (request and reply)"]
    if not hosts:
        out.append("no hosts: add workload hosts to check paths between vxnets")
    elif len(hosts) <= GRID_MAX_HOSTS:
        out += ["", *_grid(verdicts, covered), "",
                "ok: ping works   x>: the request dies   x<: the reply dies   loop: routing loop",
                "*: intent must_reach   !: intent must_not_reach   (row pings column)"]
    if ok < pings:
        out += ["", "not reachable:"]
        for src, dst in itertools.islice(verdicts.broken(), LIST_MAX):
            p = net.ping(src, dst)
            if not p.forward.delivered:
                out.append(f"  {p.forward.failure}")
            else:
                out.append(f"  {p.src} -> {p.dst}: the {p.back.failure}")
        if pings - ok > LIST_MAX:
            out.append(f"  ... and {pings - ok - LIST_MAX} more")
    if checks:
        out += ["", "intent:"]
        for c in checks:
            verb = "reach" if c.group == "must_reach" else "not reach"
            # every host pair is checked both ways
            state = "holds" if c.holds else f"VIOLATED ({len(c.broken)} of {2 * c.hosts} directions)"
            empty = " (no host pairs to check)" if not c.hosts else ""
            out.append(f"  {c.src} must {verb} {c.dst}: {state}{empty}")
            out += [f"    {b}" for b in c.broken[:3]]
    held = sum(c.holds for c in checks if c.group == "must_reach")
    total = sum(c.group == "must_reach" for c in checks)
    leaks = sum(not c.holds for c in checks if c.group == "must_not_reach")
    out += ["", f"summary: {ok} of {pings} pings work; intent: {held} of {total} must_reach "
                f"hold, {leaks} must_not_reach leak{'s' if leaks != 1 else ''}"]
    return "\n".join(out)


def _hops(trace: Trace, lint: LintResult) -> list[str]:
    out = []
    width = max([len(h.node) for h in trace.hops] + [4])
    for i, hop in enumerate(trace.hops, 1):
        where = f"  [{dotted(hop.path)}]" if hop.path else ""
        out.append(f"    {i}. {hop.node.ljust(width)}  {hop.kind.ljust(10)}  {hop.action}{where}")
    if not trace.delivered:
        out.append(f"    {'loop' if trace.loop else 'dies'}: {trace.failure}")
        if trace.failure_path is not None and lint.source is not None:
            pos = lint.source.position(trace.failure_path)
            out.append(f"    fix at: {lint.file}:{pos.line}:{pos.column} "
                       f"({dotted(trace.failure_path)})")
    return out


def _text_explain(ping: PingResult, lint: LintResult) -> str:
    state = "reachable: the ping and its reply get through" if ping.reachable else (
        "NOT reachable: the request dies" if not ping.forward.delivered
        else "NOT reachable: the request arrives but the reply dies")
    return "\n".join([f"{ping.src} -> {ping.dst}: {state}", "",
                      f"  request  {ping.forward.summary()}", *_hops(ping.forward, lint), "",
                      f"  reply    {ping.back.summary()}", *_hops(ping.back, lint)])


def _pair_dict(ping: PingResult, covered: dict[frozenset[str], str]) -> dict[str, object]:
    return {"from": ping.src, "to": ping.dst, "reachable": ping.reachable,
            "intent": covered.get(frozenset((ping.src, ping.dst))),
            "forward": ping.forward.as_dict(), "back": ping.back.as_dict()}


def _json(file: str, net: Network, pings: Iterable[PingResult], checks: list[IntentCheck],
          covered: dict[frozenset[str], str], lint: LintResult) -> str:
    pairs = [_pair_dict(p, covered) for p in pings]
    return json.dumps({
        "file": file, "hosts": net.hosts, "pairs": pairs,
        "intent": [{"group": c.group, "index": c.index, "from": c.src, "to": c.dst,
                    "holds": c.holds, "host_pairs": c.hosts, "broken": c.broken} for c in checks],
        "summary": {"pings": len(pairs), "reachable": sum(bool(p["reachable"]) for p in pairs),
                    "intent_holds": all(c.holds for c in checks),
                    "lint_errors": len(lint.errors)},
        "findings": [report.as_dict(f) for f in lint.findings],
    }, indent=2)


def _unknown_host(name: str, net: Network) -> str:
    guess = nearest(name, net.hosts)
    hint = f"; did you mean '{guess}'?" if guess else f"; hosts: {', '.join(net.hosts[:10])}"
    return f"netweave reach: '{name}' is not a host of this topology{hint}"


def run(args: argparse.Namespace) -> int:
    try:
        topology, _, lint = load_topology(args.file)
    except Unusable as exc:
        print(report.render([exc.result], args.format))
        return EXIT_UNUSABLE
    net = lint.network  # the model lint's path rules already built
    checks, covered = _intent(net)
    if args.explain:
        for name in args.explain:
            if name not in topology.hosts:
                print(_unknown_host(name, net), file=sys.stderr)
                return EXIT_UNUSABLE
        ping = net.ping(*args.explain)
        if args.format == "json":
            print(_json(args.file, net, [ping], checks, covered, lint))
        else:
            print(_text_explain(ping, lint))
        return EXIT_OK if ping.reachable else EXIT_ERRORS
    if args.format == "json":
        print(_json(args.file, net, net.matrix(), checks, covered, lint))
    else:
        if lint.findings:
            print(report.text([lint]))
            print()
        print(_text_matrix(args.file, net, checks, covered))
    failed = any(not c.holds for c in checks) or any(f.level is Severity.ERROR for f in lint.findings)
    return EXIT_ERRORS if failed else EXIT_OK
