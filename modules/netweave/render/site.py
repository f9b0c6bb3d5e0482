"""A site's gateway: the Linux box the user runs outside every cloud (Debian 12 / Ubuntu).

netweave owns none of its NICs (no netplan): the file set holds the tunnels (WireGuard,
OpenVPN, strongSwan), forwarding, MSS clamping, FRR when the site speaks BGP, and an
install script. It is delivered as ``<site>.tar.gz`` with a one-line install command:
unpack at ``/``, run the script. Behind NAT the gateway dials every tunnel and keeps it
open (WireGuard/OpenVPN keepalives, IKE initiation, DPD and NAT-T keepalives).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from typing import Any

from netweave.design import SiteDesign, TunnelSide
from netweave.model.topology import Site
from netweave.render import firewall, frr, interfaces, ipsec
from netweave.render.artifacts import File, HostRender
from netweave.render.material import KeyMaterial
from netweave.render.qingcloud import MTIME
from netweave.render.templating import render
from netweave.render.tunnels import PeerEndpoint
from netweave.render.vcpe import openvpn_config, tunnel_manifest, tunnel_path, tunnel_units, wireguard_config

SCRIPT = "/etc/netweave/install.sh"
LAN_NIC = "lan0"  # what the lab calls the gateway's LAN interface; the user's box keeps its own


def archive_name(site: str) -> str:
    return f"{site}.tar.gz"


def install_command(site: str) -> str:
    return f"sudo tar -xzf {archive_name(site)} -C / && sudo sh {SCRIPT}"


def render_site(site: Site, design: SiteDesign, ends: list[tuple[TunnelSide, PeerEndpoint]],
                keys: KeyMaterial) -> HostRender:
    name = design.name
    tunnels = [t for t, _ in ends]
    host = HostRender(name, "site", "site")
    host.add(File(interfaces.SYSCTL, interfaces.render_sysctl([])))
    for t, endpoint in ends:
        if t.type == "ipsec":
            continue
        text = (wireguard_config(t, endpoint, keys) if t.type == "wireguard"
                else openvpn_config(t, endpoint, keys))
        host.add(File(tunnel_path(t), text, 0o600, secret=True))
    for f in ipsec.files(name, ends, keys, ""):
        host.add(f)
    host.add(File(firewall.RULES, firewall.render_rules([{"interface": t.interface, "mss": t.mss}
                                                         for t in tunnels])))
    host.add(File(firewall.UNIT, firewall.render_unit()))
    bgp = frr.bgp_context(design.bgp)
    statics = frr.static_routes(design.static_routes)
    uses_frr = bgp is not None or bool(statics)
    if uses_frr:
        host.add(File(frr.CONFIG, frr.render_frr(name, bgp, statics), 0o640))
    packages = ["iptables"]
    kinds = {t.type for t in tunnels}
    packages += ["wireguard-tools"] if "wireguard" in kinds else []
    packages += ["openvpn"] if "openvpn" in kinds else []
    packages += list(ipsec.PACKAGES) if "ipsec" in kinds else []
    packages += ["frr"] if uses_frr else []
    routes = sorted({str(p) for t in tunnels for p in t.peer_prefixes})
    host.add(File(SCRIPT, render("site-install.sh.j2", host=name, packages=sorted(packages),
                                 units=tunnel_units(tunnels), frr=uses_frr, script=SCRIPT,
                                 archive=archive_name(name), routes=routes,
                                 gateway=str(site.gateway)), 0o755))
    host.manifest = {
        "kind": "site", "cloud": "site",
        "interfaces": [{"name": LAN_NIC, "nic": 0, "vxnet": f"lan:{name}",
                        "address": f"{site.gateway}/{site.lan[0].prefixlen}", "mtu": 1500,
                        "gateway": None, "default_route": False}],
        "lan": [str(p) for p in site.lan], "gateway": str(site.gateway), "nat": site.nat,
        "tunnels": [tunnel_manifest(t, endpoint) for t, endpoint in ends],
        "frr": _frr_manifest(bgp) if uses_frr else None,
        "static_routes": statics,
        "sysctl": interfaces.SYSCTL,
        "iptables": firewall.RULES,
        "install": SCRIPT,
    }
    return host


def _frr_manifest(bgp: dict[str, Any] | None) -> dict[str, Any]:
    return {"config": frr.CONFIG, "daemons": list(frr.DAEMONS), "asn": bgp["asn"] if bgp else None,
            "neighbors": [{"address": p["address"], "asn": p["asn"], "peer": p["name"]}
                          for p in bgp["peers"]] if bgp else [],
            "timers": {"keepalive": frr.PRODUCTION.keepalive, "hold": frr.PRODUCTION.hold,
                       "connect": frr.PRODUCTION.connect},
            "lab_overrides": frr.lab_overrides(bgp)}


def deliver(host: HostRender) -> None:
    """The file set as a .tar.gz to unpack at ``/``, and the command that installs it."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for f in host.sorted_files():
            info = tarfile.TarInfo(f.path.lstrip("/"))
            info.size, info.mode, info.mtime = len(f.data), f.mode, MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(f.data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    host.artifacts[archive_name(host.name)] = out.getvalue()
    host.manifest["delivery"] = {"type": "site", "archive": archive_name(host.name),
                                 "install": install_command(host.name)}
