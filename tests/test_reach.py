"""The forwarding model: routing domains, routing tables, BGP, traces and pings."""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest
from netweave.forwarding.reach import Network, routing_domains
from netweave.lint.schema import validate
from netweave.model.index import Index
from netweave.model.source import load

from tests.support.reachlib import PAIR, edit, network, topology


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


# --- BGP ------------------------------------------------------------------------------

# A chain a - b - c: vCPE rb sits between ra and rc (used for transit and AS-path tests).
CHAIN = PAIR.replace("hosts:", """  vpcc:
    cloud: qc
    cidr: 10.3.0.0/16
    vxnets:
      netc: {cidr: 10.3.1.0/24}
hosts:""").replace("tunnels:", """  rc:
    nics: [{vxnet: netc, address: 10.3.1.2}]
    bgp: {asn: 65003, advertise: [10.3.1.0/24]}
tunnels:""") + """  - name: rb-rc
    ends:
      - {vcpe: rb, address: 169.254.2.1/30}
      - {vcpe: rc, address: 169.254.2.2/30}
"""


def test_bgp_does_not_export_a_connected_prefix_that_is_not_declared() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}", "    bgp: {asn: 65001}")
    assert _prefixes(text, "rb", "bgp") == set()


def test_bgp_does_not_announce_a_declared_prefix_without_a_route() -> None:
    text = edit(PAIR, "advertise: [10.1.1.0/24]", "advertise: [10.1.1.0/24, 10.9.0.0/24]")
    assert _prefixes(text, "rb", "bgp") == {"10.1.1.0/24"}


def test_static_route_marked_advertise_is_announced() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}",
                "    bgp: {asn: 65001}\n    static_routes: [{destination: 10.1.1.0/24, advertise: true}]")
    assert _prefixes(text, "rb", "bgp") == {"10.1.1.0/24"}


def test_transit_vcpe_passes_on_only_what_it_declares() -> None:
    assert "10.1.1.0/24" not in _prefixes(CHAIN, "rc", "bgp")


def test_transit_vcpe_passes_on_a_declared_learned_prefix_with_its_as_path() -> None:
    text = edit(CHAIN, "advertise: [10.2.1.0/24]", "advertise: [10.2.1.0/24, 10.1.1.0/24]")
    (route,) = [r for r in network(text).rib("rc") if str(r.prefix) == "10.1.1.0/24"]
    assert (route.learned_from, route.as_path) == ("rb", (65002, 65001))


def test_bgp_rejects_a_path_that_contains_its_own_as() -> None:
    text = edit(CHAIN, "advertise: [10.2.1.0/24]", "advertise: [10.2.1.0/24, 10.1.1.0/24]")
    text = edit(text, "asn: 65003", "asn: 65001")
    assert "10.1.1.0/24" not in _prefixes(text, "rc", "bgp")


def test_missing_route_explains_an_as_path_loop() -> None:
    text = edit(CHAIN, "advertise: [10.2.1.0/24]", "advertise: [10.2.1.0/24, 10.1.1.0/24]")
    text = edit(text, "asn: 65003", "asn: 65001")
    why, path = network(text).why_unrouted("rc", netaddr.IPAddress("10.1.1.3"))
    assert "already contains rc's own AS 65001" in why
    assert path == ("vcpes", "rc", "bgp", "asn")


def test_bgp_prefers_the_shortest_as_path() -> None:
    text = edit(CHAIN, "advertise: [10.2.1.0/24]", "advertise: [10.2.1.0/24, 10.1.1.0/24]") + """\
  - name: ra-rc
    ends:
      - {vcpe: ra, address: 169.254.3.1/30}
      - {vcpe: rc, address: 169.254.3.2/30}
"""
    (route,) = [r for r in network(text).rib("rc") if str(r.prefix) == "10.1.1.0/24"]
    assert (route.learned_from, route.as_path) == ("ra", (65001,))


def test_bgp_breaks_ties_by_lowest_peer_name() -> None:
    # rc reaches 10.2.1.0/24 from rb directly; a second, equally long path from ra.
    text = edit(CHAIN, "advertise: [10.1.1.0/24]", "advertise: [10.1.1.0/24]") + """\
  - name: ra-rc
    ends:
      - {vcpe: ra, address: 169.254.3.1/30}
      - {vcpe: rc, address: 169.254.3.2/30}
"""
    text = edit(text, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}",
                "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}\n"
                "    static_routes: [{destination: 10.2.1.0/24, next_hop: 169.254.1.2, advertise: true}]")
    (route,) = [r for r in network(text).rib("rc") if str(r.prefix) == "10.2.1.0/24"]
    assert route.learned_from == "ra"


