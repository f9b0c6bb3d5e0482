"""A vCPE booted from its rendered files: addresses and MTUs (netplan), sysctls,
tunnels (wireguard-go from the wg-quick file), iptables rules, and FRR.

What cannot run here is applied by its meaning and said in a note: ``netplan apply``
and systemd units need systemd and the real NICs; the emulator reads the netplan file
and sets the same addresses, MTUs and routes with ``ip``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from netweave.emulate import shell
from netweave.emulate.layout import VcpeLayout
from netweave.emulate.naming import Names
from netweave.emulate.processes import Processes, signals_deferred
from netweave.emulate.rendered import RenderedHost, parse_wg_quick

WG_SOCKET_DIR = Path("/var/run/wireguard")
# One OS thread for Go code per wireguard-go: a lab runs one per tunnel end on few cores.
WG_ENV = {"GOMAXPROCS": "1"}
FRR_BIN = Path("/usr/lib/frr")
LAB_TIMERS_LABEL = "! netweave emulate: lab BGP timers (NOT part of the rendered configuration)"


@dataclass
class Booted:
    """What the run needs to know about a booted vCPE (for checks, --fail and --keep)."""

    name: str
    ns: str
    vty: Path | None = None
    tunnels: dict[str, str] = field(default_factory=dict)   # tunnel name -> interface
    wg_sockets: dict[str, str] = field(default_factory=dict)  # interface -> wg socket name
    wg_configs: dict[str, Path] = field(default_factory=dict)  # tunnel name -> setconf file
    notes: list[str] = field(default_factory=list)
    daemons: list[str] = field(default_factory=list)  # the FRR daemons started here


def note_not_run(host: RenderedHost, booted: Booted) -> None:
    """Say which rendered files the lab does not execute, and what it does instead."""
    boot = host.entry.get("boot")
    if boot:
        booted.notes.append(f"{boot}: not run (apt-get, netplan apply, systemctl need a booted VM "
                            "with systemd and the internet); the lab performs its steps itself: "
                            "sysctl, netplan content, iptables-restore, tunnels, FRR daemons")
    units = [f["path"] for f in host.entry.get("files", [])
             if str(f.get("path", "")).startswith("/etc/systemd/")]
    units += [t["unit"] for t in host.tunnels if t.get("unit")]
    if units:
        booted.notes.append(f"systemd units not run (no systemd here; their commands are run "
                            f"directly): {', '.join(sorted(units))}")
    delivery = host.entry.get("delivery") or {}
    if delivery:
        booted.notes.append(f"cloud delivery ({delivery.get('type')}) not used: the files are "
                            "read from rootfs/ of the render output")


def apply_sysctl(vcpe: VcpeLayout, host: RenderedHost, booted: Booted) -> None:
    """Only ``net.*`` keys are per-namespace; anything else would change the machine."""
    settings = host.sysctl()
    per_ns = [f"{k}={v}" for k, v in settings if k.startswith("net.")]
    skipped = [k for k, _ in settings if not k.startswith("net.")]
    if per_ns:
        shell.run(shell.in_ns(vcpe.ns, ["sysctl", "-qw", *per_ns]))
    if skipped:
        booted.notes.append(f"sysctl {', '.join(skipped)}: not per network namespace, "
                            "not applied (it would change this machine)")


def apply_netplan(vcpe: VcpeLayout, host: RenderedHost, booted: Booted) -> None:
    netplan = host.netplan()
    cmds: list[str] = []
    has_default = False
    by_name = {nic.ifname: nic for nic in vcpe.nics}
    for name, iface in netplan.items():
        if name not in by_name:
            booted.notes.append(f"netplan interface {name}: no such NIC in the topology, skipped")
            continue
        if iface.mtu:
            cmds.append(f"link set {name} mtu {iface.mtu}")
        addresses = list(iface.addresses)
        if iface.dhcp4 and not addresses:
            # the cloud's DHCP gives the NIC its fixed address; the lab sets it directly
            addresses = [str(by_name[name].address)]
            booted.notes.append(f"netplan {name}: dhcp4 — fixed address {addresses[0]} set "
                                "directly (the cloud's DHCP is not part of the vCPE)")
        cmds += [f"addr add {a} dev {name}" for a in addresses]
        cmds.append(f"link set {name} up")
    for name, iface in netplan.items():
        if name not in by_name:
            continue
        for route in iface.routes:
            has_default |= route.to == "0.0.0.0/0" and route.table is None
            cmds.append(f"route replace {route.ip_args()} dev {name}")
        cmds += [f"rule add {rule.ip_args()}" for rule in iface.rules]
    # a NIC the host found by MAC (Vultr) was configured by the rendered program already
    missing = [nic.ifname for nic in vcpe.nics if nic.ifname not in netplan and not nic.assigned]
    for nic in vcpe.nics:
        if nic.ifname in missing:
            cmds += [f"addr add {nic.address} dev {nic.ifname}", f"link set {nic.ifname} up"]
    if missing:
        booted.notes.append(f"no netplan entry for {', '.join(missing)}: address from the topology")
    primary = vcpe.nics[0]
    if not has_default and not primary.assigned:
        cmds.append(f"route replace default via {primary.gateway} dev {primary.ifname}")
        booted.notes.append(f"default route via {primary.gateway} (the cloud's DHCP on the "
                            "primary NIC; not in the rendered netplan)")
    elif not has_default:  # Vultr: the default route is the public NIC's, not the VPC's
        booted.notes.append(f"no default route via the VPC NIC {primary.ifname}: on Vultr the "
                            "public NIC has it (the lab's underlay is connected)")
    if host.entry.get("netplan"):
        booted.notes.append("netplan: not `netplan apply`d (needs systemd-networkd); its "
                            "addresses, MTUs and routes were set with ip")
    shell.ip_batch(cmds, vcpe.ns)


def start_wireguard(vcpe: VcpeLayout, host: RenderedHost, names: Names, counter: list[int],
                    procs: Processes, run_dir: Path, booted: Booted) -> None:
    for tunnel in host.tunnels:
        iface = tunnel["interface"]
        booted.tunnels[tunnel["name"]] = iface
        if tunnel.get("type", "wireguard") != "wireguard":
            continue
        conf = parse_wg_quick(host.path(tunnel["config"]).read_text())
        sock = names.tunnel_socket_name(counter[0])
        counter[0] += 1
        booted.wg_sockets[iface] = sock
        procs.start(vcpe.ns, ["wireguard-go", "-f", sock], f"wireguard-go@{vcpe.name}/{iface}",
                    run_dir / f"wireguard-go-{sock}.log", env=WG_ENV)
        wait_for_wireguard(sock, f"wireguard-go for {iface}")
        setconf = run_dir / "secrets" / f"{sock}.conf"
        setconf.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(setconf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(conf.setconf)
        booted.wg_configs[tunnel["name"]] = setconf
        # peers come later (connect_wireguard), once every tunnel end is listening
        interface_only = conf.setconf.split("[Peer]", 1)[0]
        shell.run(shell.in_ns(vcpe.ns, ["wg", "setconf", sock, "/dev/stdin"]), input=interface_only)
        cmds = []
        if conf.mtu:  # before the rename: wireguard-go reads the MTU by the name it was born with
            cmds.append(f"link set {sock} mtu {conf.mtu}")
        cmds.append(f"link set {sock} name {iface}")
        cmds += [f"addr add {a} dev {iface}" for a in conf.addresses]
        cmds.append(f"link set {iface} up")
        shell.ip_batch(cmds, vcpe.ns)
        booted.notes.append(f"{iface}: wireguard-go started as {sock} (its control socket is in the "
                            f"shared /var/run/wireguard) and renamed to {iface} in the namespace; "
                            f"`wg show {sock}`; peers set one end first, see README")
        if conf.table is None or conf.table.lower() != "off":
            booted.notes.append(f"{iface}: Table={conf.table or 'auto'} — wg-quick would add routes "
                                "for AllowedIPs; not added (routes come from BGP)")
        if conf.ignored:
            booted.notes.append(f"{iface}: wg-quick keys not run: {', '.join(conf.ignored)}")


def start_openvpn(vcpe: VcpeLayout, host: RenderedHost, procs: Processes, run_dir: Path,
                  booted: Booted) -> None:
    """OpenVPN point-to-point tunnels, from the rendered config (keys inline), in the
    foreground so that the PID we record is OpenVPN's own."""
    for tunnel in host.tunnels:
        if tunnel.get("type") != "openvpn":
            continue
        config = host.path(tunnel["config"])
        argv = ["openvpn", "--config", str(config), "--cd", str(config.parent)]
        if "disable-dco" not in config.read_text():
            argv.append("--disable-dco")  # data channel offload needs a kernel module we lack
            booted.notes.append(f"{tunnel['interface']}: --disable-dco added (no ovpn-dco module)")
        procs.start(vcpe.ns, argv, f"openvpn@{vcpe.name}/{tunnel['interface']}",
                    run_dir / f"openvpn-{vcpe.name}-{tunnel['interface']}.log")


