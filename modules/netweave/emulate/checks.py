"""What the lab proves: BGP sessions up with the expected prefixes, and who can ping
whom — every ordered host pair, bounded in count and time — beside reach's prediction."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from netweave.design import Design
from netweave.emulate import shell
from netweave.emulate.layout import HostLayout
from netweave.model.index import Index
from netweave.model.topology import Topology

TCP_PORT = 7777
KICK_AFTER = 3.0  # s: a session still Idle after this is restarted (see wait_for_bgp)


# --- BGP --------------------------------------------------------------------------------

def expected_bgp(design: Design, skip_tunnels: Iterable[str] = ()) -> dict[str, dict[str, set[str]]]:
    """vCPE -> {peer tunnel address: prefixes it must learn from that peer}: the design's
    sessions, each side accepting what the other announces (less what it announces
    itself: eBGP drops its own AS coming back)."""
    skip = set(skip_tunnels)
    found: dict[str, dict[str, set[str]]] = {}
    for session in design.bgp_sessions:
        if session.tunnel in skip:
            continue
        for local, remote in (session.ends, session.ends[::-1]):
            wanted = {str(p) for p in local.accepts} - {str(p) for p in local.announces}
            found.setdefault(local.vcpe, {})[str(remote.address)] = wanted
    return found


@dataclass
class BgpState:
    vcpe: str
    sessions: dict[str, str] = field(default_factory=dict)    # peer -> state
    learned: dict[str, set[str]] = field(default_factory=dict)  # peer -> prefixes via it
    error: str | None = None

    def missing(self, expected: Mapping[str, set[str]]) -> list[str]:
        if self.error:
            return [f"{self.vcpe}: cannot read BGP state: {self.error}"]
        problems = []
        for peer, prefixes in sorted(expected.items()):
            state = self.sessions.get(peer, "absent")
            if state != "Established":
                problems.append(f"{self.vcpe}: session to {peer} is {state}")
                continue
            lacking = prefixes - self.learned.get(peer, set())
            if lacking:
                problems.append(f"{self.vcpe}: not learned from {peer}: {', '.join(sorted(lacking))}")
        return problems


def vtysh_json(vty: Path, command: str) -> dict[str, object]:
    proc = shell.run(["vtysh", "--vty_socket", str(vty), "-c", command], timeout=15)
    data = json.loads(proc.stdout or "{}")
    return data if isinstance(data, dict) else {}


def bgp_state(vcpe: str, vty: Path) -> BgpState:
    state = BgpState(vcpe)
    try:
        summary = vtysh_json(vty, "show bgp summary json")
        table = vtysh_json(vty, "show ip bgp json")
    except (shell.CommandError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        state.error = str(exc)
        return state
    peers = summary.get("ipv4Unicast", {})
    if isinstance(peers, dict):
        for peer, info in (peers.get("peers") or {}).items():
            state.sessions[peer] = str(info.get("state", "?"))
    routes = table.get("routes", {})
    if isinstance(routes, dict):
        for prefix, paths in routes.items():
            for path in paths if isinstance(paths, list) else []:
                peer = str(path.get("peerId", ""))
                if path.get("valid") and peer and peer != "(unspec)":
                    state.learned.setdefault(peer, set()).add(prefix)
    return state


def wait_for_bgp(vtys: Mapping[str, Path], expected: Mapping[str, Mapping[str, set[str]]],
                 timeout: float, tick: Callable[[int, int], None] | None = None) -> list[str]:
    """Bounded wait until every vCPE has its sessions Established and its prefixes; the
    problems still open at the deadline are returned (empty = converged)."""
    started = time.monotonic()
    deadline = started + timeout
    pending = {v for v in expected if v in vtys}
    problems: list[str] = []
    kicked: dict[str, float] = {}
    while True:
        problems = []
        for vcpe in sorted(pending):
            state = bgp_state(vcpe, vtys[vcpe])
            found = state.missing(expected[vcpe])
            if found:
                problems += found
            else:
                pending.discard(vcpe)
            # bgpd backs a session off for 1, 2, 4, 8... s when it started before zebra
            # was ready (a loaded machine); a clear restarts it with the 1 s start timer.
            idle = [p for p in expected[vcpe] if state.sessions.get(p) == "Idle"]
            now = time.monotonic()
            if idle and now - started > KICK_AFTER and now - kicked.get(vcpe, 0.0) > KICK_AFTER:
                kicked[vcpe] = now
                for peer in idle:
                    shell.run(["vtysh", "--vty_socket", str(vtys[vcpe]), "-c", f"clear bgp {peer}"],
                              check=False, timeout=15)
        if tick:
            tick(len(expected) - len(pending), len(expected))
        if not pending or time.monotonic() > deadline:
            return problems
        # each poll costs two vtysh runs per vCPE: on a big lab, polling itself would
        # take the CPU the daemons need to converge
        time.sleep(0.1 + 0.02 * len(pending))


# --- the matrix -------------------------------------------------------------------------

Pair = tuple[str, str]


# One process per source namespace runs all its probes at once and prints
# "<index> <exit code>" per destination: 2450 pairs cost 50 namespace entries, not 2450.
PING_ALL = ('i=0; for d in "$@"; do (ping -n -q -c 2 -W 1 -i 0.2 "$d" >/dev/null 2>&1; '
            'echo "$i $?") & i=$((i+1)); done; wait')
TCP_ALL = ('i=0; for d in "$@"; do (timeout 2 bash -c "exec 3<>/dev/tcp/$d/' + str(TCP_PORT) + '" '
           '2>/dev/null; echo "$i $?") & i=$((i+1)); done; wait')
SOURCES_AT_ONCE = 6


def _probe_all(hosts: Mapping[str, HostLayout], script: str, shell_name: str, timeout: float,
               tick: Callable[[int, int], None] | None = None) -> dict[Pair, bool]:
    names = list(hosts)
    results: dict[Pair, bool] = {}
    queue = list(names)
    running: list[tuple[str, list[str], subprocess.Popen[str], float]] = []
    total = len(names) * (len(names) - 1)
    while queue or running:
        while queue and len(running) < SOURCES_AT_ONCE:
            src = queue.pop(0)
            dsts = [d for d in names if d != src]
            argv = shell.in_ns(hosts[src].ns, [shell_name, "-c", script, shell_name,
                                               *(str(hosts[d].address.ip) for d in dsts)])
            running.append((src, dsts, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                                        stderr=subprocess.DEVNULL, text=True),
                            time.monotonic()))
        still = []
        for src, dsts, popen, started in running:
            if popen.poll() is None and time.monotonic() - started <= timeout:
                still.append((src, dsts, popen, started))
                continue
            if popen.poll() is None:  # bounded: whatever has not answered counts as lost
                popen.kill()
            out, _ = popen.communicate()
            codes = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
            for i, dst in enumerate(dsts):
                results[(src, dst)] = codes.get(str(i)) == "0"
        running = still
        if tick:
            tick(len(results), total)
        if running:
            time.sleep(0.01)
    return results


def ping_matrix(hosts: Mapping[str, HostLayout], tick: Callable[[int, int], None] | None = None
                ) -> dict[Pair, bool]:
    """``ping -c 2 -W 1`` from every host to every other host (bounded: 10 s per source)."""
    return _probe_all(hosts, PING_ALL, "sh", 10.0, tick)


def tcp_matrix(hosts: Mapping[str, HostLayout], tick: Callable[[int, int], None] | None = None
               ) -> dict[Pair, bool]:
    """A TCP connect (2 s timeout) from every host to every other host's listener."""
    return _probe_all(hosts, TCP_ALL, "bash", 10.0, tick)


