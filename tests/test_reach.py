"""The forwarding model: routing domains, routing tables, BGP, traces and pings."""

from __future__ import annotations

import netaddr

from modules.reach import routing_domains
from tests.reachlib import PAIR, edit, network, topology


def _domains(text: str) -> list[set[str]]:
    return routing_domains(*topology(text))


def _prefixes(text: str, node: str, source: str) -> set[str]:
    return {str(r.prefix) for r in network(text).rib(node) if r.source == source}


# --- routing domains ------------------------------------------------------------------

def test_bgp_tunnel_joins_the_vpcs_of_its_two_vcpes() -> None:
    assert _domains(PAIR) == [{"vpca", "vpcb"}]


def test_tunnel_without_bgp_or_static_route_joins_nothing() -> None:
    text = edit(PAIR, "    bgp: {asn: 65002, advertise: [10.2.1.0/24]}\n", "")
    assert _domains(text) == [{"vpca"}, {"vpcb"}]


def test_static_route_over_the_tunnel_joins_the_vpcs() -> None:
    text = edit(PAIR, "    bgp: {asn: 65002, advertise: [10.2.1.0/24]}\n",
                "    static_routes: [{destination: 10.1.1.0/24, next_hop: 169.254.1.1}]\n")
    assert _domains(text) == [{"vpca", "vpcb"}]


def test_vcpe_with_nics_in_two_vpcs_joins_them() -> None:
    text = edit(PAIR.split("tunnels:")[0], "    nics: [{vxnet: neta, address: 10.1.1.2}]",
                "    nics: [{vxnet: neta, address: 10.1.1.2}, {vxnet: netb, address: 10.2.1.9}]")
    assert _domains(text) == [{"vpca", "vpcb"}]


def test_unconnected_vpcs_are_separate_domains() -> None:
    text = PAIR.split("tunnels:")[0]
    assert _domains(text) == [{"vpca"}, {"vpcb"}]


# --- routing tables -------------------------------------------------------------------

def test_vcpe_has_connected_vxnet_and_tunnel() -> None:
    assert _prefixes(PAIR, "ra", "connected") == {"10.1.1.0/24", "169.254.1.0/30"}


def test_vcpe_learns_the_peers_advertisement_over_bgp() -> None:
    (route,) = [r for r in network(PAIR).rib("ra") if r.source == "bgp"]
    assert (str(route.prefix), route.via, route.learned_from, route.path) == (
        "10.2.1.0/24", "169.254.1.2", "rb", ("vcpes", "rb", "bgp", "advertise", 0))


def test_vcpe_default_route_goes_to_its_primary_vpc_router() -> None:
    (route,) = [r for r in network(PAIR).rib("ra") if r.source == "default"]
    assert (str(route.prefix), route.via) == ("0.0.0.0/0", "10.1.1.1")


def test_host_gets_the_route_push_of_its_vxnet() -> None:
    (route,) = [r for r in network(PAIR).rib("ha") if r.source == "route_push"]
    assert (str(route.prefix), route.via, route.path) == (
        "10.2.1.0/24", "10.1.1.2", ("vpcs", "vpca", "route_push", 0))


def test_vpc_router_has_only_its_connected_vxnets() -> None:
    assert [(str(r.prefix), r.source) for r in network(PAIR).rib("vpca")] == [
        ("10.1.1.0/24", "connected")]


def test_static_route_without_next_hop_goes_out_of_the_connected_nic() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}",
                "    bgp: {asn: 65001}\n    static_routes: [{destination: 10.1.1.0/24, advertise: true}]")
    (route,) = [r for r in network(text).rib("ra") if r.source == "static"]
    assert route.via == "neta"


def test_rib_of_an_unknown_node_is_empty() -> None:
    assert network(PAIR).rib("nobody") == []


def test_lookup_takes_the_longest_prefix() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}",
                "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}\n"
                "    static_routes: [{destination: 10.2.1.128/25, next_hop: 10.1.1.7}]")
    net = network(text)
    assert net.lookup("ra", netaddr.IPAddress("10.2.1.200")).source == "static"
    assert net.lookup("ra", netaddr.IPAddress("10.2.1.100")).source == "bgp"
    assert net.lookup("ra", netaddr.IPAddress("8.8.8.8")).source == "default"
