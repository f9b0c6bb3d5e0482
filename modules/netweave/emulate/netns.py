"""Namespaces and links. Every veth is created with both ends directly inside their
namespaces (``ip link add A netns X type veth peer name B netns Y``), so no topology
interface or address ever exists in the root namespace, not even for a moment."""

from __future__ import annotations

from collections.abc import Iterable

from netweave.emulate import shell
from netweave.emulate.layout import UNDERLAY_BRIDGE, LabLayout

UNDERLAY_IF = "inet0"  # the vCPE's leg on "the internet" (holds its public address)


def add_namespaces(names: Iterable[str]) -> None:
    shell.ip_batch([f"netns add {ns}" for ns in names])


def sysctl(ns: str, *settings: str) -> None:
    shell.run(shell.in_ns(ns, ["sysctl", "-qw", *settings]))


def build_skeleton(layout: LabLayout) -> None:
    """Bridges in the VPC router namespaces, veths to hosts and vCPE NICs, the underlay."""
    links: list[str] = []
    per_ns: dict[str, list[str]] = {ns: ["link set lo up"] for ns in layout.namespaces}
    for router in layout.routers.values():
        cmds = per_ns[router.ns]
        for bridge in router.bridges.values():
            cmds += [f"link add {bridge.name} type bridge", f"link set {bridge.name} up",
                     f"addr add {bridge.gateway} dev {bridge.name}"]
    for host in layout.hosts.values():
        router = layout.routers[host.vpc]
        links.append(f"link add {host.port} netns {router.ns} type veth peer name eth0 "
                     f"netns {host.ns}")
        per_ns[router.ns] += [f"link set {host.port} master {router.bridges[host.vxnet].name}",
                              f"link set {host.port} up"]
        per_ns[host.ns] += [f"link set eth0 address {host.mac}", "link set eth0 up"]
        if not host.dhcp:  # Vultr: cloud-init writes the static address and routes
            per_ns[host.ns] += [f"addr add {host.address} dev eth0",
                                f"route add default via {host.gateway}"]
    if layout.underlay_ns:
        per_ns[layout.underlay_ns] += [f"link add {UNDERLAY_BRIDGE} type bridge",
                                     f"link set {UNDERLAY_BRIDGE} up"]
    nodes = [(f"v{v}", vcpe) for v, vcpe in enumerate(layout.vcpes.values())]
    nodes += [(f"s{s}", server) for s, server in enumerate(layout.vpn_servers.values())]
    for key, vcpe in nodes:
        for nic in vcpe.nics:
            router = next(r for r in layout.routers.values() if r.ns == nic.router_ns)
            links.append(f"link add {nic.port} netns {router.ns} type veth peer name "
                         f"{nic.ifname} netns {vcpe.ns}")
            if nic.mac is not None:  # found by this MAC in the lab's metadata service
                per_ns[vcpe.ns].append(f"link set {nic.ifname} address {nic.mac}")
            per_ns[router.ns] += [f"link set {nic.port} master {router.bridges[nic.vxnet].name}",
                                  f"link set {nic.port} up"]
        if vcpe.public is not None:
            port = f"u{key}"
            links.append(f"link add {port} netns {layout.underlay_ns} type veth peer name "
                         f"{UNDERLAY_IF} netns {vcpe.ns}")
            per_ns[layout.underlay_ns] += [f"link set {port} master {UNDERLAY_BRIDGE}",
                                         f"link set {port} up"]
            per_ns[vcpe.ns] += [f"addr add {vcpe.public} dev {UNDERLAY_IF}",
                                f"link set {UNDERLAY_IF} up"]
    for client in layout.clients.values():
        links.append(f"link add {client.port} netns {layout.underlay_ns} type veth peer name "
                     f"{UNDERLAY_IF} netns {client.ns}")
        per_ns[layout.underlay_ns] += [f"link set {client.port} master {UNDERLAY_BRIDGE}",
                                     f"link set {client.port} up"]
        # the laptop's own internet connection: the VPN adds routes beside it
        per_ns[client.ns] += [f"addr add {client.address} dev {UNDERLAY_IF}",
                              f"link set {UNDERLAY_IF} up", f"route add default dev {UNDERLAY_IF}"]
    for router in layout.routers.values():  # route-table pushes: the VPC router forwards them
        per_ns[router.ns] += [f"route add {dest} via {hop}"
                              for dest, hop in layout.router_routes.get(router.vpc, ())]
    for n, router in enumerate(r for r in layout.routers.values() if r.wan is not None):
        # a site behind NAT: its home router's leg on the internet, masquerading the LAN
        links.append(f"link add un{n} netns {layout.underlay_ns} type veth peer name wan0 "
                     f"netns {router.ns}")
        per_ns[layout.underlay_ns] += [f"link set un{n} master {UNDERLAY_BRIDGE}", f"link set un{n} up"]
        per_ns[router.ns] += [f"addr add {router.wan} dev wan0", "link set wan0 up"]
    if layout.deployer_ns:  # the machine `pulumi up` runs on: on the internet, like a laptop
        from netweave.emulate.change import DEPLOYER_ADDRESS
        links.append(f"link add ud netns {layout.underlay_ns} type veth peer name {UNDERLAY_IF} "
                     f"netns {layout.deployer_ns}")
        per_ns[layout.underlay_ns] += [f"link set ud master {UNDERLAY_BRIDGE}", "link set ud up"]
        per_ns[layout.deployer_ns] += [f"addr add {DEPLOYER_ADDRESS}/15 dev {UNDERLAY_IF}",
                                     f"link set {UNDERLAY_IF} up"]
    shell.ip_batch(links)
    # bridges must exist before ports are enslaved: router namespaces first
    for ns, cmds in per_ns.items():
        shell.ip_batch(cmds, ns)
    for router in layout.routers.values():
        sysctl(router.ns, "net.ipv4.ip_forward=1")
        if router.wan is not None:
            shell.run(shell.in_ns(router.ns, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o",
                                              "wan0", "-j", "MASQUERADE"]))
