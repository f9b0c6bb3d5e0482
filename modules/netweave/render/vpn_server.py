"""Remote-access VPN hosts: OpenVPN or WireGuard servers, and their client profiles.

Clients get addresses from ``client_pool`` (the VPC routes the pool to this host with a
route push) and routes to ``push_networks`` only — a split tunnel — unless the topology
says ``full_tunnel``. PPTP is refused: one account cannot log in from two places,
several clients behind one NAT cannot share a server (GRE), iOS/macOS dropped it, it
needs nf_conntrack_pptp/nf_conntrack_proto_gre or LCP times out, and MPPE is broken
cryptography. Use OpenVPN or WireGuard.
"""

from __future__ import annotations

from typing import Any

from netweave.design import VpnServerDesign
from netweave.design.tunnels import MSS_HEADERS
from netweave.model.topology import VpnServer
from netweave.render import boot, firewall, inplace, interfaces, vpc_nic
from netweave.render.artifacts import File, HostRender, RenderError
from netweave.render.material import PLACEHOLDER_LABEL, KeyMaterial
from netweave.render.templating import render

PPTP_REFUSED = (
    "PPTP is refused: one account cannot be logged in from two places; several clients "
    "behind one NAT cannot share a PPTP server (GRE has no ports); recent iOS/macOS dropped "
    "PPTP; the server needs the nf_conntrack_pptp/nf_conntrack_proto_gre modules or LCP "
    "negotiation times out; and MS-CHAPv2/MPPE is broken cryptography. Use type: openvpn "
    "(or wireguard) instead.")
RENDERED = ("openvpn", "wireguard")


def render_vpn_server(server: VpnServer, design: VpnServerDesign, endpoint: str,
                      keys: KeyMaterial) -> HostRender:
    name = design.name
    if server.type == "pptp":
        raise RenderError(f"vpn_servers.{name}: {PPTP_REFUSED}")
    if server.type not in RENDERED or design.port is None:
        raise RenderError(f"vpn_servers.{name}: type {server.type} is not rendered by netweave; "
                          "use type: openvpn or wireguard")
    cloud = design.cloud
    host = HostRender(name, "vpn_server", cloud)
    port, mtu, ifname = design.port, design.mtu, design.interface
    addresses = {client: str(address) for client, address in design.client_addresses}
    pool = server.client_pool
    common: dict[str, Any] = dict(host=name, port=port, mtu=mtu, full_tunnel=server.full_tunnel,
                                  placeholder=keys.placeholder, placeholder_label=PLACEHOLDER_LABEL,
                                  endpoint=endpoint)

    nics = vpc_nic.add_interface_files(host, design.nics)
    assigned = [n for n in design.nics if n.assigned_at_deploy]

    if server.type == "openvpn":
        if not server.clients:
            raise RenderError(f"vpn_servers.{name}: an OpenVPN server admits clients by their "
                              "certificate fingerprint; list at least one in 'clients'")
        server_id = keys.tls_identity(f"vpn/{name}")
        clients = [{"name": c, "fingerprint": keys.tls_identity(f"vpn/{name}/{c}").fingerprint}
                   for c in server.clients]
        config = f"/etc/openvpn/server/{ifname}.conf"
        host.add(File(config, render("openvpn-server.conf.j2", interface=ifname, pool=pool,
                                     push_networks=server.push_networks, clients=clients,
                                     identity=server_id, **common), 0o600, secret=True))
        unit_template = "openvpn-server"
        unit = f"{unit_template}@{ifname}"
        for c in server.clients:
            host.client_profiles[c] = render(
                "openvpn-client.ovpn.j2", client=c, identity=keys.tls_identity(f"vpn/{name}/{c}"),
                server_fingerprint=server_id.fingerprint, **common)
        package = "openvpn"
    else:
        server_key = keys.wg(f"vpn/{name}")
        clients = [{"name": c, "public_key": keys.wg(f"vpn/{name}/{c}").public_key,
                    "address": addresses[c]} for c in server.clients]
        config = f"/etc/wireguard/{ifname}.conf"
        host.add(File(config, render("wireguard-server.conf.j2", key=server_key, pool=pool,
                                     address=f"{pool.network + 1}/{pool.prefixlen}",
                                     clients=clients, **common), 0o600, secret=True))
        unit_template = "wg-quick"
        unit = f"{unit_template}@{ifname}"
        allowed = (["0.0.0.0/0"] if server.full_tunnel
                   else [str(pool), *(str(n) for n in server.push_networks)])
        for c in server.clients:
            host.client_profiles[c] = render(
                "wireguard-client.conf.j2", client=c, key=keys.wg(f"vpn/{name}/{c}"),
                address=addresses[c], server_public_key=server_key.public_key,
                allowed_ips=allowed, **common)
        package = "wireguard-tools"

    host.add(File(firewall.RULES, firewall.render_rules([{"interface": ifname,
                                                          "mss": mtu - MSS_HEADERS}])))
    host.add(File(firewall.UNIT, firewall.render_unit()))
    packages = sorted(["iptables", *(["netplan.io"] if nics else []), package])
    host.add(boot.script(name, cloud, packages, [unit], False,
                         netplan=interfaces.NETPLAN if nics else None,
                         vpc_script=vpc_nic.SCRIPT if assigned else None))
    if cloud == "vultr":
        host.add(boot.unit(name))
    host.manifest = {
        "kind": "vpn_server", "cloud": cloud,
        "interfaces": interfaces.manifest_interfaces(design.nics),
        "policy_routing": [],
        "tunnels": [],
        "vpn": {"type": server.type, "interface": ifname, "config": config, "unit": unit,
                "listen_port": port, "endpoint": f"{endpoint}:{port}", "client_pool": str(pool),
                "push_networks": [str(n) for n in server.push_networks],
                "full_tunnel": server.full_tunnel, "mtu": mtu, "clients": list(server.clients)},
        "frr": None,
        "static_routes": [],
        "sysctl": interfaces.SYSCTL,
        "netplan": interfaces.NETPLAN if nics else None,
        "vpc_nic": vpc_nic.manifest(assigned),
        "iptables": firewall.RULES,
        "boot": boot.SCRIPT,
        "boot_unit": boot.UNIT if cloud == "vultr" else None,
        "status": boot.STATUS,
    }
    # the server's own tunnel address is wg-quick's Address (or OpenVPN's); left as rendered
    inplace.add_files(host, keys, nics, [inplace.tunnel_entry(unit_template, ifname, config, None, None)],
                      packages, False)
    return host
