"""IPsec tunnels in the lab: the real strongSwan IKE daemon (``charon-systemd``) in each
namespace that has one, loading the rendered swanctl files with ``swanctl --load-all``.

This machine's kernel has neither ESP nor XFRM interfaces (and no modules to load), so
charon runs with its ``kernel-libipsec`` backend: ESP in user space over a TUN device,
always UDP-encapsulated (as NAT traversal does). IKE, the proposals, identities, PSKs,
traffic selectors, DPD and who initiates are the rendered ones. Adaptations, each said in
the run's notes:

- the TUN device (``ipsec0``) stands in for the XFRM interface: it is renamed to the
  rendered name and gets the rendered address and MTU (``xfrm.sh`` itself is not run);
- libipsec installs a route for every policy whatever ``install_routes`` says, and fails
  the SA if the device it created is gone: a placeholder TUN keeps the old name, and
  those routes go to table 220, consulted after the main table (rule priority 32800),
  where they never match (a vCPE's main table has a default route);
- libipsec has one TUN device and one policy table per daemon, so a namespace emulates
  at most one IPsec tunnel (traffic selectors 0.0.0.0/0 would be ambiguous).

One daemon per namespace, each with its own settings file (``STRONGSWAN_CONF``), vici
socket and log in the run directory; ended by PID like every other process of a run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from netweave.emulate import shell
from netweave.emulate.processes import Processes
from netweave.emulate.rendered import RenderedHost

CHARON = Path("/usr/sbin/charon-systemd")
LIBIPSEC_TUN = "ipsec0"
ROUTE_TABLE, RULE_PRIORITY = 220, 32800
LAB_LABEL = "# netweave emulate: lab settings (NOT part of the rendered configuration)"


class IpsecUnavailable(RuntimeError):
    """strongSwan (or its user-space IPsec backend) is not installed here."""


def ipsec_tunnels(host: RenderedHost) -> list[dict[str, object]]:
    return [t for t in host.tunnels if t.get("type") == "ipsec"]


def check_installed() -> None:
    plugin = Path("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")
    missing = [str(p) for p in (CHARON, plugin) if not p.exists()]
    if missing:
        raise IpsecUnavailable(
            f"IPsec tunnels need strongSwan here: {', '.join(missing)} missing "
            "(apt-get install charon-systemd strongswan-swanctl libcharon-extra-plugins; "
            "bash .ci/setup does)")


def settings_text(host: RenderedHost, folder: Path) -> str:
    """The lab's strongswan.conf: the system's, the rendered one, then the lab's own."""
    rendered = [host.path(str(t["settings"])) for t in ipsec_tunnels(host) if t.get("settings")]
    includes = "".join(f"include {p}\n" for p in dict.fromkeys(rendered))
    vici = f"unix://{folder / 'charon.vici'}"
    return (f"include /etc/strongswan.conf\n{includes}{LAB_LABEL}\n"
            "charon-systemd {\n"
            f"  routing_table = {ROUTE_TABLE}\n"
            f"  routing_table_prio = {RULE_PRIORITY}\n"
            "  plugins {\n"
            "    kernel-libipsec {\n      load = yes\n    }\n"
            f"    vici {{\n      socket = {vici}\n    }}\n"
            "  }\n"
            "  filelog {\n"
            f"    lab {{\n      path = {folder / 'charon.log'}\n      default = 1\n"
            "      ike = 2\n    }\n  }\n"
            "  journal {\n    default = -1\n  }\n"
            "}\n"
            f"swanctl {{\n  socket = {vici}\n}}\n")


def swanctl_text(host: RenderedHost) -> str:
    """A swanctl.conf that includes the rendered conf.d files, as Debian's does."""
    files = {host.path(str(t["config"])) for t in ipsec_tunnels(host)}
    files |= {host.path(str(t["secrets"])) for t in ipsec_tunnels(host) if t.get("secrets")}
    return "".join(f"include {p}\n" for p in sorted(files))


def start_charon(ns: str, name: str, host: RenderedHost, folder: Path, procs: Processes,
                 timeout: float = 10.0) -> Path:
    """charon in ``ns`` with the host's rendered IPsec files; returns its settings file."""
    check_installed()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    settings = folder / "strongswan.conf"
    settings.write_text(settings_text(host, folder))
    (folder / "swanctl.conf").write_text(swanctl_text(host))
    procs.start(ns, [str(CHARON)], f"charon@{name}", folder / "charon.out",
                env={"STRONGSWAN_CONF": str(settings)})
    deadline = time.monotonic() + timeout
    while not (folder / "charon.vici").exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: charon opened no vici socket within {timeout:.0f} s "
                               f"(see {folder / 'charon.log'})")
        time.sleep(0.02)
    return settings