TCP_LISTENER = ("import socket\n"
                "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(('0.0.0.0', {TCP_PORT})); s.listen(64)\n"
                "while True:\n    c, _ = s.accept(); c.close()\n")


def wait_listening(hosts: Mapping[str, HostLayout], timeout: float) -> list[str]:
    pending = dict(hosts)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, host in list(pending.items()):
            out = shell.run(shell.in_ns(host.ns, ["ss", "-Hltn", f"sport = :{TCP_PORT}"]),
                            check=False).stdout
            if out.strip():
                del pending[name]
        if pending:
            time.sleep(0.02)
    return sorted(pending)


def request_arrives(src: HostLayout, dst: HostLayout) -> bool:
    return request_arrives_at(src.ns, str(src.address.ip), dst.ns, str(dst.address.ip))


def request_arrives_at(src_ns: str, src_ip: str, dst_ns: str, dst_ip: str) -> bool:
    """Which direction is broken? During one bounded ping, count the echo replies the
    destination sends back to the source (a rule without target in its OUTPUT chain: it
    counts and changes nothing). A reply is only sent for a request that was delivered
    — routed there and accepted by the destination's security groups."""
    rule = ["OUTPUT", "-p", "icmp", "--icmp-type", "echo-reply", "-d", src_ip,
            "-m", "comment", "--comment", "netweave-probe"]
    shell.run(shell.in_ns(dst_ns, ["iptables", "-I", *rule]))
    try:
        shell.run(shell.in_ns(src_ns, ["ping", "-n", "-q", "-c", "1", "-W", "1", dst_ip]),
                  check=False, timeout=5)
        listing = shell.run(shell.in_ns(dst_ns, ["iptables", "-L", "OUTPUT", "1", "-v", "-x", "-n"]))
        return int(listing.stdout.split()[0]) > 0
    finally:
        shell.run(shell.in_ns(dst_ns, ["iptables", "-D", *rule]), check=False)