def wait_for_interfaces(booted: Booted, timeout: float = 10.0) -> None:
    """Bounded wait until every tunnel interface of the vCPE exists and is up."""
    deadline = time.monotonic() + timeout
    wanted = set(booted.tunnels.values())
    while True:
        out = shell.run(["ip", "-n", booted.ns, "-br", "link"], check=False).stdout
        present = {line.split()[0].split("@")[0] for line in out.splitlines() if line.strip()}
        if wanted <= present:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{booted.name}: tunnel interfaces missing after {timeout:.0f} s: "
                               f"{', '.join(sorted(wanted - present))}")
        time.sleep(0.05)


def connect_wireguard(ends: list[tuple[Booted, str]]) -> None:
    """Give both ends of a WireGuard tunnel their peer. If both initiate a handshake at
    the same moment, each discards the other's response and WireGuard retries only
    after 5 s; so the first end gets its peer without the endpoint (it can only answer),
    the second gets the whole rendered config and initiates, then the first end's
    endpoint is set as rendered. The final state is exactly the rendered config."""
    if len(ends) != 2:
        return
    (first, tunnel), (second, _) = ends
    first_conf = first.wg_configs[tunnel].read_text()
    answer_only = "\n".join(line for line in first_conf.splitlines()
                            if not line.lower().startswith("endpoint"))
    first_sock = first.wg_sockets[first.tunnels[tunnel]]
    shell.run(shell.in_ns(first.ns, ["wg", "setconf", first_sock, "/dev/stdin"]),
              input=answer_only + "\n")
    second_sock = second.wg_sockets[second.tunnels[tunnel]]
    shell.run(shell.in_ns(second.ns, ["wg", "setconf", second_sock,
                                      str(second.wg_configs[tunnel])]))
    peer = re.search(r"^PublicKey\s*=\s*(\S+)", first_conf, re.M | re.I)
    endpoint = re.search(r"^Endpoint\s*=\s*(\S+)", first_conf, re.M | re.I)
    if peer and endpoint:
        shell.run(shell.in_ns(first.ns, ["wg", "set", first_sock, "peer", peer.group(1),
                                         "endpoint", endpoint.group(1)]))


