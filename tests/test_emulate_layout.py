"""The emulator's pure layers: naming, the lab layout, DHCP option 121, reading the render
output, security groups, expected BGP state and the matrix display (no root needed)."""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st
from netweave.design import Design
from netweave.emulate import checks, cloud_firewall, dhcp, firewall, remote_access
from netweave.emulate.layout import UNDERLAY, build_layout
from netweave.emulate.naming import IFNAMSIZ, PREFIX_RE, Names, new_prefix
from netweave.emulate.rendered import parse_netplan, parse_sysctl, parse_wg_quick
from netweave.emulate.vcpe import daemon_config, lab_timers, needed_daemons
from netweave.emulate.workloads import _routes
from netweave.lint import lint_file, lint_text
from netweave.model.index import Index
from netweave.model.topology import Topology

STACKS = Path(__file__).resolve().parent.parent / "stacks"


def load(name: str) -> tuple[Topology, Index]:
    topology = lint_file(str(STACKS / name)).topology
    assert topology is not None
    return topology, Index.build(topology)


def test_prefix_is_short_and_recognisable() -> None:
    prefix = new_prefix()
    assert PREFIX_RE.match(prefix)
    assert len(prefix) == 6


def test_every_namespace_and_port_name_fits_ifnamsiz() -> None:
    topology, index = load("s2-many-to-many.yaml")
    layout = build_layout(topology, index, Names(new_prefix()))
    names = layout.namespaces + [h.port for h in layout.hosts.values()]
    names += [n.port for v in layout.vcpes.values() for n in v.nics]
    assert all(len(n) <= IFNAMSIZ for n in names)
    assert len(set(layout.namespaces)) == len(layout.namespaces)


def test_names_are_stable_per_node() -> None:
    names = Names("nw0001")
    assert names.host("vm01") == names.host("vm01") == "nw0001h0"
    assert names.host("vm02") == "nw0001h1"
    assert names.vcpe("vm01") == "nw0001v0"


