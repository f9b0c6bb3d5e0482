"""The derived design, one fact per test, on small fixtures: who receives which route push
and how, each host's interfaces, the tunnels with both ends, BGP sessions, the firewall
in front of every host, keys and resource names."""

from __future__ import annotations

import netaddr
import pytest
from netweave.design import Design, FirewallRule, PushMechanism
from netweave.lint import lint_text

# Two QingCloud VPCs (vpc01 with two vxnets) and a Vultr VPC; a vCPE in each; tunnels
# vcpe01-vcpe02 (internet) and vcpe01-vcpe03 (openvpn).
BASE = """
version: 1
clouds:
  qc: {provider: qingcloud, zone: pek3a, mtu: 1500}
  vu: {provider: vultr, region: ams, mtu: 1400}
vpcs:
  vpc01:
    cloud: qc
    cidr: 192.168.0.0/16
    vxnets:
      vx01: {cidr: 192.168.1.0/24}
      vx03: {cidr: 192.168.3.0/24}
    route_push:
PUSHES
  vpc02:
    cloud: qc
    cidr: 172.17.0.0/16
    vxnets: {vx02: {cidr: 172.17.0.0/24}}
  vpc03:
    cloud: vu
    cidr: 10.8.0.0/20
    vxnets: {vx04: {cidr: 10.8.0.0/20}}
    route_push:
      - {destination: 192.168.1.0/24, next_hop: vcpe03}
hosts:
  vm01: {vxnet: vx01, address: 192.168.1.3, instance: {lookup: address}}
  vm11: {vxnet: vx01, address: 192.168.1.4}
  vm03: {vxnet: vx03, address: 192.168.3.3, instance: {lookup: address}}
  vm02: {vxnet: vx02, address: 172.17.0.3}
  vm04: {vxnet: vx04, address: 10.8.0.3}
vcpes:
  vcpe01:
    nics:
      - {vxnet: vx01, address: 192.168.1.2}
      - {vxnet: vx03, address: 192.168.3.5, mtu: 1450}
    bgp: {asn: 65001, advertise: [192.168.1.0/24]}
    static_routes:
      - {destination: 192.168.3.0/24, advertise: true}
      - {destination: 10.50.0.0/16, next_hop: 192.168.1.254}
    ssh_from: [203.0.113.0/24]
    security_groups: [web]
  vcpe02:
    nics: [{vxnet: vx02, address: 172.17.0.2}]
    bgp: {asn: 65002, router_id: 10.255.0.2, advertise: [172.17.0.0/24]}
  vcpe03:
    nics: [{vxnet: vx04}]
    bgp: {asn: 65003, advertise: [10.8.0.0/20]}
    ssh_from: [198.51.100.0/24]
tunnels:
  - ends: [{vcpe: vcpe01, address: 169.254.1.1/30}, {vcpe: vcpe02, address: 169.254.1.2/30}]
    psk: true
  - name: t13
    type: openvpn
    ends: [{vcpe: vcpe01, address: 169.254.3.1/30}, {vcpe: vcpe03, address: 169.254.3.2/30}]
security_groups:
  web:
    rules:
      - {protocol: any, source: 10.0.0.0/8}
      - {action: drop, direction: egress, protocol: tcp, ports: 25}
"""
DEFAULT_PUSH = "      - {destination: 172.17.0.0/24, next_hop: 192.168.1.2}"


def design(pushes: str = DEFAULT_PUSH, extra: str = "") -> Design:
    result = lint_text(BASE.replace("PUSHES", pushes) + extra)
    assert result.topology is not None, [f.message for f in result.findings]
    return result.design


# --- route pushes -------------------------------------------------------------------

def test_a_push_without_vxnets_goes_to_the_vxnet_holding_its_next_hop() -> None:
    [push] = design().pushes_of("vpc01")
    assert push.vxnets == ("vx01",) and push.hosts == ("vm01", "vm11") and not push.explicit


def test_a_push_listing_vxnets_goes_to_those_vxnets() -> None:
    d = design("      - {destination: 172.17.0.0/24, next_hop: 192.168.1.2, vxnets: [vx01, vx03]}")
    [push] = d.pushes_of("vpc01")
    assert push.vxnets == ("vx01", "vx03") and push.hosts == ("vm01", "vm11", "vm03")
    assert [p.position for p in d.pushes_to("vx03")] == [0]


