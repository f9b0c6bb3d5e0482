"""Lint rules: vpn (V5xx) — tunnel MTU, PPTP, client pools, full tunnels.

Literal secrets (V504) are refused earlier, in the schema stage
(:mod:`netweave.lint.schema`), so that they never reach the model.
"""

from __future__ import annotations

from collections.abc import Iterator

from netweave.design.tunnels import OVERHEAD_BY_VERSION
from netweave.lint import Context
from netweave.lint.findings import Finding, finding
from netweave.lint.overlaps import overlap_findings

# Bytes a tunnel adds to every packet, over an IPv4 / IPv6 underlay: the design's figures
# (the default tunnel MTU is computed from the same table).
OVERHEAD = OVERHEAD_BY_VERSION

PPTP_REASONS = (
    "MS-CHAPv2 and MPPE are broken: a captured login can be cracked offline and the "
    "traffic decrypted",
    "it carries data in GRE, which most NATs cannot track: several clients behind one NAT "
    "cannot use the server at once",
    "one account cannot be logged in from two places",
    "iOS and macOS dropped PPTP, so those users cannot connect at all",
    "the server needs the nf_conntrack_pptp / nf_conntrack_proto_gre kernel modules, or "
    "the LCP negotiation times out",
)


def check(ctx: Context) -> Iterator[Finding]:
    yield from _tunnel_mtu(ctx)
    yield from _ipsec_options(ctx)
    yield from _vpn_servers(ctx)
    yield from _client_pool_return(ctx)
    yield from (f for f in overlap_findings(ctx) if f.code == "V503")


def _tunnel_mtu(ctx: Context) -> Iterator[Finding]:
    topo = ctx.topology
    for i, tunnel in enumerate(topo.tunnels):
        ends = [e.node for e in tunnel.ends]
        if len(ends) != 2 or any(n not in topo.sites and (n not in topo.vcpes or not topo.vcpes[n].nics)
                                 for n in ends):
            continue  # R307 explains the tunnel itself
        if any(n in topo.vcpes and topo.vcpes[n].nics[0].vxnet not in ctx.index.vxnets for n in ends):
            continue
        (mtu_a, cloud_a), (mtu_b, cloud_b) = (ctx.index.underlay(n) for n in ends)
        underlay = min(mtu_a, mtu_b)
        narrow = cloud_a if mtu_a <= mtu_b else cloud_b
        overhead = OVERHEAD[tunnel.type][4]  # the public underlay is IPv4
        fits = underlay - overhead
        label = tunnel.label(i)
        if tunnel.mtu is not None and tunnel.mtu > fits:
            yield finding("V501", f"tunnel {label} ({tunnel.type}) has MTU {tunnel.mtu}, but its "
                          f"underlay carries {underlay} bytes ({narrow}) and {tunnel.type} adds "
                          f"{overhead}: full-size packets would be fragmented or dropped"
                          + (" (ESP with padding, and NAT traversal's UDP header)"
                             if tunnel.type == "ipsec" else ""),
                          ("tunnels", i, "mtu"),
                          f"use mtu: {fits} (the largest that fits), or leave it out for that default")
        elif tunnel.mtu is None and fits < 1280:
            yield finding("V501", f"tunnel {label} ({tunnel.type}) gets MTU {fits} from an underlay of "
                          f"{underlay} bytes ({narrow}): below 1280, IPv6 and many "
                          "applications fail over it",
                          ("sites", narrow[5:], "mtu") if narrow.startswith("site ")
                          else ("clouds", narrow[6:], "mtu"),
                          f"raise the underlay MTU to at least {1280 + overhead}")


def _ipsec_options(ctx: Context) -> Iterator[Finding]:
    """V508: IKE listens on UDP 500 and ESP-in-UDP on 4500 at both ends: an IPsec peer (an
    on-prem firewall, the QingCloud VPC router) offers no port to choose."""
    for i, tunnel in enumerate(ctx.topology.tunnels):
        if tunnel.type == "ipsec" and tunnel.port is not None:
            yield finding("V508", f"tunnel {tunnel.label(i)} is IPsec but sets port {tunnel.port}: "
                          "IKE uses UDP 500 and NAT traversal UDP 4500 at both ends, and the "
                          "peers netweave talks to offer no other", ("tunnels", i, "port"),
                          "remove port (open UDP 500, UDP 4500 and ESP where a firewall is in between)")


