"""Rehearsing a change: ``netweave emulate BASE --change HEAD``.

BASE is booted as usual; every host pair reach finds reachable in BASE and/or HEAD is
probed continuously (one ``ping -i 0.1`` per ordered pair, bounded by a deadline); then the
change is applied to the running lab the way ``pulumi up`` applies it:

- the cloud's part, as the Pulumi resources do it: a new vxnet's bridge (Vxnet), a new VM
  (workloads are not netweave's, but they exist in HEAD), a NIC hot-attached to a running
  vCPE (Nic: ``AttachNics`` on a running instance), the route pushes re-delivered
  (RoutePush + ``UpdateRouters``: the VPC router's DHCP server restarted with the new
  option 121, each VM of a changed vxnet renewing its lease), the security group's rules;
- the host's part through the **same in-place path a deploy uses**: the ``HostConfig``
  provider's ``diff`` and ``update``, i.e. OpenSSH from a deploying machine on the
  internet (a namespace on the underlay) to a real sshd in each vCPE namespace, the host
  key pinned, the rendered file set uploaded and the rendered ``apply.sh`` run against
  the real daemons (frr-reload.py, wg syncconf, ip, iptables-restore).

Then HEAD's full matrix is checked against reach, the probes are stopped and each pair's
losses are compared with the prediction: a pair reachable in both BASE and HEAD must not
lose more than ``KEPT_GAP_MS`` in a row (or ``RESET_GAP_MS`` when the change resets a BGP
session on its path, e.g. an ASN change: that outage is in the prediction).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netweave.design import Design
from netweave.emulate import shell
from netweave.emulate.checks import Pair
from netweave.emulate.layout import LabLayout, build_layout
from netweave.model.index import Index
from netweave.model.topology import Topology

PROBE_INTERVAL = 0.1           # seconds between probes of one pair
PROBE_DEADLINE = 300           # a probe ends by itself after this many seconds (by count)
LAB_HOLD_TIME = 3.0            # the lab's BGP hold time (lab timers): a reset session is noticed
TAIL = 3                       # the last probes may still be in flight when stopped: not judged
KEPT_GAP_MS = 300              # a pair kept by the change: at most 3 probes in a row lost
RESET_GAP_MS = 15_000          # ... when the change resets a BGP session on its path
MAX_PROBED = 64                # ordered pairs probed continuously (the rest: HEAD's matrix only)
DEPLOYER_ADDRESS = "198.19.255.250"
CLONE_NEWNET = 0x40000000


class NotRehearsable(Exception):
    """A change the lab cannot apply in place (it would be a create or a replacement)."""


# --- what the change is ------------------------------------------------------------------

@dataclass
class Expectation:
    kind: str                  # "kept" | "gained" | "lost"
    bound_ms: int | None       # the longest gap allowed (kept pairs)
    why: str

    def text(self) -> str:
        if self.kind == "kept":
            return f"reachable before and after: at most {self.bound_ms} ms lost in a row ({self.why})"
        if self.kind == "gained":
            return "reachable after the change only"
        return "reachable before the change only"


def session_resets(base: Topology, head: Topology) -> dict[str, str]:
    """vCPE -> why the change resets its BGP sessions (its ASN or router-id, or a peer's ASN)."""
    out: dict[str, str] = {}
    for name, v in head.vcpes.items():
        old = base.vcpes.get(name)
        if old is None or old.bgp is None or v.bgp is None:
            continue
        if old.bgp.asn != v.bgp.asn:
            out[name] = f"{name} AS {old.bgp.asn} -> {v.bgp.asn}: its BGP sessions restart"
        elif old.bgp.router_id != v.bgp.router_id:
            out[name] = f"{name} router-id changed: its BGP sessions restart"
    for t in head.tunnels:
        ends = [e.vcpe for e in t.ends]
        for a, b in (ends, ends[::-1]):
            # a site end has no vCPE: its gateway is the user's, not rehearsed here
            if a is not None and b is not None and b in out and a not in out:
                out[a] = f"peer {out[b]}"
    return out


def renamed_tunnels(base: Any, head: Any) -> dict[str, str]:
    """vCPE -> why: a tunnel that keeps its name but gets another interface (a second tunnel
    to the same peer renames the first) is taken down and brought up again."""
    out: dict[str, str] = {}
    for name, host in head.hosts.items():
        old = base.hosts.get(name)
        if old is None:
            continue
        before = {t["name"]: t["interface"] for t in old.manifest.get("tunnels", [])}
        for t in host.manifest.get("tunnels", []):
            if t["name"] in before and before[t["name"]] != t["interface"]:
                out[name] = (f"tunnel {t['name']} renamed {before[t['name']]} -> {t['interface']} "
                             "on " + name + ": down and up again, its BGP session restarts")
                out.setdefault(str(t["peer"]), out[name])
    return out


def expectations(base_pred: dict[Pair, bool], head_pred: dict[Pair, bool],
                 nodes: dict[Pair, set[str]], resets: dict[str, str]) -> dict[Pair, Expectation]:
    out: dict[Pair, Expectation] = {}
    for pair in sorted(set(base_pred) | set(head_pred)):
        before, after = base_pred.get(pair, False), head_pred.get(pair, False)
        if before and after:
            on_path = sorted(v for v in nodes.get(pair, set()) if v in resets)
            if on_path:
                out[pair] = Expectation("kept", RESET_GAP_MS, "; ".join(resets[v] for v in on_path))
            else:
                out[pair] = Expectation("kept", KEPT_GAP_MS, "no BGP session on its path restarts")
        elif after:
            out[pair] = Expectation("gained", None, "")
        elif before:
            out[pair] = Expectation("lost", None, "")
    return out


# --- probes ------------------------------------------------------------------------------

@dataclass
class Probe:
    pair: Pair
    pid: int
    log: Path
    sent: int = 0
    received: int = 0
    lost: int = 0
    longest_gap_ms: int = 0


def start_probe(lab: Any, src: str, dst: str) -> Probe:
    """One bounded ``ping -i 0.1`` from ``src`` to ``dst``, tracked by the lab (by PID)."""
    host, target = lab.layout.hosts[src], lab.layout.hosts[dst]
    log = lab.dir / f"probe-{src}-{dst}.log"
    # bounded by count, not by -w: with a deadline ping ends at the first ICMP error
    # (a "net unreachable" mid-change), which is exactly what a probe must sit through
    argv = ["ping", "-n", "-i", f"{PROBE_INTERVAL:g}", "-W", "1",
            "-c", str(int(PROBE_DEADLINE / PROBE_INTERVAL)), str(target.address.ip)]
    tracked = lab.procs.start(host.ns, argv, f"probe@{src}->{dst}", log)
    return Probe((src, dst), tracked.pid, log)


_SEQ = re.compile(r"icmp_seq=(\d+)")
_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")


def judge(probe: Probe, text: str) -> None:
    """Losses and the longest run of lost probes, from ping's output."""
    replies = {int(m.group(1)) for line in text.splitlines() if "bytes from" in line
               for m in [_SEQ.search(line)] if m}
    summary = _SUMMARY.search(text)
    transmitted = int(summary.group(1)) if summary else max(replies, default=0)
    judged = max(transmitted - TAIL, 0)
    missing = [s for s in range(1, judged + 1) if s not in replies]
    probe.sent, probe.received, probe.lost = judged, judged - len(missing), len(missing)
    run = longest = 0
    previous: int | None = None
    for seq in missing:
        run = run + 1 if previous is not None and seq == previous + 1 else 1
        longest = max(longest, run)
        previous = seq
    probe.longest_gap_ms = int(longest * PROBE_INTERVAL * 1000)


def stop_probe(lab: Any, probe: Probe) -> None:
    """SIGINT (ping prints its summary), bounded wait, then judge what it saw."""
    lab.procs.interrupt(probe.pid, timeout=3.0)
    judge(probe, probe.log.read_text(errors="replace"))


# --- the deploying machine ----------------------------------------------------------------

@contextlib.contextmanager
def in_namespace(ns: str) -> Iterator[None]:
    """Run the calling thread in network namespace ``ns`` (setns(2) is per thread; a
    process it starts, such as ssh, is born there). Only for a thread of its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {ns} failed")
        try:
            yield
        finally:
            libc.setns(home, CLONE_NEWNET)
    finally:
        os.close(fd)
        os.close(home)


def from_deployer(ns: str, job: Callable[[], Any]) -> Any:
    """``job()`` in a fresh thread that lives in the deploying machine's namespace."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            with in_namespace(ns):
                result["value"] = job()
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=run, name=f"deployer@{ns}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


# --- merging HEAD's plan into the running lab ------------------------------------------------

@dataclass
class PlanChange:
    plan: LabLayout
    new_namespaces: list[str] = field(default_factory=list)
    new_bridges: list[tuple[str, str, str]] = field(default_factory=list)   # router ns, bridge, gw
    new_hosts: list[str] = field(default_factory=list)
    new_nics: list[tuple[str, int]] = field(default_factory=list)           # vcpe, nic index
    removed_nics: list[tuple[str, int]] = field(default_factory=list)


def merge_plan(base: LabLayout, head: Topology, index: Index, design: Design | None = None) -> PlanChange:
    """HEAD's plan with BASE's names for everything that exists in both; refuses what
    would not be an in-place change of a running vCPE."""
    plan = build_layout(head, index, base.names, design)
    plan.underlay_ns = base.underlay_ns
    plan.deployer_ns = base.deployer_ns
    change = PlanChange(plan)
    for name in set(base.vcpes) ^ set(plan.vcpes):
        raise NotRehearsable(f"vCPE {name} is {'added' if name in plan.vcpes else 'removed'}: "
                             "a new or deleted instance, not an in-place change")
    for name in set(base.vpn_servers) ^ set(plan.vpn_servers):
        raise NotRehearsable(f"VPN server {name} is added or removed: not an in-place change")
    for vpc in plan.routers:
        if vpc not in base.routers:
            raise NotRehearsable(f"VPC {vpc} is new: the rehearsal changes the VPCs BASE has")
    for vpc, router in plan.routers.items():
        old = base.routers[vpc]
        for vx, bridge in router.bridges.items():
            if vx not in old.bridges:
                if bridge.name in {b.name for b in old.bridges.values()}:
                    raise NotRehearsable(f"vxnet {vx}: the lab's bridge names shift (vxnets reordered)")
                change.new_bridges.append((router.ns, bridge.name, str(bridge.gateway)))
            elif old.bridges[vx] != bridge:
                raise NotRehearsable(f"vxnet {vx} changes its network: its VMs would be renumbered")
    for name, host in plan.hosts.items():
        old_host = base.hosts.get(name)
        if old_host is None:
            change.new_hosts.append(name)
            change.new_namespaces.append(host.ns)
        elif (old_host.vxnet, str(old_host.address)) != (host.vxnet, str(host.address)):
            raise NotRehearsable(f"host {name} moves (vxnet or address): not an in-place change")
        else:
            plan.hosts[name] = dataclasses.replace(host, port=old_host.port, mac=old_host.mac)
    for name, v in plan.vcpes.items():
        old_v = base.vcpes[name]
        # str(): netaddr compares IPNetworks by their network, 172.17.0.2/24 == 172.17.0.4/24
        if (str(v.nics[0].address), v.nics[0].vxnet) != (str(old_v.nics[0].address), old_v.nics[0].vxnet):
            raise NotRehearsable(f"vCPE {name}: its primary address changes: that replaces the instance")
        old_nics = {n.index: n for n in old_v.nics}
        for nic in v.nics:
            if nic.index not in old_nics:
                change.new_nics.append((name, nic.index))
            elif ((old_nics[nic.index].vxnet, str(old_nics[nic.index].address))
                  != (nic.vxnet, str(nic.address))):
                raise NotRehearsable(f"vCPE {name} NIC {nic.index} moves to another vxnet or address")
        change.removed_nics += [(name, i) for i in old_nics if i not in {n.index for n in v.nics}]
        plan.vcpes[name] = dataclasses.replace(v, public=old_v.public)
    for name, s in plan.vpn_servers.items():
        plan.vpn_servers[name] = dataclasses.replace(s, public=base.vpn_servers[name].public)
    return change


def build_additions(base: LabLayout, change: PlanChange) -> None:
    """The cloud's side of the change, in the running lab: new bridges (vxnets), new VMs'
    namespaces and links, NICs hot-attached to running vCPEs (the veth appears in the
    vCPE's namespace unconfigured, as an attached NIC does), detached NICs removed."""
    plan = change.plan
    shell.ip_batch([f"netns add {ns}" for ns in change.new_namespaces])
    per_ns: dict[str, list[str]] = {}
    links: list[str] = []
    for router_ns, bridge, gateway in change.new_bridges:
        per_ns.setdefault(router_ns, []).extend(
            [f"link add {bridge} type bridge", f"link set {bridge} up", f"addr add {gateway} dev {bridge}"])
    for name in change.new_hosts:
        host = plan.hosts[name]
        router = plan.routers[host.vpc]
        links.append(f"link add {host.port} netns {router.ns} type veth peer name eth0 netns {host.ns}")
        per_ns.setdefault(f"after:{router.ns}", []).extend(
            [f"link set {host.port} master {router.bridges[host.vxnet].name}", f"link set {host.port} up"])
        per_ns.setdefault(f"after:{host.ns}", []).extend(
            ["link set lo up", f"link set eth0 address {host.mac}", "link set eth0 up"])
        if not host.dhcp:
            per_ns[f"after:{host.ns}"] += [f"addr add {host.address} dev eth0",
                                           f"route add default via {host.gateway}"]
    for vcpe_name, i in change.new_nics:
        v = plan.vcpes[vcpe_name]
        nic = next(n for n in v.nics if n.index == i)
        router = next(r for r in plan.routers.values() if r.ns == nic.router_ns)
        links.append(f"link add {nic.port} netns {router.ns} type veth peer name {nic.ifname} "
                     f"netns {v.ns}")
        per_ns.setdefault(f"after:{router.ns}", []).extend(
            [f"link set {nic.port} master {router.bridges[nic.vxnet].name}", f"link set {nic.port} up"])
    for vcpe_name, i in change.removed_nics:
        v = base.vcpes[vcpe_name]
        nic = next(n for n in v.nics if n.index == i)
        per_ns.setdefault(nic.router_ns, []).append(f"link del {nic.port}")
    for ns, cmds in per_ns.items():
        if not ns.startswith("after:"):
            shell.ip_batch(cmds, ns)
    if links:
        shell.ip_batch(links)
    for ns, cmds in per_ns.items():
        if ns.startswith("after:"):
            shell.ip_batch(cmds, ns.removeprefix("after:"))


def withdraw_routes(ns: str, routes: set[tuple[str, str]]) -> None:
    """Routes a VM's new lease no longer lists. Debian's rfc3442 hook adds routes and never
    deletes one: the lab removes them as a reboot (a fresh lease) would."""
    for destination, next_hop in sorted(routes):
        shell.run(shell.in_ns(ns, ["ip", "route", "del", destination, "via", next_hop]), check=False)
