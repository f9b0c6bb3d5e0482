"""Interfaces: netplan for every NIC (extra NICs included), forwarding and rp_filter.

Policy routing: a packet the vCPE itself sends from an extra NIC's address (a reply to
a ping of 192.168.129.5, say) would otherwise follow the main table's default route out
of the primary NIC — into another vxnet, where the VPC router drops or misroutes it. Each
extra NIC gets its own table (100 + NIC index) and an ``ip rule from <nic address>``.
Forwarded traffic keeps its own sources, so it is unaffected.
"""

from __future__ import annotations

from typing import Any

from netweave.model.index import Index
from netweave.render.names import nic_name
from netweave.render.templating import render

NETPLAN = "/etc/netplan/60-netweave.yaml"
SYSCTL = "/etc/sysctl.d/90-netweave.conf"
TABLE_BASE = 100


def nic_contexts(index: Index, cloud: str, nics: list[tuple[str, Any, int | None]]) -> list[dict[str, Any]]:
    """nics: (vxnet, address, mtu) in NIC order; the first is the primary."""
    out = []
    for i, (vxnet, address, mtu) in enumerate(nics):
        cidr = index.vxnets[vxnet].cidr
        gateway = cidr.network + 1  # the VPC router sits at .1 of every vxnet
        out.append({
            "index": i, "name": nic_name(cloud, i), "vxnet": vxnet, "cidr": str(cidr),
            "address": str(address), "interface": f"{address}/{cidr.prefixlen}",
            "gateway": str(gateway), "mtu": mtu or 1500,
            # Vultr: the internet default route belongs to the public NIC (Vultr's own
            # config); a Vultr VPC has no router at .1 to send it to.
            "default_route": i == 0 and cloud == "qingcloud",
            "table": TABLE_BASE + i if i > 0 else None,
        })
    return out


def manifest_interfaces(nics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": n["name"], "nic": n["index"], "vxnet": n["vxnet"], "address": n["interface"],
             "mtu": n["mtu"], "gateway": n["gateway"], "default_route": n["default_route"]}
            for n in nics]


def policy_routing(nics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"table": n["table"], "from": n["address"], "interface": n["name"],
             "routes": [{"to": n["cidr"], "scope": "link"}, {"to": "0.0.0.0/0", "via": n["gateway"]}]}
            for n in nics if n["table"]]


def render_netplan(host: str, nics: list[dict[str, Any]]) -> str:
    return render("netplan.yaml.j2", host=host, nics=nics)


def render_sysctl(interfaces: list[str]) -> str:
    return render("sysctl.conf.j2", interfaces=interfaces)