def _vpn_servers(ctx: Context) -> Iterator[Finding]:
    for name, vpn in ctx.topology.vpn_servers.items():
        path = ("vpn_servers", name)
        if vpn.type == "pptp":
            yield finding("V502", f"VPN server {name} uses PPTP, which netweave refuses as insecure "
                          f"and unreliable: {'; '.join(PPTP_REASONS)}", (*path, "type"),
                          "use type: openvpn (or wireguard); both work through NAT, from "
                          "several places per user, and on iOS/macOS")
        if vpn.type == "l2tp":
            yield finding("V506", f"VPN server {name} is L2TP/IPsec, which netweave does not render "
                          "(no strongSwan/xl2tpd configuration): the host would boot without a "
                          "VPN service, and lint would be the last thing to pass",
                          (*path, "type"),
                          "use type: openvpn or wireguard; for L2TP/IPsec use the QingCloud VPC "
                          "router's own VPN service (at the VPC's EIP), outside netweave")
        if vpn.full_tunnel:
            yield finding("V505", f"VPN server {name} is full-tunnel: every client's internet "
                          "traffic goes through the VPC (bandwidth, EIP costs, and clients lose "
                          "their local network)", (*path, "full_tunnel"),
                          "prefer a split tunnel: list the VPC networks in push_networks")
        if vpn.vxnet in ctx.index.vxnets:
            vpc_name = ctx.index.vpc_of(vpn.vxnet)
            vpc_cidr = ctx.topology.vpcs[vpc_name].cidr
            pool = vpn.client_pool
            if pool.version == vpc_cidr.version and (pool in vpc_cidr or vpc_cidr in pool):
                yield finding("V503", f"the client pool {pool} of VPN server {name} overlaps its "
                              f"VPC {vpc_name} ({vpc_cidr}): the VPC treats those addresses as "
                              "its own, so replies to clients never reach the VPN server",
                              (*path, "client_pool"),
                              f"pick a pool outside {vpc_cidr}, e.g. 10.99.0.0/24")
        for j, pushed in enumerate(vpn.push_networks):
            if pushed.version == vpn.client_pool.version and (
                    pushed in vpn.client_pool or vpn.client_pool in pushed):
                yield finding("V503", f"VPN server {name} pushes {pushed} to its clients, which "
                              f"overlaps their own pool {vpn.client_pool}", (*path, "push_networks", j),
                              "push the VPC networks, not the client pool")
        if vpn.mtu is not None and vpn.type in OVERHEAD and vpn.vxnet in ctx.index.vxnets:
            cloud_name, cloud = ctx.index.cloud_of_vxnet(vpn.vxnet)
            fits = cloud.mtu - OVERHEAD[vpn.type][4]
            if vpn.mtu > fits:
                yield finding("V501", f"VPN server {name} ({vpn.type}) has MTU {vpn.mtu}, but its "
                              f"underlay carries {cloud.mtu} bytes (cloud {cloud_name}) and "
                              f"{vpn.type} adds {OVERHEAD[vpn.type][4]}", (*path, "mtu"),
                              f"use mtu: {fits} or less")


def _client_pool_return(ctx: Context) -> Iterator[Finding]:
    """V507: a host inside a pushed network must route the client pool back to the VPN
    server (the server does not NAT its clients), or clients' requests arrive and the
    replies are lost. One finding per (server, pushed network, vxnet), not per host."""
    topo, index = ctx.topology, ctx.index
    for name, vpn in topo.vpn_servers.items():
        if vpn.type not in ("openvpn", "wireguard"):
            continue
        if vpn.vxnet in index.vxnets:
            own = topo.vpcs[index.vpc_of(vpn.vxnet)].cidr
            if own.version == vpn.client_pool.version and (
                    vpn.client_pool in own or own in vpn.client_pool):
                continue  # V503: the pool overlaps its own VPC, the root cause
        client = vpn.client_pool.network + (2 if vpn.client_pool.size > 2 else 0)
        for j, pushed in enumerate(vpn.push_networks):
            seen: set[str] = set()
            for host_name, host in topo.hosts.items():
                if host.address.version != pushed.version or host.address not in pushed \
                        or host.vxnet in seen or host.vxnet not in index.vxnets:
                    continue
                seen.add(host.vxnet)
                back = ctx.network.trace_address(host_name, client)
                if back.delivered:
                    continue
                vpc = index.vpc_of(host.vxnet)
                if vpn.address is None and host.vxnet == vpn.vxnet:  # assigned at deploy (Vultr)
                    hint = (f"add to vpcs.{vpc}.route_push: {{destination: {vpn.client_pool}, "
                            f"next_hop: {name}}}")
                elif vpn.address is not None and vpn.address in index.vxnets[host.vxnet].cidr:
                    hint = (f"add to vpcs.{vpc}.route_push: {{destination: {vpn.client_pool}, "
                            f"next_hop: {vpn.address}}}")
                else:
                    hint = (f"{host.vxnet} cannot reach {name} directly: route the pool from a "
                            f"vCPE there, or give {name} a NIC in {host.vxnet}")
                yield finding("V507", f"VPN server {name} pushes {pushed} to its clients, but "
                              f"replies from {host.vxnet} (e.g. {host_name}) to the client pool "
                              f"{vpn.client_pool} have no way back: {back.failure}",
                              ("vpn_servers", name, "push_networks", j), hint)
