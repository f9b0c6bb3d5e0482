"""THE one place that writes static routes into a QingCloud DHCP option (router static
``static_type=3``, ``val2``). Everything here about the route key is an ASSUMPTION.

What is documented (yunify/qingcloud-docs, content/network/vpc/api/vpc_api/add_router_statics.md):
``val1`` is the instance id, ``val2`` "DHCP 配置内容，格式为key1=value1;key2=value2，例如：
domain-name-servers=8.8.8.8;fixed-address=192.168.1.2". The console's route push
("添加云服务器路由": 目标网络 + 路由 IP per instance, content/sd-wan/sdwan_new/qs/10_qs_2vxnet_access.md
步骤五) matches the shape of such a static, but no source shows the key it sends.

What was searched for that key (notes: /work/notes/qingcloud-facts.md §1b): qingcloud-docs (both
add_router_statics.md copies, the VPC and routing manuals, the VPC FAQ, the SD-WAN quick
starts), qingcloud-api-specs router.json, qingcloud-sdk-python and -go, qingcloud-cli, the
Terraform provider (and its vendored SDK), and code/issue/page searches for
``classless-static-routes``, ``rfc3442``, ``static-routes=``, ``路由推送``, ``添加云服务器路由``.
None names a route key. The only keys anywhere, ``domain-name-servers`` and ``fixed-address``,
are ISC dhcpd's names (an ``option`` and a host statement).

The assumption: ISC dhcpd's convention for option 121 (RFC 3442, classless static routes),
the name Debian's ISC client declares in /etc/dhcp/dhclient.conf
(``option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;``), its value
the RFC 3442 §2 encoding as comma-separated octets: per route the prefix length, the
significant octets of the destination, then the four octets of the router —
``rfc3442-classless-static-routes=24,172,17,0,192,168,128,2`` for 172.17.0.0/24 via 192.168.128.2.

Verify on a real account before trusting it: create one route in the console's
"添加云服务器路由" and read it back with DescribeRouterStatics (static_type=3) or
DescribeVxnetInstances (``dhcp_options``); then change ``ROUTE_KEY`` / ``encode`` here only.
The QingCloud emulator accepts exactly what ``encode`` writes and refuses anything else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

ROUTE_KEY = "rfc3442-classless-static-routes"
ASSUMPTION = (f"the DHCP option key {ROUTE_KEY!r} and its RFC 3442 octet encoding are not "
              "documented by QingCloud (add_router_statics.md documents only the key=value;... "
              "form); netweave assumes ISC dhcpd's convention")

Route = tuple[str, str]  # (destination CIDR, next-hop address)


def _octets(text: str) -> list[int]:
    return list(ipaddress.IPv4Address(text).packed)


def encode(routes: Iterable[Route]) -> str:
    """``[("172.17.0.0/24", "192.168.128.2")]`` -> the ``key=value`` item for ``val2``.

    Routes are sorted and deduplicated, so the same set always gives the same text."""
    values: list[int] = []
    for destination, next_hop in sorted(set(routes)):
        net = ipaddress.IPv4Network(destination)
        significant = (net.prefixlen + 7) // 8
        values += [net.prefixlen, *list(net.network_address.packed)[:significant], *_octets(next_hop)]
    if not values:
        raise ValueError("no routes to encode")
    return f"{ROUTE_KEY}=" + ",".join(str(v) for v in values)


def decode(item: str) -> list[Route]:
    """The routes of a ``key=value`` item ``encode`` wrote; ValueError for anything else
    (another key, another spelling, host bits, trailing octets)."""
    key, sep, value = item.partition("=")
    if key != ROUTE_KEY or not sep:
        raise ValueError(f"not a {ROUTE_KEY} item")
    try:
        octets = [int(v) for v in value.split(",")]
    except ValueError:
        raise ValueError(f"{ROUTE_KEY} is a comma-separated list of octets") from None
    if any(not 0 <= o <= 255 for o in octets):
        raise ValueError(f"{ROUTE_KEY} octets are 0-255")
    routes: list[Route] = []
    i = 0
    while i < len(octets):
        prefixlen = octets[i]
        if prefixlen > 32:
            raise ValueError(f"prefix length {prefixlen} is over 32")
        significant = (prefixlen + 7) // 8
        chunk = octets[i + 1:i + 1 + significant + 4]
        if len(chunk) != significant + 4:
            raise ValueError(f"{ROUTE_KEY} ends in the middle of a route")
        dest = bytes(chunk[:significant]) + bytes(4 - significant)
        net = ipaddress.IPv4Network((dest, prefixlen))  # host bits set: ValueError
        routes.append((str(net), str(ipaddress.IPv4Address(bytes(chunk[significant:])))))
        i += 1 + significant + 4
    if encode(routes) != item:
        raise ValueError(f"{ROUTE_KEY} is not in the canonical form netweave writes "
                         "(routes sorted, each once)")
    return routes