def test_connected_route_wins_over_bgp_for_the_same_prefix() -> None:
    text = edit(PAIR, "advertise: [10.2.1.0/24]", "advertise: [10.2.1.0/24, 10.1.1.0/24]")
    text = edit(text, "    nics: [{vxnet: netb, address: 10.2.1.2}]",
                "    nics: [{vxnet: netb, address: 10.2.1.2}, {vxnet: neta, address: 10.1.1.9}]")
    net = network(text)
    assert net.lookup("ra", netaddr.IPAddress("10.1.1.3")).source == "connected"


# --- traces ---------------------------------------------------------------------------

def test_ping_across_the_tunnel_works_both_ways() -> None:
    ping = network(PAIR).ping("ha", "hb")
    assert (ping.forward.delivered, ping.back.delivered, ping.reachable) == (True, True, True)


def test_trace_names_every_hop_and_its_route() -> None:
    trace = network(PAIR).trace("ha", "hb")
    assert [(h.node, h.action) for h in trace.hops] == [
        ("ha", "route push 10.2.1.0/24 via 10.1.1.2"),
        ("ra", "bgp 10.2.1.0/24 from rb"),
        ("tunnel:ra-rb", "wireguard ra -> rb"),
        ("rb", "connected netb"),
        ("hb", "deliver")]


def test_host_reaches_another_vxnet_of_its_vpc_by_the_default_route() -> None:
    text = edit(PAIR, "      neta: {cidr: 10.1.1.0/24}",
                "      neta: {cidr: 10.1.1.0/24}\n      neta2: {cidr: 10.1.2.0/24}")
    text = edit(text, "hosts:\n", "hosts:\n  ha2: {vxnet: neta2, address: 10.1.2.3}\n")
    trace = network(text).trace("ha", "ha2")
    assert trace.summary() == "ha -> vpca (default via 10.1.1.1) -> ha2"


def test_vcpe_static_route_via_the_vpc_router_reaches_another_vxnet() -> None:
    text = edit(PAIR, "      neta: {cidr: 10.1.1.0/24}",
                "      neta: {cidr: 10.1.1.0/24}\n      neta2: {cidr: 10.1.2.0/24}")
    text = edit(text, "hosts:\n", "hosts:\n  ha2: {vxnet: neta2, address: 10.1.2.3}\n")
    text = edit(text, "advertise: [10.1.1.0/24]", "advertise: [10.1.0.0/16]")
    text = edit(text, "    nics: [{vxnet: neta, address: 10.1.1.2}]",
                "    nics: [{vxnet: neta, address: 10.1.1.2}]\n"
                "    static_routes: [{destination: 10.1.0.0/16, next_hop: 10.1.1.1}]")
    text = edit(text, "{destination: 10.1.1.0/24, next_hop: 10.2.1.2}",
                "{destination: 10.1.0.0/16, next_hop: 10.2.1.2}")
    trace = network(text).trace("hb", "ha2")
    assert trace.delivered, trace.failure
    assert [h.node for h in trace.hops] == ["hb", "rb", "tunnel:ra-rb", "ra", "vpca", "ha2"]


def test_missing_route_push_fails_at_the_vm_and_blames_the_vpc_route_push() -> None:
    text = edit(PAIR, "    route_push:\n      - {destination: 10.1.1.0/24, next_hop: 10.2.1.2}\n",
                "    route_push: []\n")
    trace = network(text).trace("hb", "ha")
    assert trace.failure == ("hb -> ha dies at hb: no route push for 10.1.1.0/24 in netb, default "
                             "route goes to VPC router vpcb which has no route to 10.1.1.3")
    assert trace.failure_path == ("vpcs", "vpcb", "route_push")


def test_reply_without_return_route_breaks_the_ping() -> None:
    text = edit(PAIR, "    route_push:\n      - {destination: 10.1.1.0/24, next_hop: 10.2.1.2}\n",
                "    route_push: []\n")
    ping = network(text).ping("ha", "hb")
    assert ping.forward.delivered and not ping.back.delivered and not ping.reachable
    assert ping.back.failure is not None and ping.back.failure.startswith("reply hb -> ha dies at hb:")


