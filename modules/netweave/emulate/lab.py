"""One emulation run: build the lab from the layout and the render output, converge,
check, and always tear down — on success, failure, exceptions and Ctrl-C."""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from netweave.design import Design
from netweave.emulate import (
    checks,
    cloud_firewall,
    dhcp,
    firewall,
    ipsec,
    metadata,
    netns,
    remote_access,
    vcpe,
    workloads,
)
from netweave.emulate.layout import LabLayout, VcpeLayout, build_layout
from netweave.emulate.naming import Names, new_prefix, run_dir
from netweave.emulate.processes import Processes
from netweave.emulate.progress import Progress
from netweave.emulate.rendered import RenderedHost, RenderOutput
from netweave.emulate.state import RunState
from netweave.emulate.teardown import list_namespaces, teardown
from netweave.model.index import Index
from netweave.model.topology import Topology
from netweave.render.artifacts import Rendered
from netweave.render.material import KeyMaterial

T = TypeVar("T")
BOOT_WORKERS = 6  # vCPEs booted at once (2 cores; the work is mostly waiting on tools)
LEASE_TIMEOUT = 10.0
BGP_TIMEOUT = 30.0


class InjectedFailure(RuntimeError):
    """Raised on purpose midway through a build (tests of the teardown guarantee)."""


