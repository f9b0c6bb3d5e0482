"""One vCPE: interfaces, tunnels, FRR, MSS clamping and the boot script."""

from __future__ import annotations

from typing import Any

from netweave.design import TunnelSide, VcpeDesign
from netweave.design.names import PUBLIC_NIC
from netweave.render import boot, firewall, frr, inplace, interfaces, ipsec, vpc_nic
from netweave.render.artifacts import File, HostRender
from netweave.render.material import PLACEHOLDER_LABEL, KeyMaterial
from netweave.render.templating import render
from netweave.render.tunnels import PeerEndpoint


def wireguard_config(t: TunnelSide, endpoint: PeerEndpoint, keys: KeyMaterial) -> str:
    allowed = [f"{t.peer_address.ip}/32", *(str(p) for p in t.peer_prefixes)]
    return render("wireguard.conf.j2", t=t, endpoint=endpoint, key=keys.wg(t.key_id),
                  peer_key=keys.wg(t.peer_key_id),
                  psk=keys.preshared(t.label) if t.psk else None, allowed_ips=allowed,
                  placeholder=keys.placeholder, placeholder_label=PLACEHOLDER_LABEL)


def openvpn_config(t: TunnelSide, endpoint: PeerEndpoint, keys: KeyMaterial) -> str:
    return render("openvpn-p2p.conf.j2", t=t, endpoint=endpoint,
                  identity=keys.tls_identity(t.key_id),
                  peer_identity=keys.tls_identity(t.peer_key_id),
                  placeholder=keys.placeholder, placeholder_label=PLACEHOLDER_LABEL)


def tunnel_path(t: TunnelSide) -> str:
    if t.type == "wireguard":
        return f"/etc/wireguard/{t.interface}.conf"
    if t.type == "ipsec":
        return ipsec.CONNECTIONS
    return f"/etc/openvpn/{t.interface}.conf"


def tunnel_unit(t: TunnelSide) -> str:
    if t.type == "ipsec":
        return ipsec.UNIT
    return f"wg-quick@{t.interface}" if t.type == "wireguard" else f"openvpn@{t.interface}"


def tunnel_units(tunnels: list[TunnelSide]) -> list[str]:
    """Units the boot script enables, in order: the XFRM interfaces before strongSwan."""
    units = ["netweave-xfrm.service"] if any(t.type == "ipsec" for t in tunnels) else []
    return list(dict.fromkeys([*units, *(tunnel_unit(t) for t in tunnels)]))