def test_unadvertised_prefix_fails_at_the_vcpe_and_blames_the_peer_advertisement() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}", "    bgp: {asn: 65001}")
    trace = network(text).trace("hb", "ha")
    assert trace.failure == ("hb -> ha dies at rb: no route to 10.1.1.3 (ra does not advertise "
                             "10.1.1.0/24 to it); its default route goes to VPC router vpcb, "
                             "which has no route to it either")
    assert trace.failure_path == ("vcpes", "ra", "bgp", "advertise")


def test_route_push_to_a_next_hop_nobody_holds_is_a_black_hole() -> None:
    text = edit(PAIR, "next_hop: 10.1.1.2}", "next_hop: 10.1.1.20}")
    trace = network(text).trace("ha", "hb")
    assert trace.failure_at == "ha" and "black hole" in (trace.failure or "")
    assert trace.failure_path == ("vpcs", "vpca", "route_push", 0)


def test_route_push_to_a_workload_vm_dies_there() -> None:
    text = edit(PAIR, "next_hop: 10.1.1.2}", "next_hop: 10.1.1.3}")
    text = edit(text, "hosts:\n", "hosts:\n  ha3: {vxnet: neta, address: 10.1.1.4}\n")
    trace = network(text).trace("ha3", "hb")
    assert "is workload VM ha, which does not forward packets" in (trace.failure or "")


def test_static_routes_pointing_at_each_other_are_a_loop() -> None:
    text = edit(PAIR, "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}",
                "    bgp: {asn: 65001, advertise: [10.1.1.0/24]}\n"
                "    static_routes: [{destination: 10.9.0.0/16, next_hop: 169.254.1.2}]")
    text = edit(text, "    bgp: {asn: 65002, advertise: [10.2.1.0/24]}",
                "    bgp: {asn: 65002, advertise: [10.2.1.0/24]}\n"
                "    static_routes: [{destination: 10.9.0.0/16, next_hop: 169.254.1.1}]")
    text = edit(text, "      - {destination: 10.2.1.0/24, next_hop: 10.1.1.2}",
                "      - {destination: 10.2.1.0/24, next_hop: 10.1.1.2}\n"
                "      - {destination: 10.9.0.0/16, next_hop: 10.1.1.2}")
    trace = network(text).trace_address("ha", netaddr.IPAddress("10.9.0.5"))
    assert trace.loop and not trace.delivered
    assert "routing loop ra -> rb -> ra for 10.9.0.5" in (trace.failure or "")


# --- security groups ------------------------------------------------------------------

def _with_group(rules: str) -> str:
    text = edit(PAIR, "  hb: {vxnet: netb, address: 10.2.1.3}",
                "  hb: {vxnet: netb, address: 10.2.1.3, security_groups: [web]}")
    return text + f"security_groups:\n  web:\n    rules:\n{rules}"


def test_security_group_accepting_icmp_from_the_sender_lets_the_ping_in() -> None:
    text = _with_group("      - {protocol: icmp, source: 10.1.0.0/16}\n")
    assert network(text).ping("ha", "hb").reachable


def test_security_group_without_an_icmp_rule_drops_the_ping() -> None:
    text = _with_group("      - {protocol: tcp, ports: '22', source: 10.1.0.0/16}\n")
    trace = network(text).trace("ha", "hb")
    assert not trace.delivered and trace.failure_at == "hb"
    assert trace.failure_path == ("hosts", "hb", "security_groups")


def test_security_group_drop_rule_before_an_accept_wins() -> None:
    text = _with_group("      - {action: drop, protocol: any, source: 10.1.1.0/24}\n"
                       "      - {protocol: icmp, source: 0.0.0.0/0}\n")
    trace = network(text).trace("ha", "hb")
    assert trace.failure_path == ("security_groups", "web", "rules", 0)


def test_security_group_source_must_contain_the_sender() -> None:
    text = _with_group("      - {protocol: icmp, source: 10.7.0.0/16}\n")
    assert not network(text).trace("ha", "hb").delivered


def test_security_groups_are_stateful_so_the_reply_passes() -> None:
    text = _with_group("      - {protocol: tcp, ports: '22'}\n")
    assert network(text).ping("hb", "ha").reachable