def test_an_empty_vxnets_list_sends_the_push_to_no_vxnet() -> None:
    d = design("      - {destination: 172.17.0.0/24, next_hop: 192.168.1.2, vxnets: []}")
    [push] = d.pushes_of("vpc01")
    assert push.explicit and push.vxnets == () and push.hosts == () and push.instances == ()
    assert d.pushes_to("vx01") == () and "vx01" not in d.vxnet_pushes


def test_an_empty_vxnets_list_is_a_lint_warning() -> None:
    text = BASE.replace("PUSHES", "      - {destination: 172.17.0.0/24, next_hop: 192.168.1.2, "
                                  "vxnets: []}")
    assert sorted(f.code for f in lint_text(text).findings if f.code.startswith("R31")) == ["R314", "R315"]


def test_a_qingcloud_push_is_per_instance_by_default_to_hosts_naming_their_instance() -> None:
    [push] = design().pushes_of("vpc01")
    assert push.mechanism is PushMechanism.INSTANCE and push.instances == ("vm01",)
    assert not push.by_router and push.anchor is None


def test_a_route_table_push_routes_every_vxnet_of_the_vpc_through_the_vpc_router() -> None:
    """The VPC's default route table is bound to every vxnet (qingcloud-api.md "Routes")."""
    d = design("      - {destination: 172.17.0.0/24, next_hop: 192.168.3.5, mechanism: route-table}")
    [push] = d.pushes_of("vpc01")
    assert push.mechanism is PushMechanism.ROUTE_TABLE and push.by_router
    assert push.vxnets == ("vx01", "vx03") and push.anchor == "vx03" and push.instances == ()
    assert d.router_pushes() == {"vpc01": (push,)}
    assert d.vxnet_pushes["vx01"].routes() == []  # the VMs hold no route themselves


def test_a_vultr_push_is_delivered_by_cloud_init() -> None:
    [push] = design().pushes_of("vpc03")
    assert push.mechanism is PushMechanism.CLOUD_INIT and push.vxnets == ("vx04",)


def test_a_vxnet_receives_each_destination_and_next_hop_once() -> None:
    d = design(f"{DEFAULT_PUSH}\n{DEFAULT_PUSH}")
    assert [p.position for p in d.pushes_to("vx01")] == [0, 1]
    assert d.vxnet_pushes["vx01"].routes() == [(netaddr.IPNetwork("172.17.0.0/24"),
                                                netaddr.IPAddress("192.168.1.2"))]


# --- hosts and their interfaces -------------------------------------------------------

def test_vcpe_nics_are_named_as_the_image_names_them_with_gateway_and_policy_table() -> None:
    d = design()
    primary, extra = d.vcpes["vcpe01"].nics
    assert (primary.name, str(primary.gateway), primary.default_route, primary.table) == \
        ("eth0", "192.168.1.1", True, None)
    assert (extra.name, extra.interface, extra.mtu, extra.table) == ("eth1", "192.168.3.5/24", 1450, 101)


def test_a_vultr_nic_has_no_name_address_or_mtu_before_deploy() -> None:
    # Vultr assigns the address at attach, cloud-init sets the MTU from its metadata, and
    # the VM finds the NIC by MAC: nothing here may guess them (it once said enp6s0)
    [vultr] = design().vcpes["vcpe03"].nics
    assert (vultr.name, vultr.address, vultr.mtu, vultr.default_route) == (None, None, None, False)
    assert vultr.assigned_at_deploy and (vultr.vxnet, vultr.vpc) == ("vx04", "vpc03")


def test_a_vultr_push_names_its_router_whose_address_is_assigned_at_deploy() -> None:
    [push] = design().pushes_of("vpc03")
    assert (push.router, push.next_hop, push.via, push.vxnets) == ("vcpe03", None, "vcpe03", ("vx04",))
    assert push.assigned_at_deploy


def test_a_push_naming_a_router_with_a_fixed_address_stands_for_that_address() -> None:
    [push] = design("      - {destination: 172.17.0.0/24, next_hop: vcpe01}").pushes_of("vpc01")
    assert (push.router, str(push.next_hop), push.via, push.vxnets) == \
        ("vcpe01", "192.168.1.2", "192.168.1.2", ("vx01",))
    assert not push.assigned_at_deploy


def test_the_router_id_of_a_vcpe_whose_address_is_assigned_is_its_lowest_tunnel_address() -> None:
    d = design()
    speaker = d.vcpes["vcpe03"].bgp
    assert speaker is not None and str(speaker.router_id) == "169.254.3.2"
    assert str(d.vcpes["vcpe01"].bgp.router_id) == "192.168.1.2"  # type: ignore[union-attr]