def test_plan_puts_the_vpc_router_at_the_first_address_of_each_vxnet() -> None:
    topology, index = load("s2-many-to-many.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    bridges = layout.routers["vpc01"].bridges
    assert str(bridges["vxnet01"].gateway) == "192.168.128.1/24"
    assert str(bridges["vxnet03"].gateway) == "192.168.129.1/24"


def test_public_addresses_come_from_the_benchmark_range() -> None:
    topology, index = load("s1-one-to-one.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    addresses = layout.public_addresses()
    assert set(addresses) == {"vcpe01", "vcpe02"}
    assert all(netaddr.IPAddress(a) in UNDERLAY for a in addresses.values())
    assert len(set(addresses.values())) == 2


def test_qingcloud_hosts_use_dhcp_and_vultr_hosts_do_not() -> None:
    topology, index = load("s3-hybrid-vultr.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    assert layout.hosts["qc-app"].dhcp
    assert not layout.hosts["vultr-app"].dhcp


def test_a_route_table_push_is_the_vpc_routers_not_a_dhcp_option() -> None:
    """A route table routes inside the VPC router (qingcloud-api.md "Routes")."""
    topology, index = load("s1-one-to-one.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    assert layout.pushes == {}
    assert layout.router_routes["vpc01"] == (("172.17.0.0/24", "192.168.128.2"),)


def test_a_push_goes_to_the_vxnet_holding_its_next_hop() -> None:
    topology, index = load("s2-many-to-many.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    assert layout.pushes["vxnet01"] == (("172.17.0.0/24", "192.168.128.2"),)
    assert layout.pushes["vxnet03"] == (("172.17.0.0/24", "192.168.129.5"),)


def test_option_121_ends_with_the_default_route() -> None:
    """RFC 3442: with option 121 present the client ignores the router option."""
    topology, index = load("s2-many-to-many.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    items = dhcp.option_121(layout, layout.routers["vpc01"], "vxnet01")
    assert items == ["172.17.0.0/24", "192.168.128.2", "0.0.0.0/0", "192.168.128.1"]


def test_dnsmasq_serves_dhcp_only_and_pins_each_vm_address(tmp_path: Path) -> None:
    topology, index = load("s2-many-to-many.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    argv = dhcp.dnsmasq_argv(layout, layout.routers["vpc01"], tmp_path)
    assert "--port=0" in argv and "--no-ping" in argv
    assert f"--dhcp-host={layout.hosts['vm01'].mac},192.168.128.3" in argv
    assert any(a.startswith("--dhcp-option=tag:b0,121,172.17.0.0/24,192.168.128.2,") for a in argv)


def test_netplan_routes_rules_and_tables_are_read() -> None:
    ifaces = parse_netplan("""
network:
  version: 2
  ethernets:
    eth1:
      addresses: [192.168.129.5/24]
      mtu: 1450
      routes:
        - {to: 192.168.129.0/24, scope: link, table: 101}
        - {to: default, via: 192.168.129.1, table: 101}
      routing-policy:
        - {from: 192.168.129.5, table: 101, priority: 101}
""")
    eth1 = ifaces["eth1"]
    assert eth1.addresses == ("192.168.129.5/24",) and eth1.mtu == 1450
    assert [r.ip_args() for r in eth1.routes] == ["192.168.129.0/24 scope link table 101",
                                                  "0.0.0.0/0 via 192.168.129.1 table 101"]
    assert eth1.rules[0].ip_args() == "from 192.168.129.5 table 101 priority 101"


def test_sysctl_file_is_parsed_without_comments() -> None:
    assert parse_sysctl("# x\nnet.ipv4.ip_forward = 1\n-kernel.foo=2 # y\n") == [
        ("net.ipv4.ip_forward", "1"), ("kernel.foo", "2")]


def test_wg_quick_file_is_split_for_wg_setconf() -> None:
    conf = parse_wg_quick("[Interface]\nPrivateKey = AAA=\nListenPort = 51820\n"
                          "Address = 169.254.100.1/30\nMTU = 1440\nTable = off\nPostUp = true\n"
                          "[Peer]\nPublicKey = BBB=\nEndpoint = 198.18.0.3:51820\n"
                          "AllowedIPs = 169.254.100.2/32\n")
    assert "Address" not in conf.setconf and "MTU" not in conf.setconf
    assert "Endpoint = 198.18.0.3:51820" in conf.setconf
    assert conf.addresses == ("169.254.100.1/30",) and conf.mtu == 1440
    assert conf.table == "off" and conf.ignored == ("PostUp",)


@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True),
                          st.from_regex(r"[0-9]{1,4}", fullmatch=True)), max_size=8))
def test_sysctl_roundtrip(settings: list[tuple[str, str]]) -> None:
    text = "\n".join(f"{k} = {v}" for k, v in settings)
    assert parse_sysctl(text) == settings


def test_lab_timers_fallback_names_every_neighbor() -> None:
    text = lab_timers("router bgp 65001\n neighbor 169.254.0.2 remote-as 65002\n")
    assert text.startswith("router bgp 65001\n timers bgp 1 3")
    assert " neighbor 169.254.0.2 timers connect 1" in text


def test_vultr_workload_routes_are_read_from_cloud_init_bootcmd() -> None:
    data = {"bootcmd": [["ip", "route", "replace", "192.168.10.0/24", "via", "10.8.0.2"]]}
    assert _routes(data) == [("192.168.10.0/24", "10.8.0.2")]


def test_security_group_drops_inbound_unless_accepted() -> None:
    result = lint_text("""
version: 1
clouds: {qc: {provider: qingcloud, zone: pek3a}}
vpcs: {vpc01: {cloud: qc, cidr: 192.168.0.0/16, vxnets: {vx: {cidr: 192.168.1.0/24}}}}
hosts: {vm01: {vxnet: vx, address: 192.168.1.3, security_groups: [web]}}
security_groups:
  web: {rules: [{protocol: tcp, ports: "80-81", source: 10.0.0.0/8}, {protocol: icmp}]}
""")
    assert result.topology is not None
    rules = firewall.rules_for(result.design, ["web"])
    assert ":INPUT DROP" in rules
    assert "-A INPUT -p tcp --dport 80:81 -s 10.0.0.0/8" in rules
    assert "-A INPUT -p icmp -m comment --comment sg:web -j ACCEPT" in rules
    assert firewall.rules_for(result.design, []) == ""


def test_expected_bgp_is_what_each_peer_declares() -> None:
    design = Design.build(*load("s2-many-to-many.yaml"))
    expected = checks.expected_bgp(design)
    assert expected["vcpe02"] == {"169.254.100.1": {"192.168.128.0/24", "192.168.129.0/24"}}
    assert expected["vcpe01"] == {"169.254.100.2": {"172.17.0.0/24"}}
    assert checks.expected_bgp(design, skip_tunnels=["vcpe01-vcpe02"]) == {}


def test_bgp_state_reports_missing_prefixes_and_down_sessions() -> None:
    state = checks.BgpState("vcpe01", {"169.254.100.2": "Established"},
                            {"169.254.100.2": {"172.17.0.0/24"}})
    assert state.missing({"169.254.100.2": {"172.17.0.0/24"}}) == []
    assert state.missing({"169.254.100.2": {"10.0.0.0/8"}}) == [
        "vcpe01: not learned from 169.254.100.2: 10.0.0.0/8"]
    assert state.missing({"169.254.100.9": set()}) == ["vcpe01: session to 169.254.100.9 is absent"]


@pytest.mark.parametrize(("seen", "want", "cell"), [(True, True, "ok"), (False, False, "--"),
                                                     (True, False, "OK!"), (False, True, "X!")])
def test_matrix_marks_disagreements(seen: bool, want: bool, cell: str) -> None:
    verdict = checks.Verdict({("a", "b"): seen}, {("a", "b"): want}, [])
    row = checks.format_matrix(["a", "b"], verdict).splitlines()[2]
    assert row.split()[-1] == cell
    assert verdict.ok == (seen == want)


def test_intent_must_reach_needs_both_directions() -> None:
    topology, index = load("s1-one-to-one.yaml")
    problems = checks.intent_problems(topology, index, {("vm01", "vm02"): True,
                                                        ("vm02", "vm01"): False})
    assert problems == ["must_reach vm01 <-> vm02: vm02 cannot ping vm01"]


FRR_CONF = """frr defaults traditional
hostname vcpe01
!
ip route 192.168.129.0/24 eth1
ip prefix-list PL-OUT seq 5 permit 192.168.128.0/24
!
route-map RM-OUT permit 10
 match ip address prefix-list PL-OUT
exit
!
router bgp 65001
 neighbor 169.254.100.2 remote-as 65002
exit
!
line vty
"""


def test_each_frr_daemon_gets_its_part_of_the_integrated_config() -> None:
    zebra = daemon_config(FRR_CONF, "zebra")
    staticd = daemon_config(FRR_CONF, "staticd")
    assert daemon_config(FRR_CONF, "bgpd") == FRR_CONF
    assert "hostname vcpe01" in zebra and "line vty" in zebra
    assert "prefix-list" not in zebra and "route-map" not in zebra and "router bgp" not in zebra
    assert "ip route" not in zebra and " match" not in zebra and "neighbor" not in zebra
    assert "ip route 192.168.129.0/24 eth1" in staticd and "prefix-list" not in staticd


def test_unknown_fail_link_is_refused_before_anything_is_built(capsys: pytest.CaptureFixture[str]) -> None:
    from netweave.cli import main
    code = main(["emulate", str(STACKS / "s1-one-to-one.yaml"), "--fail", "vcpe01-vcpe03"])
    assert code == 2
    assert "no such tunnel (tunnels: vcpe01-vcpe02)" in capsys.readouterr().err


def test_malformed_prefix_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from netweave.cli import main
    assert main(["emulate", str(STACKS / "s1-one-to-one.yaml"), "--prefix", "lab1"]) == 2
    assert "expected nw + 4 hex digits" in capsys.readouterr().err


def test_down_of_an_unknown_run_says_which_runs_exist(capsys: pytest.CaptureFixture[str]) -> None:
    from netweave.cli import main
    assert main(["emulate", "--down", "nwffff"]) == 1
    assert "no run 'nwffff'" in capsys.readouterr().err


# --- cloud firewalls and remote access ---------------------------------------------------

def _firewall(stack: str, name: str, publics: dict[str, str]) -> cloud_firewall.CloudFirewallChains:
    topology, index = load(stack)
    return cloud_firewall.cloud_firewall(Design.build(topology, index), name, ["eth0"], "inet0",
                                         publics)


def test_vultr_firewall_admits_the_tunnel_port_only_from_the_peer_on_the_public_interface() -> None:
    fw = _firewall("s3-hybrid-vultr.yaml", "vultr-vcpe", {"qc-vcpe": "198.18.0.2",
                                                          "vultr-vcpe": "198.18.0.3"})
    assert fw.interfaces == ("inet0",)  # Vultr firewall groups do not filter VPC traffic
    doc = fw.document().splitlines()
    accepts = [line for line in doc if line.startswith("-A NW-CLOUD-IN") and "ACCEPT" in line
               and "ESTABLISHED" not in line]
    assert accepts == ["-A NW-CLOUD-IN -s 198.18.0.2/32 -p udp -m udp --dport 51820 -m comment "
                       "--comment vultr-fw:vultr-vcpe:wg-qc-vcpe -j ACCEPT"]
    assert doc[-2].endswith("default-deny -j DROP") and doc[-1] == "COMMIT"


def test_qingcloud_security_group_admits_ssh_only_from_ssh_from_on_every_nic() -> None:
    text = (STACKS / "s1-one-to-one.yaml").read_text().replace(
        "      - {vxnet: vxnet01, address: 192.168.128.2}\n",
        "      - {vxnet: vxnet01, address: 192.168.128.2}\n    ssh_from: [203.0.113.0/24]\n", 1)
    topology = lint_text(text).topology
    assert topology is not None and topology.vcpes["vcpe01"].ssh_from
    fw = cloud_firewall.cloud_firewall(Design.build(topology, Index.build(topology)), "vcpe01",
                                       ["eth0"], "inet0", {})
    doc = fw.document()
    assert fw.interfaces == ("eth0", "inet0")
    assert "-I FORWARD 1 -i eth0 -j NW-CLOUD-IN" in doc  # the group sits on the NIC
    ssh = [line for line in doc.splitlines() if "--dport 22 " in line]
    assert ssh == ["-A NW-CLOUD-IN -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -m comment "
                   "--comment qingcloud-sg:vcpe01:p50 -j ACCEPT"]


def test_qingcloud_named_group_rules_come_before_the_base_rules() -> None:
    fw = _firewall("../tests/emulate/s1-vcpe-blocks-tunnel.yaml", "vcpe02", {})
    rules = [r for r in fw.rules if r.protocol == "udp" and r.ports == "51820"]
    assert [(r.accept, r.ingress) for r in rules] == [(False, True), (False, False), (True, True)]


def test_vpn_server_and_clients_are_planned_on_the_underlay() -> None:
    topology, index = load("s4-remote-access.yaml")
    layout = build_layout(topology, index, Names("nw0001"))
    server = layout.vpn_servers["vpn01"]
    assert str(server.nics[0].address) == "192.168.20.5/24"
    assert server.public is not None and server.public.ip in UNDERLAY
    assert sorted(c.name for c in layout.clients.values()) == ["alice", "bob"]
    assert all(c.address.ip in UNDERLAY for c in layout.clients.values())
    assert layout.public_addresses() == {"vpn01": str(server.public.ip)}
    assert {server.ns, *(c.ns for c in layout.clients.values()), layout.underlay_ns} <= set(layout.namespaces)
    assert len(set(layout.namespaces)) == len(layout.namespaces)


def test_remote_access_targets_are_the_hosts_inside_push_networks() -> None:
    topology, index = load("s4-remote-access.yaml")
    assert remote_access.targets(topology, index, "vpn01") == ["app01"]


def test_a_topology_without_bgp_is_not_told_its_sessions_are_established() -> None:
    from netweave.emulate import bgp_lines

    assert bgp_lines([], bool(checks.expected_bgp(Design.build(*load("s4-remote-access.yaml"))))) == [
        "BGP: no BGP sessions in this topology (no tunnel between two vCPEs with bgp)"]


@pytest.mark.parametrize(("config", "started"), [
    ("router bgp 65001\n neighbor 169.254.0.2 remote-as 65002\nexit\n", ["zebra", "bgpd"]),
    ("ip route 10.9.0.0/24 192.168.1.9\nrouter bgp 65001\nexit\n", ["zebra", "bgpd", "staticd"]),
    ("ipv6 route 2001:db8::/64 fe80::1 eth0\n", ["zebra", "bgpd", "staticd"]),
])
def test_the_lab_starts_staticd_only_for_a_config_with_static_routes(
        config: str, started: list[str]) -> None:
    assert needed_daemons(config, ["zebra", "bgpd", "staticd"]) == started