class Lab:
    def __init__(self, topology: Topology, index: Index, *, file: str = "",
                 progress: Progress | None = None, prefix: str | None = None,
                 fail_after: str | None = None, bgp_timeout: float | None = None,
                 design: Design | None = None, in_place: bool = False) -> None:
        self.topology = topology
        self.design = design if design is not None else Design.build(topology, index)
        self.bgp_timeout = bgp_timeout or BGP_TIMEOUT
        self.index = index
        self.progress = progress or Progress(quiet=True)
        self.prefix = prefix or new_prefix()
        self.names = Names(self.prefix)
        self.dir = run_dir(self.prefix)
        self.state = RunState(self.prefix, self.dir, file=file)
        self.procs = Processes(on_change=self._save)
        self.layout: LabLayout = build_layout(topology, index, self.names, self.design)
        self.rendered: RenderOutput | None = None
        self.keys: KeyMaterial | None = None
        self.base_rendered: Rendered | None = None
        # --change: a deploying machine on the underlay reaches every vCPE's sshd
        self.in_place = in_place
        self.manage_from: list[str] = []
        self.deployer_key: str | None = None
        if in_place:
            from netweave.emulate.change import DEPLOYER_ADDRESS
            self.layout.deployer_ns = self.names.node("d", "deployer")
            self.manage_from = [f"{DEPLOYER_ADDRESS}/32"]
        self.booted: dict[str, vcpe.Booted] = {}
        self.clients: list[remote_access.VpnClient] = []
        self.next_socket = 0  # wireguard-go control sockets: unique in the shared directory
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

    def _plumb(self, layout: VcpeLayout, host: RenderedHost, booted: vcpe.Booted) -> None:
        """What every booted host (vCPE or VPN server) gets first: its notes on what is not
        run, its underlay leg, the Vultr VPC NIC found by MAC, its NIC addresses."""
        vcpe.note_not_run(host, booted)
        if layout.public is not None:
            booted.notes.append(f"public address {layout.public.ip} on an extra interface "
                                f"{netns.UNDERLAY_IF} to the underlay (no cloud EIP NAT)")
        booted.notes += metadata.find_vpc_nic(layout, host, self.procs, self.dir)
        vcpe.apply_netplan(layout, host, booted)

    def build(self) -> None:
        if self.dir.exists():
            raise RuntimeError(f"run {self.prefix} exists already ({self.dir}); pick another prefix")
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir.mkdir()
        self._owns_dir = True
        os.chmod(self.dir, 0o711)  # FRR (user frr) must reach its vty dir; nothing else is readable
        self.state.claim()
        self.state.nodes = self.names.mapping()
        self.state.nodes["underlay"] = self.layout.underlay_ns
        self._save()
        p = self.progress
        with p.phase("render (real keys, underlay addresses)"):
            self._render()
        self._checkpoint("render")
        with p.phase(f"namespaces + links ({len(self.layout.namespaces)} namespaces)"):
            taken = set(self.layout.namespaces) & set(list_namespaces())
            if taken:  # never adopt (and later delete) namespaces someone else made
                raise RuntimeError(f"namespaces exist already: {', '.join(sorted(taken))}")
            self.state.namespaces = list(self.layout.namespaces)
            self._save()
            netns.add_namespaces(self.layout.namespaces)
            netns.build_skeleton(self.layout)
        self._checkpoint("namespaces")
        with p.phase("VPC routers: DHCP option 121 leases"):
            self._workloads()
        self._checkpoint("workloads")
        self._vcpes()
        self._checkpoint("vcpes")
        if self.layout.vpn_servers:
            self._vpn_servers()
            self._checkpoint("vpn_servers")

    def _render(self) -> None:
        from netweave.render import render_topology, write_rendered
        from netweave.render.material import generate_keys
        keys = self.keys = generate_keys(self.topology)
        out = self.dir / "rendered"
        out.mkdir(mode=0o700)
        self.base_rendered = render_topology(self.topology, self.index, design=self.design,
                                             public_addresses=self.layout.public_addresses(),
                                             keys=keys, assigned_addresses=self.layout.assigned)
        write_rendered(self.base_rendered, out)
        self.rendered = RenderOutput.load(out)
        for name, address in sorted(self.layout.assigned.items()):
            self.notes.append(f"{name}: its VPC address is assigned by the cloud at deploy; the lab "
                              f"gives it {address} (rendered into the workload routes as a deploy "
                              "would, and served by the lab's metadata service)")
        # NIC names as the rendered host sees them (eth0 on QingCloud); a NIC the host finds
        # by MAC (Vultr) has no rendered name and keeps the lab's
        for nodes in (self.layout.vcpes, self.layout.vpn_servers):
            for name, layout in list(nodes.items()):
                by_nic = {int(i.get("nic", n)): str(i["name"])
                          for n, i in enumerate(self.rendered.host(name).interfaces)
                          if i.get("name")}
                nics = tuple(dataclasses.replace(nic, ifname=by_nic.get(nic.index, nic.ifname))
                             for nic in layout.nics)
                nodes[name] = dataclasses.replace(layout, nics=nics)

    def _workloads(self) -> None:
        dhcp.start_dnsmasq(self.layout, self.procs, self.dir)
        started = dhcp.start_dhclients(self.layout, self.procs, self.dir, self.state, self._save)
        late = dhcp.wait_for_leases(started, LEASE_TIMEOUT)
        if late:
            raise RuntimeError(f"no DHCP lease within {LEASE_TIMEOUT:.0f} s for: {', '.join(late)}")
        assert self.rendered is not None
        for host in self.layout.hosts.values():
            if self.layout.routers[host.vpc].cloud == "site":
                pass  # a site's host: its address and default route (the gateway) are set
            elif not host.dhcp:
                routes, source = workloads.workload_routes(self.rendered, host.vpc)
                if source is None:
                    self.notes.append(f"{host.vpc}: the render output has no workload routes; "
                                      f"{host.name} got none")
                workloads.apply_routes(host, routes)
            firewall.apply(host.ns, self.design, host.security_groups)

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
        for name in self.layout.vcpes:
            first_socket[name] = n
            n += sum(1 for t in rendered.host(name).tunnels if t.get("type", "wireguard") == "wireguard")
        self.next_socket = n
        for name, layout in self.layout.vcpes.items():
            self.booted[name] = vcpe.Booted(name, layout.ns)
        if n and not vcpe.WG_SOCKET_DIR.exists():
            self.state.created_wg_dir = True
            self._save()

        charons: dict[str, tuple[str, Path, RenderedHost]] = {}  # name -> its charon

        def boot(name: str) -> None:
            layout, host, booted = self.layout.vcpes[name], rendered.host(name), self.booted[name]
            self._plumb(layout, host, booted)
            vcpe.start_wireguard(layout, host, self.names, [first_socket[name]], self.procs,
                                 self.dir, booted)
            vcpe.start_openvpn(layout, host, self.procs, self.dir, booted)
            if ipsec.ipsec_tunnels(host):
                settings, _ = ipsec.start(layout.ns, name, host, self.dir / "ipsec" / layout.ns,
                                          self.procs)
                charons[name] = (layout.ns, settings, host)
                booted.notes.append(ipsec.NOTE)
            vcpe.apply_iptables(layout, host)
            self._cloud_firewall(layout, booted)
            vcpe.apply_sysctl(layout, host, booted)

        count = len(self.layout.vcpes)
        with self.progress.phase(f"vCPEs: netplan, sysctl, iptables, tunnels ({count})"):
            self._parallel(list(self.layout.vcpes), boot)
        for ns, settings, host in charons.values():
            ipsec.kick(ns, settings, host)
        tunnels = sorted({t for b in self.booted.values() for t in b.wg_configs})
        with self.progress.phase(f"WireGuard peers ({len(tunnels)} tunnels)"):
            self._parallel(tunnels, lambda tunnel: vcpe.connect_wireguard(
                [(b, tunnel) for b in self.booted.values() if tunnel in b.wg_configs]))
        self._parallel(list(self.booted.values()), vcpe.wait_for_interfaces)
        with self.progress.phase(f"FRR: zebra, bgpd, staticd ({count})"):
            for stage in ("zebra", "routing"):
                self._parallel(list(self.layout.vcpes), functools.partial(self._frr, stage))
        for name, booted in self.booted.items():
            self.state.wg_sockets.update({f"{i}@{name}": s for i, s in booted.wg_sockets.items()})
            if booted.vty:
                self.state.vty[name] = str(booted.vty)
        self._save()
        if self.in_place:
            with self.progress.phase(f"sshd in each vCPE ({count}): the in-place path"):
                self._sshd()

    def _sshd(self) -> None:
        """A real sshd per vCPE, on its public address, with the rendered host key."""
        from netweave.emulate import sshd
        assert self.rendered is not None
        if not sshd.PRIVSEP_DIR.exists():
            self.state.created_privsep = True
            self._save()
            sshd.PRIVSEP_DIR.mkdir(mode=0o755)
        self.deployer_key, _ = sshd.deployer_key(self.dir)
        for name, layout in self.layout.vcpes.items():
            if layout.public is None:
                raise RuntimeError(f"{name} has no public address: the rehearsal's deploying machine "
                                   "reaches vCPEs over the internet (public_ip: true)")
            booted = self.booted[name]
            hooks = sshd.write_hooks(booted, self.dir, dict(booted.wg_sockets), {}, "")
            sshd.start_sshd(layout, self.rendered.host(name).root, self.dir, hooks, self.procs)
            booted.notes.append("sshd started in the namespace on its public address with the "
                                "rendered host key; the apply script's systemd/apt steps are the "
                                "lab's hooks (NETWEAVE_HOOKS), its root the rendered rootfs")

    def _cloud_firewall(self, layout: VcpeLayout, booted: vcpe.Booted) -> None:
        """What the cloud's firewall admits, enforced in front of the host's own rules."""
        if layout.cloud == "site":
            router = self.layout.routers[layout.name]
            booted.notes.append(
                f"site gateway: no cloud firewall; LAN {router.bridges[f'lan:{layout.name}'].gateway} "
                "is the home router namespace " + router.ns
                + (f", which masquerades the site behind {router.wan.ip} (iptables MASQUERADE)"
                   if router.wan is not None else f"; public address {layout.public.ip} on inet0"
                   if layout.public is not None else ""))
            return
        fw = cloud_firewall.cloud_firewall(
            self.design, layout.name, [nic.ifname for nic in layout.nics],
            netns.UNDERLAY_IF if layout.public is not None else None, self.layout.public_addresses(),
            manage_from=self.manage_from)
        cloud_firewall.apply(layout.ns, fw)
        where = ", ".join(fw.interfaces) or "no interface"
        kind = "security group" if layout.cloud == "qingcloud" else "firewall group"
        booted.notes.append(f"{layout.cloud} {kind} as the program deploys it: iptables chain "
                            f"{cloud_firewall.IN_CHAIN} on {where} ({len(fw.rules)} rules, stateful, "
                            "everything else dropped)")
        booted.notes += fw.notes

    def _vpn_servers(self) -> None:
        rendered = self.rendered
        assert rendered is not None
        with self.progress.phase(f"VPN servers ({len(self.layout.vpn_servers)}): netplan, sysctl, "
                                 "iptables, VPN daemon"):
            if not vcpe.WG_SOCKET_DIR.exists() and any(
                    s.type == "wireguard" for s in self.topology.vpn_servers.values()):
                self.state.created_wg_dir = True
                self._save()
            for name, layout in self.layout.vpn_servers.items():
                host, booted = rendered.host(name), vcpe.Booted(name, layout.ns)
                self.booted[name] = booted
                self._plumb(layout, host, booted)
                vcpe.apply_iptables(layout, host)
                self._cloud_firewall(layout, booted)
                vcpe.apply_sysctl(layout, host, booted)
                self.next_socket = remote_access.start_server(
                    layout, host, self.names, self.next_socket, self.procs, self.dir, booted)
        with self.progress.phase(f"VPN clients ({len(self.layout.clients)}): dial in with their profiles"):
            for (server, client), cplan in self.layout.clients.items():
                host = rendered.host(server)
                profile = rendered.dir / host.entry["client_profiles"][client]
                kind = str(host.entry["vpn"]["type"])
                found = remote_access.VpnClient(cplan, kind)
                self.clients.append(found)
                self.next_socket = remote_access.start_client(
                    found, profile, self.names, self.next_socket, self.procs, self.dir)
            pools = {name: s.client_pool for name, s in self.topology.vpn_servers.items()}
            self.notes += remote_access.wait_connected(self.clients, pools)
        for name in self.layout.vpn_servers:
            booted = self.booted[name]
            self.state.wg_sockets.update({f"{i}@{name}": s for i, s in booted.wg_sockets.items()})
        self._save()

    def remote_access(self) -> tuple[list[str], list[str]]:
        assert self.rendered is not None
        with self.progress.phase(f"remote access ({len(self.clients)} clients)"):
            lines, problems = remote_access.check(self.topology, self.index, self.layout,
                                                  self.clients, self.rendered)
        for client in self.clients:
            self.notes += [f"client {client.layout.name} ({client.layout.server}): {n}"
                           for n in dict.fromkeys(client.notes)]
        return lines, problems

    def _frr(self, stage: str, name: str) -> None:
        assert self.rendered is not None
        vcpe.start_frr(self.layout.vcpes[name], self.rendered.host(name), self.procs, self.dir,
                       self.booted[name], stage)

    # --- converge and check -------------------------------------------------------------

    def converge(self, skip_tunnels: tuple[str, ...] = ()) -> list[str]:
        expected = checks.expected_bgp(self.design, skip_tunnels)
        vtys = {n: b.vty for n, b in self.booted.items() if b.vty is not None}
        with self.progress.phase(f"BGP convergence ({len(expected)} vCPEs)"):
            problems: list[str] = []
            if skip_tunnels:  # the failed sessions must be noticed down first (hold timer)
                full = checks.expected_bgp(self.design)
                lost = {v: set(full.get(v, {})) - set(expected.get(v, {})) for v in full}
                problems += checks.wait_sessions_down(vtys, lost, self.bgp_timeout)
            return problems + checks.wait_for_bgp(vtys, expected, self.bgp_timeout,
                                       tick=lambda d, t: self.progress.tick(d, t, "converged"))

    def matrix(self, tcp: bool = False) -> dict[checks.Pair, bool]:
        hosts = self.layout.hosts
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
                from netweave.emulate import shell
                shell.run(["ip", "-n", booted.ns, "link", "set", iface, "down"])
                downed.append(f"{name}:{iface}")
        return downed

    def enter_hints(self) -> list[str]:
        lines = [f"run directory: {self.dir}"]
        kinds = {"h": "host", "r": "VPC router", "v": "vCPE", "s": "VPN server", "c": "VPN client",
                 "g": "site gateway", "n": "site NAT router"}
        for key, ns in sorted(self.names.mapping().items()):
            kind, _, name = key.partition(":")
            lines.append(f"  {kinds.get(kind, kind) + ' ' + name:<26} ip netns exec {ns} bash")
        if self.layout.underlay_ns:
            lines.append(f"  {'underlay (198.18.0.0/15)':<26} ip netns exec {self.layout.underlay_ns} bash")
        for name, booted in sorted(self.booted.items()):
            if booted.vty:
                lines.append(f"  {'FRR of ' + name:<26} vtysh --vty_socket {booted.vty}")
            for iface, sock in sorted(booted.wg_sockets.items()):
                lines.append(f"  {'WireGuard ' + name + '/' + iface:<26} wg show {sock}")
        lines.append(f"remove it: netweave emulate --down {self.prefix}")
        return lines