def test_a_connected_static_route_leaves_by_the_nic_of_its_vxnet() -> None:
    routes = design().vcpes["vcpe01"].static_routes
    assert [(str(r.destination), r.via) for r in routes] == \
        [("192.168.3.0/24", "eth1"), ("10.50.0.0/16", "192.168.1.254")]


def test_vpn_server_port_mtu_interface_and_client_addresses() -> None:
    d = design(extra="""vpn_servers:
  vpn01: {type: wireguard, vxnet: vx01, address: 192.168.1.9, client_pool: 10.99.0.0/24,
          clients: [alice, bob]}
""")
    server = d.vpn_servers["vpn01"]
    assert (server.port, server.mtu, server.interface) == (51820, 1440, "wg-vpn01")
    assert [(c, str(a)) for c, a in server.client_addresses] == [("alice", "10.99.0.2"),
                                                                 ("bob", "10.99.0.3")]


# --- tunnels --------------------------------------------------------------------------

def test_each_tunnel_end_gets_its_interface_and_listen_port() -> None:
    d = design()
    [a, b] = d.tunnels[0].sides
    assert (a.local, a.interface, a.listen_port, a.peer_port) == ("vcpe01", "wg-vcpe02", 51820, 51820)
    assert (b.local, b.interface, b.listen_port) == ("vcpe02", "wg-vcpe01", 51820)
    ovpn = d.tunnels_of("vcpe01")[1]
    assert (ovpn.label, ovpn.interface, ovpn.listen_port) == ("t13", "ovpn-vcpe03", 1194)


def test_an_internet_tunnel_ends_at_the_peers_public_address_a_private_one_at_its_nic() -> None:
    d = design()
    side = d.tunnels_of("vcpe01")[0]
    assert side.endpoint.public and (side.endpoint.host, side.endpoint.port) == ("vcpe02", 51820)
    text = BASE.replace("PUSHES", DEFAULT_PUSH).replace(
        "  - ends: [{vcpe: vcpe01, address: 169.254.1.1/30}",
        "  - transport: private\n    ends: [{vcpe: vcpe01, address: 169.254.1.1/30}")
    vpc_shared = lint_text(text).design.tunnels_of("vcpe01")[0].endpoint
    assert not vpc_shared.public and str(vpc_shared.address) == "172.17.0.2"


def test_a_tunnel_mtu_defaults_to_the_smaller_underlay_minus_the_overhead() -> None:
    d = design()
    assert d.tunnels[0].mtu == 1500 - 60  # WireGuard over two QingCloud underlays
    assert d.tunnels[1].mtu == 1400 - 69  # OpenVPN, the Vultr underlay is the smaller


def test_a_tunnel_without_two_distinct_ends_is_reported_not_built() -> None:
    text = BASE.replace("PUSHES", DEFAULT_PUSH).replace("security_groups:\n", (
        "  - {name: loop, ends: [{vcpe: vcpe02, address: 169.254.9.1/30}, "
        "{vcpe: vcpe02, address: 169.254.9.2/30}]}\nsecurity_groups:\n"))
    d = lint_text(text).design
    assert d.unusable_tunnels == ("loop",) and [t.label for t in d.tunnels] == ["vcpe01--vcpe02", "t13"]


# --- BGP ------------------------------------------------------------------------------

def test_each_bgp_session_end_announces_its_declarations_and_accepts_the_peers() -> None:
    session = design().bgp_sessions[0]
    a, b = session.ends
    assert [str(p) for p in a.announces] == ["192.168.1.0/24", "192.168.3.0/24"]
    assert a.accepts == b.announces and b.accepts == a.announces
    assert (str(session.remote("vcpe01").address), session.remote("vcpe01").asn) == ("169.254.1.2", 65002)


def test_a_bgp_router_id_defaults_to_the_primary_nic_address() -> None:
    d = design()
    assert str(d.vcpes["vcpe01"].bgp.router_id) == "192.168.1.2"  # type: ignore[union-attr]
    assert str(d.vcpes["vcpe02"].bgp.router_id) == "10.255.0.2"  # type: ignore[union-attr]


# --- firewalls --------------------------------------------------------------------------

