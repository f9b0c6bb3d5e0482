"""Remote-access VPN servers and their clients, from the render output.

The server boots like a vCPE from its rendered files (netplan, sysctl, iptables, and the
OpenVPN or WireGuard server config of ``manifest.hosts.<server>.vpn``); each client the
topology declares is a namespace on the underlay (a laptop on the internet) that dials
in with its rendered profile (``manifest.hosts.<server>.client_profiles``). Then, with
bounded pings, each client must reach the hosts inside ``push_networks`` and get their
replies back; a split tunnel must route exactly the pushed networks through the tunnel.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import netaddr

from netweave.emulate import shell
from netweave.emulate.checks import PING_ALL, request_arrives_at
from netweave.emulate.layout import ClientLayout, LabLayout, VcpeLayout
from netweave.emulate.naming import Names
from netweave.emulate.processes import Processes
from netweave.emulate.rendered import RenderedHost, RenderOutput, parse_wg_quick
from netweave.emulate.vcpe import WG_ENV, Booted, wait_for_wireguard
from netweave.model.index import Index
from netweave.model.topology import Topology

CONNECT_TIMEOUT = 15.0
FULL_TUNNEL = {"0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1"}


@dataclass
class VpnClient:
    layout: ClientLayout
    kind: str                      # openvpn | wireguard
    interface: str = ""            # its tunnel interface, once connected
    address: str = ""              # its address from the client pool
    notes: list[str] = field(default_factory=list)


def _setconf(run_dir: Path, sock: str, text: str) -> Path:
    path = run_dir / "secrets" / f"{sock}.conf"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


def _wireguard(ns: str, text: str, iface: str, sock: str, role: str, procs: Processes,
               run_dir: Path, routes: bool) -> list[str]:
    """wireguard-go under a run-unique name, configured from a wg-quick file, renamed to
    ``iface``. ``routes``: add what wg-quick's Table=auto would (a route per AllowedIPs)."""
    conf = parse_wg_quick(text)
    procs.start(ns, ["wireguard-go", "-f", sock], role, run_dir / f"wireguard-go-{sock}.log",
                env=WG_ENV)
    wait_for_wireguard(sock, f"wireguard-go for {role}")
    shell.run(shell.in_ns(ns, ["wg", "setconf", sock, str(_setconf(run_dir, sock, conf.setconf))]))
    cmds = [f"link set {sock} mtu {conf.mtu}"] if conf.mtu else []
    cmds += [f"link set {sock} name {iface}", *(f"addr add {a} dev {iface}" for a in conf.addresses),
             f"link set {iface} up"]
    notes = []
    if routes:
        allowed = [a.strip() for line in conf.setconf.splitlines()
                   if line.lower().startswith("allowedips") for a in line.split("=", 1)[1].split(",")]
        for net in allowed:  # wg-quick turns 0.0.0.0/0 into two halves plus policy routing
            for half in (["0.0.0.0/1", "128.0.0.0/1"] if net == "0.0.0.0/0" else [net]):
                cmds.append(f"route replace {half} dev {iface}")
        notes.append("wg-quick not run: its interface, addresses and AllowedIPs routes were set "
                     "with wg/ip (a full tunnel as 0.0.0.0/1 + 128.0.0.0/1)")
    if conf.ignored:
        notes.append(f"wg-quick keys not run: {', '.join(conf.ignored)}")
    shell.ip_batch(cmds, ns)
    return notes


def start_server(layout: VcpeLayout, host: RenderedHost, names: Names, socket: int,
                 procs: Processes, run_dir: Path, booted: Booted) -> int:
    """The VPN daemon of a booted server host; returns the next free socket number."""
    vpn = host.entry.get("vpn") or {}
    config = host.path(vpn["config"])
    iface = str(vpn["interface"])
    if vpn.get("type") == "openvpn":
        argv = ["openvpn", "--config", str(config), "--cd", str(config.parent)]
        if "disable-dco" not in config.read_text():
            argv.append("--disable-dco")
        procs.start(layout.ns, argv, f"openvpn@{layout.name}", run_dir / f"openvpn-{layout.name}.log")
        booted.notes.append(f"{vpn.get('unit')}: not run (no systemd); openvpn started directly "
                            "with the rendered server config")
        return socket
    sock = names.tunnel_socket_name(socket)
    booted.wg_sockets[iface] = sock
    booted.notes += _wireguard(layout.ns, config.read_text(), iface, sock,
                               f"wireguard-go@{layout.name}/{iface}", procs, run_dir, routes=False)
    return socket + 1