def swanctl(ns: str, settings: Path, *args: str, check: bool = True) -> str:
    proc = shell.run(shell.in_ns(ns, ["env", f"STRONGSWAN_CONF={settings}", "swanctl", *args]),
                     check=check, timeout=30)
    return proc.stdout + proc.stderr


# swanctl's own chatter: the plugins it has no use for, credential folders the lab leaves out
_NOISE = ("plugin '", "opening directory")


def load_all(ns: str, settings: Path) -> str:
    """``swanctl --load-all`` with the rendered files: the daemon's own parser. swanctl
    exits 0 even when it could not parse a file, so its report is read too."""
    argv = ["--load-all", "--noprompt", "--file", str(settings.parent / "swanctl.conf")]
    report = swanctl(ns, settings, *argv)
    lines = [line for line in report.splitlines() if line and not line.startswith(_NOISE)]
    bad = [line for line in lines if any(w in line for w in ("error", "invalid", "fail"))]
    if bad:
        raise shell.CommandError(["swanctl", *argv], 0, "\n".join(bad))
    return "\n".join(lines)


def stand_in_interface(ns: str, tunnel: dict[str, object]) -> None:
    """libipsec's TUN device becomes the rendered XFRM interface (name, address, MTU); a
    placeholder keeps libipsec's name for the routes it insists on installing."""
    name = str(tunnel["interface"])
    shell.ip_batch([f"link set {LIBIPSEC_TUN} name {name}",
                    f"link set {name} mtu {tunnel['mtu']}",
                    f"addr add {tunnel['local']} dev {name}",
                    f"link set {name} up",
                    f"tuntap add dev {LIBIPSEC_TUN} mode tun",
                    f"link set {LIBIPSEC_TUN} up"], ns)


def wait_for_tun(ns: str, name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = shell.run(["ip", "-n", ns, "-br", "link", "show", "dev", LIBIPSEC_TUN],
                        check=False).stdout
        if out.strip():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: charon's kernel-libipsec created no {LIBIPSEC_TUN} "
                               f"within {timeout:.0f} s")
        time.sleep(0.02)


NOTE = ("IPsec: this kernel has no ESP or XFRM interfaces, so charon runs with kernel-libipsec "
        "(ESP in user space, always UDP-encapsulated); its TUN device, renamed to the rendered "
        "XFRM interface with the rendered address and MTU, stands in for the interface "
        "(xfrm.sh and netweave-xfrm.service not run); libipsec's own routes are parked in "
        f"table {ROUTE_TABLE} behind the main table (rule {RULE_PRIORITY}); the swanctl files "
        "are the rendered ones, loaded with swanctl --load-all")


def start(ns: str, name: str, host: RenderedHost, folder: Path, procs: Processes) -> tuple[Path, str]:
    """Boot the host's IPsec tunnel: charon, the stand-in interface, the rendered files.
    Returns the settings file and swanctl's load report."""
    tunnels = ipsec_tunnels(host)
    if len(tunnels) > 1:
        raise RuntimeError(
            f"{name} has {len(tunnels)} IPsec tunnels ({', '.join(str(t['name']) for t in tunnels)}); "
            "the lab's user-space IPsec (kernel-libipsec: one TUN device and one policy table per "
            "daemon) emulates one per host; the rendered configuration itself has no such limit")
    settings = start_charon(ns, name, host, folder, procs)
    wait_for_tun(ns, name)
    stand_in_interface(ns, tunnels[0])
    return settings, load_all(ns, settings)


def kick(ns: str, settings: Path, host: RenderedHost) -> None:
    """Once every end of the lab has loaded its connections, start the initiating ends'
    SAs now: an initiator that came up before its peer backs off (IKE retransmits after
    4, 7, 13, 23 s), as a booting router would. Bounded; the rendered config is unchanged."""
    for tunnel in ipsec_tunnels(host):
        if tunnel.get("initiator"):
            swanctl(ns, settings, "--initiate", "--child", str(tunnel["name"]), "--timeout", "10",
                    check=False)
