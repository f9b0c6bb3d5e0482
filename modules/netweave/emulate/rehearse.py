"""``netweave emulate BASE --change HEAD``: boot BASE, probe, apply HEAD in place, judge.

See ``netweave.emulate.change`` for what each step stands for on the real clouds.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from netweave.emulate import change as ch
from netweave.emulate import cloud_firewall, dhcp, sshd, vcpe
from netweave.emulate.checks import Pair, Verdict
from netweave.emulate.lab import Lab
from netweave.emulate.progress import Progress
from netweave.model.index import Index
from netweave.model.topology import Topology

BASELINE = 1.0   # seconds of probes before the change
AFTER = 1.0      # ... and after HEAD's matrix
SETTLE = 10.0    # at most this long for HEAD's reachable pairs to answer before its matrix


@dataclass
class PairResult:
    src: str
    dst: str
    expectation: ch.Expectation
    sent: int
    lost: int
    longest_gap_ms: int
    ok: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "kind": self.expectation.kind,
                "expectation": self.expectation.text(), "bound_ms": self.expectation.bound_ms,
                "sent": self.sent, "lost": self.lost, "longest_gap_ms": self.longest_gap_ms,
                "ok": self.ok, "note": self.note}


@dataclass
class ChangeResult:
    base: str
    head: str
    ok: bool = False
    apply_seconds: float = 0.0
    hosts: dict[str, list[str]] = field(default_factory=dict)     # host -> what its apply said
    cloud: list[str] = field(default_factory=list)                # the cloud's side, in words
    pairs: list[PairResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    verdict: Verdict | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "ok": self.ok,
                "apply_seconds": round(self.apply_seconds, 2), "hosts": self.hosts,
                "cloud": self.cloud, "pairs": [p.as_dict() for p in self.pairs],
                "problems": self.problems}


def _probe_pairs(expect: dict[Pair, ch.Expectation], lab: Lab) -> list[Pair]:
    pairs = [p for p, e in expect.items() if e.kind in ("kept", "lost")
             and p[0] in lab.layout.hosts and p[1] in lab.layout.hosts]
    return pairs[:ch.MAX_PROBED]


def _cloud_side(lab: Lab, merged: ch.PlanChange, result: ChangeResult) -> None:
    """What the Pulumi QingCloud resources do to the running network (see ``change``)."""
    old_plan = lab.layout
    lab.state.namespaces += merged.new_namespaces
    lab._save()
    ch.build_additions(old_plan, merged)
    result.cloud += [f"vxnet bridge {b} in {ns}" for ns, b, _ in merged.new_bridges]
    result.cloud += [f"NIC {i} hot-attached to running {v} (AttachNics; no reboot)"
                     for v, i in merged.new_nics]
    result.cloud += [f"NIC {i} detached from {v}" for v, i in merged.removed_nics]
    result.cloud += [f"VM {h} started" for h in merged.new_hosts]
    lab.layout = merged.plan
    lab.state.nodes = lab.names.mapping()
    lab._save()
    # route-table pushes: the VPC router's own routes (RouteTableRoutes + UpdateRouteTable)
    from netweave.emulate import shell
    for vpc, router in lab.layout.routers.items():
        old = set(old_plan.router_routes.get(vpc, ()))
        new = set(lab.layout.router_routes.get(vpc, ()))
        cmds = [f"route del {d} via {h}" for d, h in sorted(old - new)]
        cmds += [f"route replace {d} via {h}" for d, h in sorted(new - old)]
        if cmds:
            shell.ip_batch(cmds, router.ns)
            result.cloud.append(f"{vpc}: VPC router routes changed ({len(cmds)})")
            # the router's ICMP redirects are cached in its VMs (next-hop exceptions): a
            # withdrawn route must not live on there
            for host in lab.layout.hosts.values():
                if host.vpc == vpc:
                    shell.run(["ip", "-n", host.ns, "route", "flush", "cache"], check=False)
    # route pushes: the VPC router's DHCP server gets the new option 121 (UpdateRouters)
    renew: list[str] = []
    for vpc, router in lab.layout.routers.items():
        if router.cloud != "qingcloud":
            continue
        old_argv = dhcp.dnsmasq_argv(old_plan, old_plan.routers[vpc], lab.dir)
        new_argv = dhcp.dnsmasq_argv(lab.layout, router, lab.dir)
        if old_argv == new_argv:
            continue
        lab.procs.stop_role(f"dnsmasq@{vpc}")
        lab.procs.start(router.ns, new_argv, f"dnsmasq@{vpc}", lab.dir / f"dnsmasq-{vpc}.log")
        result.cloud.append(f"{vpc}: route pushes re-delivered (DHCP option 121 of the VPC router)")
        for name, host in lab.layout.hosts.items():
            if (host.vpc == vpc and host.dhcp and name not in merged.new_hosts
                    and old_plan.pushes.get(host.vxnet) != lab.layout.pushes.get(host.vxnet)):
                renew.append(name)
    for name in renew:
        host = lab.layout.hosts[name]
        gone = set(old_plan.pushes.get(host.vxnet, ())) - set(lab.layout.pushes.get(host.vxnet, ()))
        ch.withdraw_routes(host.ns, gone)
        lab.procs.stop_role(f"dhclient@{name}", hard=True)
    started = dhcp.start_dhclients(
        dataclasses.replace(lab.layout, hosts={n: lab.layout.hosts[n] for n in [*renew, *merged.new_hosts]
                                             if lab.layout.hosts[n].dhcp}),
        lab.procs, lab.dir, lab.state, lab._save)
    if renew:
        result.cloud.append(f"leases renewed: {', '.join(renew)} (their vxnet's pushes changed)")
    late = dhcp.wait_for_leases(started, 10.0)
    late += _wait_routes(lab, renew)
    if late:
        result.problems.append(f"no DHCP lease with the new pushes within 10 s: {', '.join(late)}")
    for name in merged.new_hosts:
        from netweave.emulate import firewall, workloads
        host = lab.layout.hosts[name]
        if not host.dhcp and lab.rendered is not None:
            routes, _ = workloads.workload_routes(lab.rendered, host.vpc)
            workloads.apply_routes(host, routes)
        firewall.apply(host.ns, lab.design, host.security_groups)
    # security groups (the new NICs are behind the group too)
    for name, plan in lab.layout.vcpes.items():
        new_ifaces = [n.ifname for n in plan.nics if (name, n.index) in merged.new_nics]
        fw = cloud_firewall.cloud_firewall(
            lab.design, name, [n.ifname for n in plan.nics],
            "inet0" if plan.public is not None else None, lab.layout.public_addresses(),
            manage_from=lab.manage_from)
        cloud_firewall.reapply(plan.ns, fw, new_ifaces)


def _wait_routes(lab: Lab, names: list[str]) -> list[str]:
    deadline = time.monotonic() + 10.0
    pending = set(names)
    from netweave.emulate import shell
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            host = lab.layout.hosts[name]
            table = shell.run(["ip", "-n", host.ns, "-4", "route"], check=False).stdout
            wanted = lab.layout.pushes.get(host.vxnet, ())
            if all(f"{d} via {h}" in table for d, h in wanted):
                pending.discard(name)
        if pending:
            time.sleep(0.05)
    return sorted(pending)


def _wait_answering(lab: Lab, pairs: list[Pair], timeout: float) -> list[Pair]:
    """Bounded: until one ping of each pair is answered again (a session the change
    restarted is back), or ``timeout``; the pairs still silent."""
    from netweave.emulate import shell
    pending = list(pairs)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pair in list(pending):
            src, dst = lab.layout.hosts[pair[0]], lab.layout.hosts[pair[1]]
            if shell.run(shell.in_ns(src.ns, ["ping", "-c", "1", "-W", "1", str(dst.address.ip)]),
                         check=False).returncode == 0:
                pending.remove(pair)
    return pending


def _host_side(lab: Lab, head: Topology, head_rendered: Any, base_files: dict[str, Any],
               key: str, result: ChangeResult) -> None:
    """Each vCPE through the HostConfig provider (diff, then update = the apply over SSH)."""
    # The HostConfig provider's update is ssh.apply with these inputs; its diff is
    # ssh.changed_files against the state a first boot leaves (the provider module itself
    # is Pulumi code, which the emulator does not import).
    from netweave.providers import ssh
    ssh.configure({"netweave:sshPrivateKey": key, "netweave:sshAttempts": "5",
                   "netweave:sshConnectTimeout": "5"})
    assert lab.rendered is not None
    for name, booted in lab.booted.items():
        if name not in lab.layout.vcpes:
            continue
        host = lab.rendered.host(name)
        wg_names = {i: s for i, s in booted.wg_sockets.items()}
        for t in head_rendered.hosts[name].manifest.get("tunnels", []):
            if t["type"] == "wireguard" and t["interface"] not in wg_names:
                wg_names[t["interface"]] = lab.names.tunnel_socket_name(lab.next_socket)
                lab.next_socket += 1
        ovpn = {p.role.split("/", 1)[1]: p.pid for p in lab.procs.tracked
                if p.role.startswith(f"openvpn@{name}/")}
        head_host = head_rendered.hosts[name]
        hook_host = dataclasses.replace(host, entry=head_host.manifest)
        overrides = hook_host.frr_lab_overrides() or vcpe.lab_timers(
            next((f.content for f in head_host.files if f.path == "/etc/frr/frr.conf"), ""))
        sshd.write_hooks(booted, lab.dir, wg_names, ovpn, overrides)
    jobs: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for name in lab.layout.vcpes:
        layout = lab.layout.vcpes[name]
        assert layout.public is not None
        files = {f.path: {"content": f.content, "mode": f.mode} for f in head_rendered.hosts[name].files}
        olds = {"file_digests": ssh.file_digests(base_files[name])}
        if not ssh.changed_files(olds, {"files": files}):
            result.hosts[name] = ["no change: nothing sent"]
            continue
        jobs[name] = (str(layout.public.ip),
                      head_rendered.hosts[name].manifest["in_place"]["host_public_key"], files)

    def apply(name: str) -> None:
        address, host_key, files = jobs[name]
        try:
            done = ch.from_deployer(lab.layout.deployer_ns, lambda: ssh.apply(
                ssh.settings(), name, address, host_key, files))
            result.hosts[name] = list(done.lines)
        except Exception as exc:  # reported per host, the others go on
            result.hosts[name] = [f"FAILED: {exc}"]
            result.problems.append(f"{name}: in-place apply failed: {exc}")

    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        list(pool.map(apply, sorted(jobs)))
    known: set[Any] = set()
    for booted in lab.booted.values():
        sshd.adopt_hook_processes(booted, lab.dir, lab.procs, known)


def rehearse(lab: Lab, base: Topology, base_index: Index, head: Topology, head_index: Index,
             base_name: str, head_name: str) -> tuple[ChangeResult, list[str]]:
    """On a built, converged lab of BASE: probe, apply HEAD in place, check, judge."""
    from netweave.emulate import _verdict, predicted_matrix
    from netweave.render import render_topology, write_rendered
    from netweave.render.material import carried_over
    result = ChangeResult(base_name, head_name)
    p: Progress = lab.progress
    base_pred, head_pred = predicted_matrix(base, base_index), predicted_matrix(head, head_index)
    nodes = {k: base_pred.nodes.get(k, set()) | head_pred.nodes.get(k, set())
             for k in set(base_pred.nodes) | set(head_pred.nodes)}

    from netweave.design import Design
    head_design = Design.build(head, head_index)
    merged = ch.merge_plan(lab.layout, head, head_index, head_design)
    assert lab.keys is not None and lab.rendered is not None and lab.base_rendered is not None
    head_rendered = render_topology(head, head_index, design=head_design,
                                    public_addresses=lab.layout.public_addresses(),
                                    keys=carried_over(lab.keys, head))
    write_rendered(head_rendered, lab.dir / "rendered-head")
    for name, v in list(merged.plan.vcpes.items()):  # NIC names as HEAD's hosts see them
        by_nic = {int(i.get("nic", n)): str(i["name"])
                  for n, i in enumerate(head_rendered.hosts[name].manifest["interfaces"])}
        merged.plan.vcpes[name] = dataclasses.replace(v, nics=tuple(
            dataclasses.replace(nic, ifname=by_nic.get(nic.index, nic.ifname)) for nic in v.nics))
    base_rendered = lab.base_rendered
    resets = {**ch.renamed_tunnels(base_rendered, head_rendered), **ch.session_resets(base, head)}
    expect = ch.expectations(base_pred.reachable, head_pred.reachable, nodes, resets)
    base_files = {name: {f.path: {"content": f.content, "mode": f.mode}
                         for f in base_rendered.hosts[name].files} for name in lab.layout.vcpes}
    probes: dict[Pair, ch.Probe] = {}
    with p.phase(f"probes: {len(_probe_pairs(expect, lab))} pairs every {ch.PROBE_INTERVAL * 1000:.0f} ms"):
        for a, b in _probe_pairs(expect, lab):
            probes[(a, b)] = ch.start_probe(lab, a, b)
        time.sleep(BASELINE)
    started = time.monotonic()
    lab.design = head_design
    with p.phase("change: the cloud's side (NICs, vxnets, route pushes, security groups)"):
        _cloud_side(lab, merged, result)
    lab.topology, lab.index = head, head_index
    with p.phase(f"change: in place over SSH ({len(lab.layout.vcpes)} vCPEs, HostConfig update)"):
        _host_side(lab, head, head_rendered, base_files, lab.deployer_key or "", result)
    result.apply_seconds = time.monotonic() - started
    if resets:  # a restarted session still looks Established until its hold time runs out
        time.sleep(ch.LAB_HOLD_TIME + 0.5)
        kept = [p for p, e in expect.items() if e.kind == "kept"]
        late = _wait_answering(lab, kept, ch.RESET_GAP_MS / 1000)
        result.problems += [f"{a} -> {b}: not answering {ch.RESET_GAP_MS / 1000:.0f} s after the change"
                            for a, b in late]
    bgp = lab.converge()
    result.problems += [f"BGP after the change: {x}" for x in bgp]
    # BGP tables converge before every route is in the kernel: give each pair HEAD
    # predicts reachable a bounded moment to answer before the matrix is taken
    _wait_answering(lab, [p for p, ok in head_pred.reachable.items() if ok], SETTLE)
    verdict, report = _verdict(lab, head, head_index, lab.matrix(), head_pred,
                               f"== matrix of {head.name or head_name} after the change (ping -c 2 -W 1)")
    result.verdict = verdict
    time.sleep(AFTER)
    for probe in probes.values():
        ch.stop_probe(lab, probe)
    for pair, e in expect.items():
        found = probes.get(pair)
        if found is None:
            if e.kind == "kept":
                result.pairs.append(PairResult(*pair, e, 0, 0, 0, True, "not probed (MAX_PROBED)"))
            continue
        probe = found
        ok = e.kind != "kept" or (probe.received > 0 and probe.longest_gap_ms <= (e.bound_ms or 0))
        note = "" if probe.received or e.kind != "kept" else "never answered"
        result.pairs.append(PairResult(*pair, e, probe.sent, probe.lost, probe.longest_gap_ms, ok, note))
    result.ok = verdict.ok and not result.problems and all(x.ok for x in result.pairs)
    lines = [f"== change {base_name} -> {head_name}: applied in place in {result.apply_seconds:.1f} s"]
    lines += [f"cloud: {c}" for c in result.cloud]
    for host, said in sorted(result.hosts.items()):
        lines += [f"{host}: {s}" for s in said]
    lines.append(f"== probes (every {ch.PROBE_INTERVAL * 1000:.0f} ms, from {BASELINE:.0f} s before the "
                 f"change to {AFTER:.0f} s after HEAD's matrix)")
    for x in result.pairs:
        verdict_word = "ok  " if x.ok else "FAIL"
        lines.append(f"{verdict_word} {x.src} -> {x.dst}: lost {x.lost} of {x.sent}, longest gap "
                     f"{x.longest_gap_ms} ms; predicted: {x.expectation.text()}"
                     + (f" ({x.note})" if x.note else ""))
    lines += [f"PROBLEM {x}" for x in result.problems]
    bad = [f"{x.src} -> {x.dst}" for x in result.pairs if not x.ok]
    agrees = not verdict.differences
    lost = sorted({f"{a} -> {b}" for (a, b), ok in verdict.observed.items()
                   if not ok and (base_pred.reachable.get((a, b)) or head_pred.reachable.get((a, b))
                                  or any(f"{a} " in p and f" {b}" in p for p in verdict.intent_problems))})
    lines.append(f"change {'OK' if result.ok else 'FAILED'}: HEAD {'agrees' if agrees else 'DISAGREES'} "
                 f"with reach; intent {'holds' if not verdict.intent_problems else 'VIOLATED'}; "
                 + (f"pairs that lost more than predicted: {', '.join(bad)}" if bad
                    else "no pair lost more than predicted")
                 + (f"; unreachable after the change: {', '.join(lost)}" if lost else ""))
    return result, [*lines, *report]