def start_client(client: VpnClient, profile: Path, names: Names, socket: int, procs: Processes,
                 run_dir: Path) -> int:
    ns = client.layout.ns
    role = f"{client.kind}@{client.layout.name}({client.layout.server})"
    if client.kind == "openvpn":
        argv = ["openvpn", "--config", str(profile), "--cd", str(profile.parent)]
        if "disable-dco" not in profile.read_text():
            argv.append("--disable-dco")
            client.notes.append("--disable-dco added (no ovpn-dco module here)")
        procs.start(ns, argv, role, run_dir / f"openvpn-client-{client.layout.server}-"
                    f"{client.layout.name}.log")
        return socket
    sock = names.tunnel_socket_name(socket)
    client.interface = "wg0"
    client.notes += _wireguard(ns, profile.read_text(), "wg0", sock, role, procs, run_dir,
                               routes=True)
    return socket + 1


def _links(ns: str) -> list[str]:
    out = shell.run(["ip", "-n", ns, "-j", "link"], check=False).stdout or "[]"
    return [str(i["ifname"]) for i in json.loads(out) if i["ifname"] not in ("lo", "inet0")]


def _pool_address(ns: str, iface: str, pool: netaddr.IPNetwork) -> str:
    out = shell.run(["ip", "-n", ns, "-j", "-4", "addr", "show", "dev", iface], check=False).stdout
    for entry in json.loads(out or "[]"):
        for a in entry.get("addr_info", []):
            if netaddr.IPAddress(a["local"]) in pool:
                return str(a["local"])
    return ""


def wait_connected(clients: list[VpnClient], pool: dict[str, netaddr.IPNetwork],
                   timeout: float = CONNECT_TIMEOUT) -> list[str]:
    """Bounded wait until each client's tunnel interface has its pool address; for
    OpenVPN also until the pushed routes are in (the log's last step)."""
    deadline = time.monotonic() + timeout
    pending = list(clients)
    while pending and time.monotonic() < deadline:
        for client in list(pending):
            for iface in ([client.interface] if client.interface else _links(client.layout.ns)):
                address = _pool_address(client.layout.ns, iface, pool[client.layout.server])
                if address:
                    client.interface, client.address = iface, address
                    pending.remove(client)
                    break
        if pending:
            time.sleep(0.05)
    if clients and any(c.kind == "openvpn" for c in clients):
        time.sleep(0.2)  # OpenVPN adds the pushed routes right after the address
    return [f"{c.layout.name} ({c.layout.server}): not connected within {timeout:.0f} s"
            for c in pending]


def tunnel_routes(client: VpnClient, pool: netaddr.IPNetwork) -> list[str]:
    """Networks the client routes through its tunnel (its own pool's connected route aside)."""
    out = shell.run(["ip", "-n", client.layout.ns, "-j", "-4", "route", "show", "dev",
                     client.interface], check=False).stdout
    found = []
    for route in json.loads(out or "[]"):
        dst = "0.0.0.0/0" if route["dst"] == "default" else str(netaddr.IPNetwork(route["dst"]).cidr)
        if dst in FULL_TUNNEL or netaddr.IPNetwork(dst) not in pool:
            found.append(dst)
    return sorted(set(found), key=lambda n: netaddr.IPNetwork(n).sort_key())


def ping_many(ns: str, addresses: list[str], timeout: float = 10.0) -> list[bool]:
    """``ping -c 2 -W 1`` to each address at once from one namespace (bounded)."""
    if not addresses:
        return []
    argv = shell.in_ns(ns, ["sh", "-c", PING_ALL, "sh", *addresses])
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        out = ""
    codes = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
    return [codes.get(str(i)) == "0" for i in range(len(addresses))]


