"""Route pushes the way QingCloud delivers them: DHCP option 121 from the VPC router.

dnsmasq runs in each QingCloud VPC router namespace and hands every VM its fixed
address (by MAC) plus the classless static routes of its vxnet; dhclient in the VM
namespace installs them with Debian's rfc3442 hook. RFC 3442: a client that receives
option 121 ignores the router option, so the default route is part of the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from netweave.emulate import shell
from netweave.emulate.layout import HostLayout, LabLayout, RouterLayout
from netweave.emulate.processes import Processes
from netweave.emulate.state import RunState

DHCLIENT_CONF = "/etc/dhcp/dhclient.conf"
ETC_NETNS = Path("/etc/netns")  # Debian's: requests rfc3442-classless-static-routes


def option_121(layout: LabLayout, router: RouterLayout, vxnet: str) -> list[str]:
    """The option-121 list for one vxnet: its route pushes, then the default route."""
    routes = [*layout.pushes.get(vxnet, ()), ("0.0.0.0/0", str(router.bridges[vxnet].gateway.ip))]
    return [item for route in routes for item in route]


def dnsmasq_argv(layout: LabLayout, router: RouterLayout, run_dir: Path) -> list[str]:
    argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
            "--no-ping", "--no-resolv", "--no-hosts", "--bind-interfaces", "--user=root",
            "--dhcp-authoritative", "--log-facility=-",
            # no host-name back to the VM: dhclient-script would set this machine's
            # hostname (namespaces share it) if it were "localhost"
            "--dhcp-ignore-names",
            f"--dhcp-leasefile={run_dir / f'dnsmasq-{router.vpc}.leases'}",
            f"--pid-file={run_dir / f'dnsmasq-{router.vpc}.pid'}"]
    for vxnet, bridge in router.bridges.items():
        net = bridge.gateway.cidr
        argv += [f"--interface={bridge.name}",
                 f"--dhcp-range=set:{bridge.name},{net.network},static,{net.netmask},1h",
                 f"--dhcp-option=tag:{bridge.name},option:router,{bridge.gateway.ip}",
                 f"--dhcp-option=tag:{bridge.name},121,"
                 + ",".join(option_121(layout, router, vxnet))]
    for host in layout.hosts.values():
        if host.vpc == router.vpc and host.dhcp:
            argv.append(f"--dhcp-host={host.mac},{host.address.ip}")
    return argv


def start_dnsmasq(layout: LabLayout, procs: Processes, run_dir: Path) -> None:
    for router in layout.routers.values():
        if router.cloud == "qingcloud" and any(h.vpc == router.vpc and h.dhcp
                                               for h in layout.hosts.values()):
            procs.start(router.ns, dnsmasq_argv(layout, router, run_dir),
                        f"dnsmasq@{router.vpc}", run_dir / f"dnsmasq-{router.vpc}.log")


def start_dhclients(layout: LabLayout, procs: Processes, run_dir: Path, state: RunState,
                    save: Callable[[], None]) -> list[HostLayout]:
    """One dhclient per QingCloud VM; each namespace gets its own resolv.conf first, so
    dhclient-script never touches the machine's /etc/resolv.conf."""
    started = []
    etc_netns = state.etc_netns
    for host in layout.hosts.values():
        if not host.dhcp:
            continue
        if not ETC_NETNS.exists():
            state.created_etc_netns = True
        etc = ETC_NETNS / host.ns
        etc_netns.append(host.ns)
        save()
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("# netweave emulation: DNS is not emulated\n")
        procs.start(host.ns, ["dhclient", "-d", "-v", "-cf", DHCLIENT_CONF,
                              "-pf", str(run_dir / f"dhclient-{host.name}.pid"),
                              "-lf", str(run_dir / f"dhclient-{host.name}.leases"), "eth0"],
                    f"dhclient@{host.name}", run_dir / f"dhclient-{host.name}.log")
        started.append(host)
    return started


def wait_for_leases(hosts: list[HostLayout], timeout: float) -> list[str]:
    """Bounded wait until every VM has its address and default route; names the late ones."""
    pending = {h.name: h for h in hosts}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, host in list(pending.items()):
            routes = shell.run(["ip", "-n", host.ns, "-4", "route", "show", "default"],
                               check=False).stdout
            if "default via" in routes:
                del pending[name]
        if pending:
            time.sleep(0.02)
    return sorted(pending)