def test_a_qingcloud_security_group_admits_tunnels_vpcs_ssh_and_its_named_groups() -> None:
    fw = design().firewalls["vcpe01"]
    assert (fw.cloud, fw.kind) == ("qingcloud", "security_group")
    got = [(r.protocol, r.port_text, str(r.peer), r.action, r.direction, r.priority) for r in fw.rules]
    assert got == [
        ("icmp", None, "0.0.0.0/0", "accept", "ingress", 50),
        ("udp", "51820", "0.0.0.0/0", "accept", "ingress", 50),      # vcpe01--vcpe02
        ("udp", "1194", "0.0.0.0/0", "accept", "ingress", 50),       # t13
        ("tcp", "1:65535", "192.168.0.0/16", "accept", "ingress", 50),
        ("udp", "1:65535", "192.168.0.0/16", "accept", "ingress", 50),
        ("icmp", None, "192.168.0.0/16", "accept", "ingress", 50),
        ("tcp", "22", "203.0.113.0/24", "accept", "ingress", 50),    # ssh_from
        ("tcp", None, "10.0.0.0/8", "accept", "ingress", 40),        # web: any, expanded
        ("udp", None, "10.0.0.0/8", "accept", "ingress", 40),
        ("icmp", None, "10.0.0.0/8", "accept", "ingress", 40),
        ("tcp", "25", "0.0.0.0/0", "drop", "egress", 40),
    ]


def test_a_vultr_firewall_group_admits_a_tunnel_port_only_from_the_peers_public_address() -> None:
    fw = design().firewalls["vcpe03"]
    assert (fw.cloud, fw.kind) == ("vultr", "firewall_group")
    assert fw.rules == (
        FirewallRule("udp", (1194, 1194), peer_host="vcpe01", key="ovpn-vcpe01",
                     note="openvpn tunnel t13 from vcpe01"),
        FirewallRule("tcp", (22, 22), netaddr.IPNetwork("198.51.100.0/24"), key="ssh-0", note="ssh_from"),
    )


def test_an_l2tp_server_opens_ike_nat_t_l2tp_and_esp() -> None:
    d = design(extra="""vpn_servers:
  vpn01: {type: l2tp, vxnet: vx01, address: 192.168.1.9, client_pool: 10.99.0.0/24}
""")
    rules = d.firewalls["vpn01"].rules
    assert [(r.protocol, r.port_text) for r in rules if str(r.peer) == "0.0.0.0/0"] == \
        [("icmp", None), ("udp", "500"), ("udp", "4500"), ("udp", "1701"), ("esp", None)]


def test_a_topology_security_group_keeps_any_as_one_rule() -> None:
    web = design().security_groups["web"]
    assert [(r.protocol, r.port_text, r.action, r.direction) for r in web] == \
        [("any", None, "accept", "ingress"), ("tcp", "25", "drop", "egress")]


# --- keys and resource names ------------------------------------------------------------

def test_keys_are_one_per_tunnel_end_plus_psks_and_vpn_identities() -> None:
    d = design(extra="""vpn_servers:
  vpn01: {type: openvpn, vxnet: vx01, address: 192.168.1.9, client_pool: 10.99.0.0/24, clients: [alice]}
""")
    assert [(k.id, k.kind, k.resource_name) for k in d.keys] == [
        ("vcpe01--vcpe02/vcpe01", "wireguard", "key-vcpe01--vcpe02--vcpe01"),
        ("vcpe01--vcpe02/vcpe02", "wireguard", "key-vcpe01--vcpe02--vcpe02"),
        ("vcpe01--vcpe02", "psk", "key-vcpe01--vcpe02-psk"),
        ("t13/vcpe01", "tls", "key-t13--vcpe01"),
        ("t13/vcpe03", "tls", "key-t13--vcpe03"),
        ("vpn/vpn01", "tls", "key-vpn--vpn01"),
        ("vpn/vpn01/alice", "tls", "key-vpn--vpn01--alice"),
        # the SSH host key each host presents to the in-place path (issue 11)
        ("ssh/vcpe01", "ssh", "key-ssh--vcpe01"),
        ("ssh/vcpe02", "ssh", "key-ssh--vcpe02"),
        ("ssh/vcpe03", "ssh", "key-ssh--vcpe03"),
        ("ssh/vpn01", "ssh", "key-ssh--vpn01"),
    ]


@pytest.mark.parametrize(("host", "expected"), [
    ("vcpe01", ("vcpe01", "vcpe01-eip", "vcpe01-sg", "vcpe01-eip-association", ("vcpe01-nic1",))),
    ("vcpe03", ("vcpe03", "vcpe03-ip", "vcpe03-fw", None, ())),
])
def test_cloud_resource_names_per_host(host: str, expected: tuple[object, ...]) -> None:
    names = design().resources[host]
    assert (names.instance, names.public_ip, names.firewall, names.public_ip_association,
            names.extra_nics) == expected
