"""Interfaces: netplan for every NIC with a fixed address (extra NICs included),
forwarding and rp_filter.

Policy routing: a packet the vCPE itself sends from an extra NIC's address (a reply to
a ping of 192.168.129.5, say) would otherwise follow the main table's default route out
of the primary NIC — into another vxnet, where the VPC router drops or misroutes it. Each
extra NIC gets its own table (100 + NIC index) and an ``ip rule from <nic address>``.
Forwarded traffic keeps its own sources, so it is unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netweave.design import NicInterface
from netweave.render.templating import render

NETPLAN = "/etc/netplan/60-netweave.yaml"
SYSCTL = "/etc/sysctl.d/90-netweave.conf"


def nic_contexts(nics: Iterable[NicInterface]) -> list[dict[str, Any]]:
    """The design's NICs netweave configures (those with the address the topology gives),
    in NIC order, as the templates read them. A NIC whose address the cloud assigns
    (Vultr) is cloud-init's, found by MAC on the VM: ``render.vpc_nic``."""
    return [{"index": n.index, "name": n.name, "vxnet": n.vxnet, "cidr": str(n.cidr),
             "address": str(n.address), "interface": n.interface, "gateway": str(n.gateway),
             "mtu": n.mtu, "default_route": n.default_route, "table": n.table}
            for n in nics if not n.assigned_at_deploy]


def manifest_interfaces(nics: Iterable[NicInterface]) -> list[dict[str, Any]]:
    out = []
    for n in nics:
        if n.assigned_at_deploy:
            out.append({"name": None, "nic": n.index, "vxnet": n.vxnet, "address": None, "mtu": None,
                        "gateway": None, "default_route": False, "assigned_at_deploy": True,
                        "found_by": "MAC, from the cloud's metadata", "vpc": n.vpc,
                        "cidr": str(n.cidr)})
        else:
            out.append({"name": n.name, "nic": n.index, "vxnet": n.vxnet, "address": n.interface,
                        "mtu": n.mtu, "gateway": str(n.gateway), "default_route": n.default_route})
    return out


def policy_routing(nics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"table": n["table"], "from": n["address"], "interface": n["name"],
             "routes": [{"to": n["cidr"], "scope": "link"}, {"to": "0.0.0.0/0", "via": n["gateway"]}]}
            for n in nics if n["table"]]


def render_netplan(host: str, nics: list[dict[str, Any]]) -> str:
    return render("netplan.yaml.j2", host=host, nics=nics)


def render_sysctl(interfaces: list[str]) -> str:
    return render("sysctl.conf.j2", interfaces=interfaces)
