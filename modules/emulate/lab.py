"""One emulation run: build the lab from the plan and the render output, converge,
check, and always tear down — on success, failure, exceptions and Ctrl-C."""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from modules.emulate import checks, dhcp, firewall, netns, vcpe, workloads
from modules.emulate.naming import Names, new_prefix, run_dir
from modules.emulate.plan import LabPlan, build_plan
from modules.emulate.processes import Processes
from modules.emulate.progress import Progress
from modules.emulate.rendered import Rendered
from modules.emulate.state import RunState
from modules.emulate.teardown import list_namespaces, teardown
from modules.index import Index
from modules.model import Topology

T = TypeVar("T")
BOOT_WORKERS = 6  # vCPEs booted at once (2 cores; the work is mostly waiting on tools)
LEASE_TIMEOUT = 10.0
BGP_TIMEOUT = 30.0


class InjectedFailure(RuntimeError):
    """Raised on purpose midway through a build (tests of the teardown guarantee)."""


class Lab:
    def __init__(self, topology: Topology, index: Index, *, file: str = "",
                 progress: Progress | None = None, prefix: str | None = None,
                 fail_after: str | None = None) -> None:
        self.topology = topology
        self.index = index
        self.progress = progress or Progress(quiet=True)
        self.prefix = prefix or new_prefix()
        self.names = Names(self.prefix)
        self.dir = run_dir(self.prefix)
        self.state = RunState(self.prefix, self.dir, file=file)
        self.procs = Processes(on_change=self._save)
        self.plan: LabPlan = build_plan(topology, index, self.names)
        self.rendered: Rendered | None = None
        self.booted: dict[str, vcpe.Booted] = {}
        self.notes: list[str] = []
        self.fail_after = fail_after
        self._torn_down = False
        self._owns_dir = False
        self._lock = threading.RLock()

    # --- bookkeeping ------------------------------------------------------------------

    def _save(self) -> None:
        with self._lock:
            self.state.processes = list(self.procs.tracked)
            if self.dir.is_dir():
                self.state.save()

    def _checkpoint(self, phase: str) -> None:
        if self.fail_after == phase:
            raise InjectedFailure(f"failure injected after phase '{phase}'")

    def teardown(self, keep_dir: bool = False) -> list[str]:
        if self._torn_down:
            return []
        self._torn_down = True
        self.state.processes = list(self.procs.tracked)
        if not self._owns_dir:
            return []
        problems = teardown(self.state, remove_dir=not keep_dir)
        self.procs.stop_all(grace=0.2)  # reaps our children (already ended above)
        return problems

    def keep(self) -> None:
        """Leave the lab running; ``netweave emulate --down PREFIX`` removes it later."""
        self._torn_down = True
        self.state.kept = True
        self._save()

    # --- build ------------------------------------------------------------------------

    def build(self) -> None:
        if self.dir.exists():
            raise RuntimeError(f"run {self.prefix} exists already ({self.dir}); pick another prefix")
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir.mkdir()
        self._owns_dir = True
        os.chmod(self.dir, 0o711)  # FRR (user frr) must reach its vty dir; nothing else is readable
        self.state.nodes = self.names.mapping()
        self.state.nodes["underlay"] = self.plan.underlay_ns
        self._save()
        p = self.progress
        with p.phase("render (real keys, underlay addresses)"):
            self._render()
        self._checkpoint("render")
        with p.phase(f"namespaces + links ({len(self.plan.namespaces)} namespaces)"):
            taken = set(self.plan.namespaces) & set(list_namespaces())
            if taken:  # never adopt (and later delete) namespaces someone else made
                raise RuntimeError(f"namespaces exist already: {', '.join(sorted(taken))}")
            self.state.namespaces = list(self.plan.namespaces)
            self._save()
            netns.add_namespaces(self.plan.namespaces)
            netns.build_skeleton(self.plan)
        self._checkpoint("namespaces")
        with p.phase("VPC routers: DHCP option 121 leases"):
            self._workloads()
        self._checkpoint("workloads")
        self._vcpes()
        self._checkpoint("vcpes")
        if self.topology.vpn_servers:
            self.notes.append("VPN servers (" + ", ".join(self.topology.vpn_servers) + ") are not "
                              "emulated yet: their hosts are left out of the lab")

    def _render(self) -> None:
        from modules.render import render_topology, write_rendered
        from modules.render.material import generate_keys
        keys = generate_keys(self.topology)
        out = self.dir / "rendered"
        out.mkdir(mode=0o700)
        write_rendered(render_topology(self.topology, self.index,
                                       public_addresses=self.plan.public_addresses(), keys=keys),
                       out)
        self.rendered = Rendered.load(out)
        # NIC names as the rendered host sees them (eth0 on QingCloud, enp6s0 on Vultr)
        for name, plan in list(self.plan.vcpes.items()):
            by_nic = {int(i.get("nic", n)): str(i["name"])
                      for n, i in enumerate(self.rendered.host(name).interfaces)}
            nics = tuple(dataclasses.replace(nic, ifname=by_nic.get(nic.index, nic.ifname))
                         for nic in plan.nics)
            self.plan.vcpes[name] = dataclasses.replace(plan, nics=nics)

    def _workloads(self) -> None:
        dhcp.start_dnsmasq(self.topology, self.index, self.plan, self.procs, self.dir)
        started = dhcp.start_dhclients(self.plan, self.procs, self.dir, self.state, self._save)
        late = dhcp.wait_for_leases(started, LEASE_TIMEOUT)
        if late:
            raise RuntimeError(f"no DHCP lease within {LEASE_TIMEOUT:.0f} s for: {', '.join(late)}")
        assert self.rendered is not None
        for host in self.plan.hosts.values():
            if not host.dhcp:
                routes, source = workloads.workload_routes(self.rendered, host.vpc)
                if source is None:
                    self.notes.append(f"{host.vpc}: the render output has no workload routes; "
                                      f"{host.name} got none")
                workloads.apply_routes(host, routes)
            firewall.apply(host.ns, self.topology, host.security_groups)

    def _parallel(self, items: Iterable[T], job: Callable[[T], None]) -> None:
        """Boot steps of different vCPEs are independent and wait on subprocesses: run a
        few at once. Every started job finishes before an error (or Ctrl-C) propagates,
        so teardown never races a daemon being started."""
        pool = ThreadPoolExecutor(max_workers=BOOT_WORKERS)
        try:
            for future in [pool.submit(job, item) for item in items]:
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _vcpes(self) -> None:
        rendered = self.rendered
        assert rendered is not None
        first_socket: dict[str, int] = {}
        n = 0
        for name in self.plan.vcpes:
            first_socket[name] = n
            n += sum(1 for t in rendered.host(name).tunnels if t.get("type", "wireguard") == "wireguard")
        for name, plan in self.plan.vcpes.items():
            self.booted[name] = vcpe.Booted(name, plan.ns)
        if n and not vcpe.WG_SOCKET_DIR.exists():
            self.state.created_wg_dir = True
            self._save()

        def boot(name: str) -> None:
            plan, host, booted = self.plan.vcpes[name], rendered.host(name), self.booted[name]
            vcpe.note_not_run(host, booted)
            if plan.public is not None:
                booted.notes.append(f"public address {plan.public.ip} on an extra interface "
                                    f"{netns.UNDERLAY_IF} to the underlay (no cloud EIP NAT)")
            vcpe.apply_netplan(plan, host, booted)
            vcpe.start_wireguard(plan, host, self.names, [first_socket[name]], self.procs,
                                 self.dir, booted)
            vcpe.start_openvpn(plan, host, self.procs, self.dir, booted)
            vcpe.apply_iptables(plan, host)
            vcpe.apply_sysctl(plan, host, booted)
            if plan.security_groups:
                booted.notes.append("security groups of vCPEs are not emulated (the cloud applies "
                                    "them outside the VM; the rendered iptables rules are)")

        count = len(self.plan.vcpes)
        with self.progress.phase(f"vCPEs: netplan, sysctl, iptables, tunnels ({count})"):
            self._parallel(list(self.plan.vcpes), boot)
        tunnels = sorted({t for b in self.booted.values() for t in b.wg_configs})
        with self.progress.phase(f"WireGuard peers ({len(tunnels)} tunnels)"):
            self._parallel(tunnels, lambda tunnel: vcpe.connect_wireguard(
                [(b, tunnel) for b in self.booted.values() if tunnel in b.wg_configs]))
        self._parallel(list(self.booted.values()), vcpe.wait_for_interfaces)
        with self.progress.phase(f"FRR: zebra, bgpd, staticd ({count})"):
            for stage in ("zebra", "routing"):
                self._parallel(list(self.plan.vcpes), functools.partial(self._frr, stage))
        for name, booted in self.booted.items():
            self.state.wg_sockets.update({f"{i}@{name}": s for i, s in booted.wg_sockets.items()})
            if booted.vty:
                self.state.vty[name] = str(booted.vty)
        self._save()

    def _frr(self, stage: str, name: str) -> None:
        assert self.rendered is not None
        vcpe.start_frr(self.plan.vcpes[name], self.rendered.host(name), self.procs, self.dir,
                       self.booted[name], stage)

    # --- converge and check -------------------------------------------------------------

    def converge(self, skip_tunnels: tuple[str, ...] = ()) -> list[str]:
        expected = checks.expected_bgp(self.topology, skip_tunnels)
        vtys = {n: b.vty for n, b in self.booted.items() if b.vty is not None}
        with self.progress.phase(f"BGP convergence ({len(expected)} vCPEs)"):
            problems: list[str] = []
            if skip_tunnels:  # the failed sessions must be noticed down first (hold timer)
                full = checks.expected_bgp(self.topology)
                lost = {v: set(full.get(v, {})) - set(expected.get(v, {})) for v in full}
                problems += checks.wait_sessions_down(vtys, lost, BGP_TIMEOUT)
            return problems + checks.wait_for_bgp(vtys, expected, BGP_TIMEOUT,
                                       tick=lambda d, t: self.progress.tick(d, t, "converged"))

    def matrix(self, tcp: bool = False) -> dict[checks.Pair, bool]:
        hosts = self.plan.hosts
        pairs = len(hosts) * (len(hosts) - 1)
        with self.progress.phase(f"{'tcp' if tcp else 'ping'} matrix ({pairs} pairs)"):
            tick: Callable[[int, int], None] = lambda d, t: self.progress.tick(d, t, "pairs")  # noqa: E731
            if tcp:
                for name, host in hosts.items():
                    self.procs.start(host.ns, ["python3", "-c", checks.TCP_LISTENER],
                                     f"tcp-listener@{name}", self.dir / f"tcp-{name}.log")
                late = checks.wait_listening(hosts, LEASE_TIMEOUT)
                if late:
                    raise RuntimeError(f"TCP listener not ready on: {', '.join(late)}")
                return checks.tcp_matrix(hosts, tick)
            return checks.ping_matrix(hosts, tick)

    def fail_tunnel(self, tunnel: str) -> list[str]:
        """Take both ends of a tunnel down (the link fault of ``--fail``)."""
        downed = []
        for name, booted in self.booted.items():
            iface = booted.tunnels.get(tunnel)
            if iface:
                from modules.emulate import shell
                shell.run(["ip", "-n", booted.ns, "link", "set", iface, "down"])
                downed.append(f"{name}:{iface}")
        return downed

    def enter_hints(self) -> list[str]:
        lines = [f"run directory: {self.dir}"]
        kinds = {"h": "host", "r": "VPC router", "v": "vCPE"}
        for key, ns in sorted(self.names.mapping().items()):
            kind, _, name = key.partition(":")
            lines.append(f"  {kinds.get(kind, kind) + ' ' + name:<26} ip netns exec {ns} bash")
        if self.plan.underlay_ns:
            lines.append(f"  {'underlay (198.18.0.0/15)':<26} ip netns exec {self.plan.underlay_ns} bash")
        for name, booted in sorted(self.booted.items()):
            if booted.vty:
                lines.append(f"  {'FRR of ' + name:<26} vtysh --vty_socket {booted.vty}")
            for iface, sock in sorted(booted.wg_sockets.items()):
                lines.append(f"  {'WireGuard ' + name + '/' + iface:<26} wg show {sock}")
        lines.append(f"remove it: netweave emulate --down {self.prefix}")
        return lines