# --- the scenarios ---------------------------------------------------------------------

def _stack(stacks_dir: Path, name: str) -> Network:
    result = validate(load(stacks_dir / name))
    assert result.topology is not None
    return Network.build(result.topology, Index.build(result.topology))


@pytest.mark.parametrize("stack", ["s1-one-to-one.yaml", "s2-many-to-many.yaml",
                                   "s3-hybrid-vultr.yaml"])
def test_every_intent_pair_of_the_scenarios_is_reachable_both_ways(stacks_dir: Path,
                                                                    stack: str) -> None:
    net = _stack(stacks_dir, stack)
    intent = net.topology.intent
    assert intent is not None and intent.must_reach
    for pair in intent.must_reach:
        for a in net.index.hosts_in(pair.from_):
            for b in net.index.hosts_in(pair.to):
                assert net.ping(a, b).reachable, net.ping(a, b).forward.failure
                assert net.ping(b, a).reachable, net.ping(b, a).back.failure


def test_s2_path_from_vm03_uses_the_extra_nic_and_the_tunnel(stacks_dir: Path) -> None:
    trace = _stack(stacks_dir, "s2-many-to-many.yaml").trace("vm03", "vm02")
    assert trace.summary() == "vm03 -> vcpe01 (route push via 192.168.129.5) -> tunnel -> vcpe02 -> vm02"


def test_s2_every_host_pair_is_reachable(stacks_dir: Path) -> None:
    assert all(p.reachable for p in _stack(stacks_dir, "s2-many-to-many.yaml").matrix())


def test_matrix_has_every_ordered_pair_of_distinct_hosts(stacks_dir: Path) -> None:
    pairs = [(p.src, p.dst) for p in _stack(stacks_dir, "s2-many-to-many.yaml").matrix()]
    assert len(pairs) == len(set(pairs)) == 6


def test_a_host_address_held_twice_is_delivered_to_the_wrong_node() -> None:
    text = edit(PAIR, "  hb: {vxnet: netb, address: 10.2.1.3}",
                "  hb: {vxnet: netb, address: 10.2.1.3}\n  hc: {vxnet: netc, address: 10.1.1.3}")
    text = edit(text, "      netb: {cidr: 10.2.1.0/24}",
                "      netb: {cidr: 10.2.1.0/24}\n      netc: {cidr: 10.1.1.0/24}")
    trace = network(text).trace("ha", "hc")
    assert not trace.delivered and trace.failure_at == "ha"


VPN = edit(PAIR, "hosts:\n", """vpn_servers:
  ovpn: {type: openvpn, vxnet: neta, address: 10.1.1.9, client_pool: 10.99.0.0/24}
hosts:
""")


def test_vpn_server_routes_for_its_client_pool() -> None:
    text = edit(VPN, "      - {destination: 10.2.1.0/24, next_hop: 10.1.1.2}",
                "      - {destination: 10.2.1.0/24, next_hop: 10.1.1.2}\n"
                "      - {destination: 10.99.0.0/24, next_hop: 10.1.1.9}")
    trace = network(text).trace_address("ha", netaddr.IPAddress("10.99.0.7"))
    assert trace.delivered, trace.failure
    assert [h.node for h in trace.hops] == ["ha", "ovpn"]


def test_vpn_client_pool_is_unreachable_without_a_route_push() -> None:
    trace = network(VPN).trace_address("ha", netaddr.IPAddress("10.99.0.7"))
    assert not trace.delivered and trace.failure_at == "ha"


def test_missing_route_blames_the_transit_vcpe_that_does_not_pass_it_on() -> None:
    why, path = network(CHAIN).why_unrouted("rc", netaddr.IPAddress("10.1.1.3"))
    assert why == "rb does not advertise 10.1.1.0/24 to it"
    assert path == ("vcpes", "rb", "bgp", "advertise")


def test_missing_route_explains_an_advertisement_without_an_exact_route() -> None:
    text = edit(PAIR, "advertise: [10.1.1.0/24]", "advertise: [10.1.0.0/16]")
    why, path = network(text).why_unrouted("rb", netaddr.IPAddress("10.1.1.3"))
    assert "ra declares 10.1.0.0/16 but has no route for exactly 10.1.0.0/16" in why
    assert path == ("vcpes", "ra", "bgp", "advertise", 0)
