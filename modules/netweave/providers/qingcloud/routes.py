"""The ``routes`` input both route push mechanisms share: ``[{destination, next_hop}]``,
compared as a set of (destination, next hop)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netaddr


def route_key(route: Mapping[str, Any]) -> tuple[str, str]:
    return str(route.get("destination")), str(route.get("next_hop"))


def comparable_routes(routes: Any) -> Any:
    if not isinstance(routes, list):
        return routes
    return sorted({route_key(r) for r in routes if isinstance(r, Mapping)})


def routes_problems(routes: Any) -> list[tuple[str, str]]:
    if routes is None:
        return []
    if not isinstance(routes, list):
        return [("routes", "routes is a list of {destination, next_hop}")]
    problems = []
    for i, route in enumerate(routes):
        try:
            net = netaddr.IPNetwork(str(route["destination"]))
            if net.version != 4:
                problems.append(("routes", f"routes[{i}].destination {net}: QingCloud routes are IPv4"))
            elif net.ip != net.network:
                problems.append(("routes", f"routes[{i}].destination {net} has host bits set: "
                                           f"did you mean {net.cidr}?"))
            netaddr.IPAddress(str(route["next_hop"]), 4, flags=netaddr.INET_PTON)
        except (KeyError, TypeError, netaddr.AddrFormatError, ValueError):
            problems.append(("routes", f"routes[{i}] must be {{destination: CIDR, next_hop: IPv4 address}}"))
    return problems