def targets(topology: Topology, index: Index, server: str) -> list[str]:
    """The hosts a client must reach: those inside ``push_networks`` (a full tunnel: also
    every host of the server's VPC)."""
    spec = topology.vpn_servers[server]
    vpc = index.vpc_of(spec.vxnet)
    return [name for name, host in topology.hosts.items()
            if any(host.address in net for net in spec.push_networks)
            or (spec.full_tunnel and host.vxnet is not None and index.vpc_of(host.vxnet) == vpc)]


def check(topology: Topology, index: Index, layout: LabLayout, clients: list[VpnClient],
          rendered: RenderOutput) -> tuple[list[str], list[str]]:
    """(report lines, problems): routes of each client, then each client -> host ping."""
    lines: list[str] = []
    problems: list[str] = []
    for name, spec in topology.vpn_servers.items():
        mine = [c for c in clients if c.layout.server == name]
        mode = "full tunnel" if spec.full_tunnel else "split tunnel"
        pushed = ", ".join(str(n) for n in spec.push_networks) or "nothing"
        lines.append(f"== remote access via {name} ({spec.type}, {mode}, pushes {pushed}; "
                     "ping -c 2 -W 1)")
        if layout.vpn_servers[name].public is None:
            lines.append(f"remote access: {name} has no public address: clients cannot dial in, "
                         "none emulated")
            continue
        wanted = targets(topology, index, name)
        for client in mine:
            who = client.layout.name
            if not client.address:
                problems.append(f"{who} -> {name}: not connected")
                lines.append(f"remote access: {who} NOT CONNECTED to {name} (see its log in the "
                             "run directory; --keep to inspect)")
                continue
            routes = tunnel_routes(client, spec.client_pool)
            want = sorted({str(n.cidr) for n in spec.push_networks})
            has_default = bool(FULL_TUNNEL & set(routes))
            if spec.full_tunnel:
                good = has_default
                verdict = "a default route through the tunnel" if good else \
                    "NO default route through the tunnel although full_tunnel"
            else:
                good = sorted(set(routes) - FULL_TUNNEL) == want and not has_default
                verdict = ("exactly the pushed networks, no default route" if good else
                           f"expected exactly {', '.join(want)} and no default route")
            lines.append(f"remote access: {who} connected as {client.address} on {client.interface};"
                         f" routes through the tunnel: {', '.join(routes) or 'none'} — {verdict}")
            if not good:
                problems.append(f"{who}: routes through the tunnel {routes}: {verdict}")
            if not wanted:
                lines.append(f"remote access: {who}: no host inside the pushed networks to ping")
            results = ping_many(client.layout.ns, [str(topology.hosts[h].address) for h in wanted])
            for host, ok in zip(wanted, results, strict=True):
                if ok:
                    lines.append(f"remote access: {who} -> {host} ok")
                    continue
                problems.append(f"{who} -> {host} fails")
                lines.append(f"remote access: {who} -> {host} FAILS: "
                             + _why(topology, index, layout, client, host))
    return lines, problems


def _why(topology: Topology, index: Index, layout: LabLayout, client: VpnClient, host: str) -> str:
    dst = layout.hosts.get(host)
    if dst is None:
        return "the host is not part of the lab"
    arrived = request_arrives_at(client.layout.ns, client.address, dst.ns, str(dst.address.ip))
    if not arrived:
        return f"the request was not delivered to {host}"
    spec = topology.vpn_servers[client.layout.server]
    routes = (*layout.pushes.get(dst.vxnet, ()), *layout.router_routes.get(dst.vpc, ()))
    back = [(d, nh) for d, nh in routes
            if netaddr.IPAddress(client.address) in netaddr.IPNetwork(d) and nh == str(spec.address)]
    hint = (f"the route push {back[0][0]} via {back[0][1]} is declared, yet the reply did not "
            "come back" if back else
            f"{host} has no route back to the client pool {spec.client_pool}: the topology pushes "
            f"no route {spec.client_pool} via {spec.address} ({client.layout.server}) to "
            f"{dst.vxnet} — a finding: add it to route_push of {dst.vpc}")
    return f"{host} got the request and answered, the reply was lost ({hint})"