def traceroute(host: HostLayout, address: str) -> str:
    proc = shell.run(shell.in_ns(host.ns, ["traceroute", "-n", "-w", "1", "-q", "1", "-m", "8",
                                           address]), check=False, timeout=15)
    return (proc.stdout or proc.stderr).strip()


# --- verdict ----------------------------------------------------------------------------

@dataclass
class Verdict:
    observed: dict[Pair, bool]
    predicted: dict[Pair, bool]
    intent_problems: list[str]
    request_arrived: dict[Pair, bool] = field(default_factory=dict)  # probed unreachable pairs

    @property
    def differences(self) -> list[Pair]:
        return sorted(p for p in self.observed if self.predicted.get(p) != self.observed[p])

    @property
    def ok(self) -> bool:
        return not self.differences and not self.intent_problems


def intent_problems(topology: Topology, index: Index, observed: Mapping[Pair, bool]) -> list[str]:
    problems: list[str] = []
    intent = topology.intent
    if intent is None:
        return problems
    for pair in intent.must_reach:
        for a in index.hosts_in(pair.from_):
            for b in index.hosts_in(pair.to):
                if a == b:
                    continue
                for x, y in ((a, b), (b, a)):
                    if not observed.get((x, y), False):
                        problems.append(f"must_reach {pair.from_} <-> {pair.to}: {x} cannot ping {y}")
    for pair in intent.must_not_reach:
        for a in index.hosts_in(pair.from_):
            for b in index.hosts_in(pair.to):
                for x, y in ((a, b), (b, a)):
                    if x != y and observed.get((x, y), False):
                        problems.append(f"must_not_reach {pair.from_} <-> {pair.to}: {x} pings {y}")
    return problems


def format_matrix(hosts: Sequence[str], verdict: Verdict) -> str:
    """Observed beside predicted: ``ok``/``--`` when they agree, ``OK!``/``X!`` when the
    packets did (not) get through although reach predicted otherwise."""
    width = max([len(h) for h in hosts] + [4]) + 1
    lines = ["observed (rows: from, columns: to; ok = reachable, -- = not, ! = differs from reach)",
             " " * width + "".join(h.rjust(width) for h in hosts)]
    for a in hosts:
        cells = []
        for b in hosts:
            if a == b:
                cells.append(".".rjust(width))
                continue
            seen, want = verdict.observed.get((a, b)), verdict.predicted.get((a, b))
            cell = ("ok" if seen else "--") if seen == want else ("OK!" if seen else "X!")
            cells.append(cell.rjust(width))
        lines.append(a.ljust(width) + "".join(cells))
    return "\n".join(lines)


def wait_sessions_down(vtys: Mapping[str, Path], peers: Mapping[str, Iterable[str]],
                       timeout: float) -> list[str]:
    """After a link fault: bounded wait until BGP noticed (hold timer) the lost sessions."""
    deadline = time.monotonic() + timeout
    while True:
        up = [f"{vcpe}: session to {peer} still Established"
              for vcpe, wanted in peers.items() if vcpe in vtys
              for peer in wanted
              if bgp_state(vcpe, vtys[vcpe]).sessions.get(peer) == "Established"]
        if not up or time.monotonic() > deadline:
            return up
        time.sleep(0.1)