def render_vcpe(vcpe: VcpeDesign, ends: list[tuple[TunnelSide, PeerEndpoint]],
                keys: KeyMaterial) -> HostRender:
    name, cloud = vcpe.name, vcpe.cloud
    host = HostRender(name, "vcpe", cloud)
    tunnels = [t for t, _ in ends]

    nics = vpc_nic.add_interface_files(host, vcpe.nics)
    assigned = [n for n in vcpe.nics if n.assigned_at_deploy]

    for t, endpoint in ends:
        if t.type == "ipsec":
            continue  # one swanctl file for all of them, below
        text = (wireguard_config(t, endpoint, keys) if t.type == "wireguard"
                else openvpn_config(t, endpoint, keys))
        host.add(File(tunnel_path(t), text, 0o600, secret=True))
    for f in ipsec.files(name, ends, keys, PUBLIC_NIC[cloud]):
        host.add(f)
    clamps = [{"interface": t.interface, "mss": t.mss} for t in tunnels]
    host.add(File(firewall.RULES, firewall.render_rules(clamps)))
    host.add(File(firewall.UNIT, firewall.render_unit()))

    bgp = frr.bgp_context(vcpe.bgp)
    statics = frr.static_routes(vcpe.static_routes)
    uses_frr = bgp is not None or bool(statics)
    if uses_frr:
        host.add(File(frr.CONFIG, frr.render_frr(name, bgp, statics), 0o640))

    # netplan.io only where netweave renders netplan: never a second network manager
    # beside the image's own (Debian 12 on Vultr: ifupdown, as cloud-init found it).
    packages = ["iptables", *(["netplan.io"] if nics else [])]
    if any(t.type == "wireguard" for t in tunnels):
        packages.append("wireguard-tools")
    if any(t.type == "openvpn" for t in tunnels):
        packages.append("openvpn")
    if any(t.type == "ipsec" for t in tunnels):
        packages.extend(ipsec.PACKAGES)
    if uses_frr:
        packages.append("frr")
    host.add(boot.script(name, cloud, sorted(packages), tunnel_units(tunnels), uses_frr,
                         netplan=interfaces.NETPLAN if nics else None,
                         vpc_script=vpc_nic.SCRIPT if assigned else None,
                         underlay=underlay_checks(vcpe, ends)))
    if cloud == "vultr":
        host.add(boot.unit(name))

    host.manifest = {
        "kind": "vcpe", "cloud": cloud,
        "interfaces": interfaces.manifest_interfaces(vcpe.nics),
        "policy_routing": interfaces.policy_routing(nics),
        "tunnels": [tunnel_manifest(t, endpoint) for t, endpoint in ends],
        "frr": ({"config": frr.CONFIG, "daemons": list(frr.DAEMONS),
                 "asn": bgp["asn"] if bgp else None,
                 "neighbors": [{"address": p["address"], "asn": p["asn"], "peer": p["name"]}
                               for p in bgp["peers"]] if bgp else [],
                 "timers": {"keepalive": frr.PRODUCTION.keepalive, "hold": frr.PRODUCTION.hold,
                            "connect": frr.PRODUCTION.connect},
                 "lab_overrides": frr.lab_overrides(bgp)} if uses_frr else None),
        "static_routes": statics,
        "sysctl": interfaces.SYSCTL,
        "netplan": interfaces.NETPLAN if nics else None,
        "vpc_nic": vpc_nic.manifest(assigned),
        "iptables": firewall.RULES,
        "boot": boot.SCRIPT,
        "boot_unit": boot.UNIT if cloud == "vultr" else None,
        "status": boot.STATUS,
    }
    inplace.add_files(host, keys, nics,
                      [inplace.tunnel_entry("wg-quick" if t.type == "wireguard" else "openvpn",
                                            t.interface, tunnel_path(t), str(t.local_address), t.mtu)
                       # IPsec connections are reloaded as a whole (swanctl --load-all), not per tunnel
                       for t in tunnels if t.type != "ipsec"], sorted(packages), uses_frr)
    return host


def underlay_checks(vcpe: VcpeDesign, ends: list[tuple[TunnelSide, PeerEndpoint]]
                    ) -> list[boot.UnderlayCheck]:
    """Internet tunnels: the underlay MTU each was computed for, checked at boot."""
    return [boot.UnderlayCheck(t.interface, t.peer, endpoint.host, vcpe.cloud_name,
                               vcpe.underlay_mtu, t.mtu)
            for t, endpoint in ends if t.transport == "internet" and not endpoint.placeholder]


def tunnel_manifest(t: TunnelSide, endpoint: PeerEndpoint) -> dict[str, Any]:
    return {"name": t.label, "interface": t.interface, "type": t.type, "config": tunnel_path(t),
            "listen_port": t.listen_port, "local": str(t.local_address),
            "peer_address": str(t.peer_address), "peer": t.peer, "peer_endpoint": str(endpoint),
            "endpoint_placeholder": endpoint.placeholder, "transport": t.transport,
            "mtu": t.mtu, "mss": t.mss, "keepalive": t.keepalive, "unit": tunnel_unit(t),
            **({"if_id": t.if_id, "initiator": t.initiator, "secrets": ipsec.SECRETS,
                "settings": ipsec.SETTINGS, "xfrm": ipsec.XFRM_SCRIPT}
               if t.type == "ipsec" else {})}