def apply_iptables(vcpe: VcpeLayout, host: RenderedHost) -> None:
    rules = host.iptables()
    if rules is not None and rules.is_file():
        shell.run(shell.in_ns(vcpe.ns, ["iptables-restore"]), input=rules.read_text())


def _neighbors(frr_conf: str) -> list[tuple[str, str]]:
    asn = re.search(r"^router bgp (\d+)\s*$", frr_conf, re.M)
    if not asn:
        return []
    peers = sorted(set(re.findall(r"^\s*neighbor (\S+) remote-as", frr_conf, re.M)))
    return [(asn.group(1), peer) for peer in peers]


def lab_timers(frr_conf: str) -> str:
    """Lab BGP timers for a rendered FRR config: fast keepalives and reconnects so a lab
    converges in about a second. Applied on top of the rendered file, labelled as such."""
    asn = re.search(r"^router bgp (\d+)\s*$", frr_conf, re.M)
    if not asn:
        return ""
    peers = sorted(set(re.findall(r"^\s*neighbor (\S+) remote-as", frr_conf, re.M)))
    lines = [f"router bgp {asn.group(1)}", " timers bgp 1 3", " coalesce-time 10"]
    for peer in peers:
        lines += [f" neighbor {peer} timers connect 1", f" neighbor {peer} advertisement-interval 0"]
    return "\n".join([*lines, "exit", ""])


def frr_text(host: RenderedHost, booted: Booted) -> str:
    """The rendered frr.conf, unchanged, followed by the lab timers (clearly labelled)."""
    config = host.frr_config()
    assert config is not None
    rendered = config.read_text()
    overrides = host.frr_lab_overrides()
    source = "the render's lab_overrides hook (manifest.json)"
    if not overrides:
        overrides, source = lab_timers(rendered), "the emulator (the render offers no hook)"
    if not overrides:
        return rendered
    booted.notes.append(f"FRR: lab BGP timers (keepalive 1 s, hold 3 s, connect 1 s) from "
                        f"{source}, appended after the rendered frr.conf")
    return f"{rendered}\n{LAB_TIMERS_LABEL}\n{overrides}"


# Statements only bgpd acts on. zebra and staticd parse prefix-lists too, and zebra
# does so in quadratic time (2,600 entries on a 49-peer hub: 17 s); vtysh would send
# them everywhere, the lab gives each daemon its own part of the integrated file.
_BGP_ONLY = ("ip prefix-list", "ipv6 prefix-list", "route-map", "router bgp", "bgp ",
             "ip as-path", "bgp as-path", "ip community-list", "bgp community-list",
             "ip large-community-list", "bgp large-community-list", "ip extcommunity-list",
             "bgp extcommunity-list")
_STATIC_ONLY = ("ip route ", "ipv6 route ")


def needed_daemons(text: str, daemons: list[str]) -> list[str]:
    """The rendered daemons this config gives work to: staticd only with a static route
    (about 3 MB per vCPE that has none; a 50-vCPE lab is ~150 MB lighter)."""
    statics = any(line.startswith(_STATIC_ONLY) for line in text.splitlines())
    return [d for d in daemons if d != "staticd" or statics]


def daemon_config(text: str, daemon: str) -> str:
    """The part of an integrated frr.conf one daemon acts on (top-level blocks kept whole)."""
    if daemon == "bgpd":
        return text
    drop = _BGP_ONLY + (_STATIC_ONLY if daemon == "zebra" else ())
    out: list[str] = []
    keep = True
    for line in text.splitlines():
        if line and not line[0].isspace() and line not in ("exit", "!") and not line.startswith("!"):
            keep = not line.startswith(drop)
        if keep or line.startswith("!"):
            out.append(line)
        if line == "exit":
            keep = True
    return "\n".join(out) + "\n"


def start_frr(vcpe: VcpeLayout, host: RenderedHost, procs: Processes, run_dir: Path,
              booted: Booted, stage: str) -> None:
    """zebra, bgpd, staticd started directly in the namespace, each reading the
    integrated config at start like a booting router. (Loading it afterwards with
    ``vtysh -f`` goes line by line: each neighbor first exists without an address
    family, and bgpd backs off for about 4 s before its first attempt.)

    ``stage`` "zebra" starts zebra, "routing" the others: bgpd parks a session that
    starts before zebra answered it, for 1, 2, 4, 8... s, so zebra comes first."""
    if host.frr_config() is None:
        return
    vty = run_dir / "frr" / vcpe.name
    if stage == "zebra":
        vty.mkdir(parents=True, exist_ok=True)
        shutil.chown(vty, "frr", "frr")
        booted.vty = vty
        text = frr_text(host, booted)
        booted.daemons = needed_daemons(text, host.frr_daemons())
        for daemon in booted.daemons:
            config = vty / f"{daemon}.conf"
            config.write_text(daemon_config(text, daemon))
            shutil.chown(config, "frr", "frr")
    daemons = [d for d in booted.daemons if (d == "zebra") == (stage == "zebra")]
    for daemon in daemons:
        binary = FRR_BIN / daemon
        if not binary.exists():
            booted.notes.append(f"FRR daemon {daemon}: not installed here, not started")
            continue
        argv = [str(binary), "-d", "--vty_socket", str(vty), "-z", str(vty / "zserv.api"),
                "-P", "0", "-i", str(vty / f"{daemon}.pid"), "-f", str(vty / f"{daemon}.conf"),
                "--log", f"file:{vty / (daemon + '.log')}"]
        with signals_deferred():
            shell.run(shell.in_ns(vcpe.ns, argv))
            procs.adopt_pidfile(vcpe.ns, vty / f"{daemon}.pid", f"{daemon}@{vcpe.name}")
        if daemon == "zebra":  # the others connect to zebra's socket at start
            _wait_for(vty / "zserv.api", 5.0, "zebra")
            _wait_zebra_knows(vty, set(booted.tunnels.values()), 15.0, booted.name)
    if stage == "zebra":
        return
    skipped = [d for d in host.frr_daemons() if d not in booted.daemons]
    booted.notes.append(f"FRR: {'/'.join(booted.daemons)} started directly in the namespace (not "
                        "frrinit.sh/systemd), each with its part of the rendered frr.conf "
                        "(bgpd: all of it; staticd: no BGP statements; zebra: neither BGP nor "
                        "static routes), as vtysh would distribute it"
                        + (f"; not started: {', '.join(skipped)} (no static route to install)"
                           if skipped else ""))


def _wait_zebra_knows(vty: Path, interfaces: set[str], timeout: float, name: str) -> None:
    """Bounded wait until zebra answers and has read every tunnel interface."""
    deadline = time.monotonic() + timeout
    while True:
        out = shell.run(["vtysh", "--vty_socket", str(vty), "-c", "show interface brief"],
                        check=False, timeout=timeout).stdout
        known = {line.split()[0] for line in out.splitlines() if line.strip()}
        if out and interfaces <= known:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: zebra did not report {', '.join(sorted(interfaces - known))} "
                               f"within {timeout:.0f} s")
        time.sleep(0.05)


def wait_for_wireguard(sock: str, what: str, timeout: float = 5.0) -> None:
    """Until wireguard-go accepts connections on its control socket, bounded.

    The socket file appears when wireguard-go binds it, a moment before it listens. `wg`
    connecting in that moment is refused, and then it unlinks the socket as stale and falls
    back to the kernel module, which is not there: "Protocol not supported" (wireguard-tools
    ipc-uapi.h, userspace_has_wireguard_interface). So wait for a connection to succeed,
    not for the file."""
    path = WG_SOCKET_DIR / f"{sock}.sock"
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(path))
                    return
                except (ConnectionRefusedError, FileNotFoundError):
                    pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {path} did not accept connections within {timeout:.0f} s")
        time.sleep(0.005)


def _wait_for(path: Path, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {path} did not appear within {timeout:.0f} s")
        time.sleep(0.005)
