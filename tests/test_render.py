"""What each vCPE and VPN host gets, one behaviour per test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from netweave.cli import main
from netweave.design.names import IFNAMSIZ, tunnel_names
from netweave.lint.schema import validate
from netweave.model.index import Index
from netweave.model.source import parse
from netweave.render import (
    RenderError,
    generate_keys,
    placeholder_keys,
    render_topology,
    write_rendered,
)

from tests.support.render_helpers import STACKS, from_text, load

S2_TEXT = (STACKS / "s2-many-to-many.yaml").read_text()


def _file(scenario: str, host: str, path: str, **kw: object) -> str:
    rendered = render_topology(*load(scenario), **kw)  # type: ignore[arg-type]
    return rendered.hosts[host].file(path).content


def test_every_nic_is_configured_with_its_address_and_mtu() -> None:
    netplan = _file("s2-many-to-many", "vcpe01", "/etc/netplan/60-netweave.yaml")
    assert "eth0:" in netplan and "addresses: [192.168.128.2/24]" in netplan
    assert "eth1:" in netplan and "addresses: [192.168.129.5/24]" in netplan
    assert netplan.count("mtu: 1500") == 2


def test_extra_nic_replies_leave_by_their_own_nic() -> None:
    netplan = _file("s2-many-to-many", "vcpe01", "/etc/netplan/60-netweave.yaml")
    assert "- from: 192.168.129.5\n          table: 101" in netplan
    assert "via: 192.168.129.1\n          table: 101" in netplan


def test_primary_nic_carries_the_only_main_table_default_route() -> None:
    netplan = _file("s2-many-to-many", "vcpe01", "/etc/netplan/60-netweave.yaml")
    assert netplan.count("to: 0.0.0.0/0") == 2  # main (eth0) + table 101 (eth1)
    assert "via: 192.168.128.1\n" in netplan


def test_forwarding_on_and_reverse_path_filter_loose() -> None:
    sysctl = _file("s1-one-to-one", "vcpe01", "/etc/sysctl.d/90-netweave.conf")
    assert "net.ipv4.ip_forward = 1" in sysctl
    assert "net.ipv4.conf.all.rp_filter = 2" in sysctl


def test_bgp_sends_only_what_the_vcpe_declares_and_accepts_what_the_peer_declares() -> None:
    frr = _file("s2-many-to-many", "vcpe01", "/etc/frr/frr.conf")
    assert "ip prefix-list PL-OUT-wg-vcpe02 seq 5 permit 192.168.128.0/24" in frr
    assert "ip prefix-list PL-OUT-wg-vcpe02 seq 10 permit 192.168.129.0/24" in frr
    assert "ip prefix-list PL-IN-wg-vcpe02 seq 5 permit 172.17.0.0/24" in frr
    assert "neighbor 169.254.100.2 route-map RM-IN-wg-vcpe02 in" in frr
    assert "neighbor 169.254.100.2 route-map RM-OUT-wg-vcpe02 out" in frr


def test_ebgp_policy_check_is_never_switched_off() -> None:
    for scenario, host in [("s1-one-to-one", "vcpe01"), ("s3-hybrid-vultr", "vultr-vcpe")]:
        assert "ebgp-requires-policy" not in _file(scenario, host, "/etc/frr/frr.conf")


def test_neighbour_is_the_peer_tunnel_address_with_its_asn() -> None:
    frr = _file("s1-one-to-one", "vcpe02", "/etc/frr/frr.conf")
    assert "router bgp 65002" in frr
    assert "bgp router-id 172.17.0.2" in frr
    assert "neighbor 169.254.100.1 remote-as 65001" in frr


def test_peer_that_declares_nothing_gets_an_explicit_deny() -> None:
    text = S2_TEXT.replace("      advertise: [172.17.0.0/24]\n", "      advertise: []\n")
    frr = render_topology(*from_text(text)).hosts["vcpe01"].file("/etc/frr/frr.conf").content
    assert "ip prefix-list PL-IN-wg-vcpe02 seq 5 deny any" in frr


def test_static_routes_are_rendered_and_nothing_else() -> None:
    frr = _file("s2-many-to-many", "vcpe01", "/etc/frr/frr.conf")
    assert [line for line in frr.splitlines() if line.startswith("ip route")] == [
        "ip route 192.168.129.0/24 eth1"]
    assert "ip route" not in _file("s1-one-to-one", "vcpe01", "/etc/frr/frr.conf")


def test_static_route_with_next_hop_goes_via_the_next_hop() -> None:
    text = S2_TEXT.replace("      - destination: 192.168.129.0/24   # connected through the extra NIC\n",
                           "      - destination: 10.50.0.0/16\n        next_hop: 192.168.129.9\n"
                           "      - destination: 192.168.129.0/24\n")
    frr = render_topology(*from_text(text)).hosts["vcpe01"].file("/etc/frr/frr.conf").content
    assert "ip route 10.50.0.0/16 192.168.129.9" in frr


def test_production_timers_are_in_the_config_and_lab_timers_only_in_the_manifest() -> None:
    rendered = render_topology(*load("s1-one-to-one"))
    frr = rendered.hosts["vcpe01"].file("/etc/frr/frr.conf").content
    assert "neighbor 169.254.100.2 timers 10 30" in frr
    assert "timers bgp 1 3" not in frr
    overrides = rendered.manifest["hosts"]["vcpe01"]["frr"]["lab_overrides"]
    assert overrides["router"] == "router bgp 65001"
    assert "timers bgp 1 3" in overrides["lines"]


def test_wireguard_tunnel_has_keys_endpoint_allowed_ips_keepalive_and_mtu() -> None:
    wg = _file("s1-one-to-one", "vcpe01", "/etc/wireguard/wg-vcpe02.conf",
               public_addresses={"vcpe01": "198.18.0.1", "vcpe02": "198.18.0.2"})
    keys = placeholder_keys(load("s1-one-to-one")[0])
    assert f"PrivateKey = {keys.wg('vcpe01-vcpe02/vcpe01').private_key}" in wg
    assert f"PublicKey = {keys.wg('vcpe01-vcpe02/vcpe02').public_key}" in wg
    assert "Endpoint = 198.18.0.2:51820" in wg
    assert "AllowedIPs = 169.254.100.2/32, 172.17.0.0/24" in wg
    assert "PersistentKeepalive = 25" in wg
    assert "MTU = 1440" in wg  # 1500 - 60 (WireGuard over IPv4)
    assert "Table = off" in wg


def test_mss_is_clamped_to_the_tunnel_mtu_both_ways() -> None:
    rules = _file("s1-one-to-one", "vcpe01", "/etc/netweave/iptables.rules")
    assert "-A FORWARD -o wg-vcpe02 -p tcp" in rules and "--set-mss 1400" in rules
    assert "-A FORWARD -i wg-vcpe02 -p tcp" in rules


def test_without_state_keys_and_endpoints_are_labelled_placeholders() -> None:
    wg = _file("s1-one-to-one", "vcpe01", "/etc/wireguard/wg-vcpe02.conf")
    assert "PLACEHOLDER — not a real key" in wg
    assert "placeholder endpoint" in wg and "Endpoint = 192.0.2.11:51820" in wg


def test_real_keys_replace_the_placeholders() -> None:
    topology, index = load("s1-one-to-one")
    keys = generate_keys(topology)
    wg = render_topology(topology, index, keys=keys).hosts["vcpe01"].file(
        "/etc/wireguard/wg-vcpe02.conf").content
    assert "PLACEHOLDER" not in wg
    assert keys.wg("vcpe01-vcpe02/vcpe01").private_key in wg


def test_missing_key_is_a_clear_error() -> None:
    topology, index = load("s1-one-to-one")
    keys = generate_keys(topology)
    partial = type(keys)(wireguard={k: v for k, v in keys.wireguard.items() if k.endswith("vcpe01")})
    with pytest.raises(RenderError, match="no WireGuard key pair for 'vcpe01-vcpe02/vcpe02'"):
        render_topology(topology, index, keys=partial)


def test_openvpn_tunnel_pins_the_peer_certificate() -> None:
    text = S2_TEXT.replace("  - name: vcpe01-vcpe02\n", "  - name: vcpe01-vcpe02\n    type: openvpn\n")
    topology, index = from_text(text)
    rendered = render_topology(topology, index)
    conf = rendered.hosts["vcpe01"].file("/etc/openvpn/ovpn-vcpe02.conf").content
    peer = placeholder_keys(topology).tls_identity("vcpe01-vcpe02/vcpe02")
    assert f"peer-fingerprint {peer.fingerprint}" in conf
    assert "tls-server" in conf and "ifconfig 169.254.100.1 169.254.100.2" in conf
    assert "tun-mtu 1431" in conf  # 1500 - 69
    other = rendered.hosts["vcpe02"].file("/etc/openvpn/ovpn-vcpe01.conf").content
    assert "tls-client" in other


def test_tunnel_interface_names_fit_ifnamsiz_and_are_unique_on_each_host() -> None:
    ends = [("t1", "a", "a-very-long-vcpe-name", "wireguard"), ("t1", "a-very-long-vcpe-name", "a",
            "wireguard"), ("t2", "b", "c", "wireguard"), ("t3", "b", "c", "wireguard"),
            ("t4", "d", "c", "wireguard")]
    names = tunnel_names(ends)
    assert all(len(n) <= IFNAMSIZ for n in names.values())
    assert names[("t2", "b")] != names[("t3", "b")]  # two tunnels of b to c
    assert names[("t1", "a-very-long-vcpe-name")] == "wg-a"
    assert names[("t4", "d")] == "wg-c"  # another host may use the same name


def test_a_tunnel_added_elsewhere_renames_no_interface() -> None:
    before = tunnel_names([("t1", "vcpe02", "vcpe01", "wireguard")])
    after = tunnel_names([("t1", "vcpe02", "vcpe01", "wireguard"),
                          ("t2", "vcpe03", "vcpe01", "wireguard")])
    assert after[("t1", "vcpe02")] == before[("t1", "vcpe02")] == "wg-vcpe01"


def test_vultr_vcpe_gets_a_cloud_config_with_its_files_and_boot_command() -> None:
    rendered = render_topology(*load("s3-hybrid-vultr"))
    doc = rendered.hosts["vultr-vcpe"].artifacts["user-data"].decode()
    assert doc.startswith("#cloud-config\n")
    assert "- path: /etc/frr/frr.conf" in doc
    assert "- path: /etc/systemd/system/netweave-boot.service" in doc


def test_vultr_first_boot_starts_a_unit_that_runs_at_every_boot_instead_of_runcmd_once() -> None:
    # cloud-init runcmd is PER_INSTANCE (cc_runcmd / cc_scripts_user): a failed first boot
    # would never run again; runcmd only enables and starts the unit.
    rendered = render_topology(*load("s3-hybrid-vultr"))
    doc = yaml.safe_load(rendered.hosts["vultr-vcpe"].artifacts["user-data"].decode())
    assert doc["runcmd"] == [["systemctl", "daemon-reload"],
                             ["systemctl", "enable", "netweave-boot.service"],
                             ["systemctl", "start", "--no-block", "netweave-boot.service"]]
    unit = rendered.hosts["vultr-vcpe"].file("/etc/systemd/system/netweave-boot.service").content
    assert "Restart=on-failure" in unit and "WantedBy=multi-user.target" in unit
    assert "ExecStart=/bin/sh /etc/netweave/boot.sh" in unit


def test_vultr_workload_routes_name_the_vcpe_until_its_address_is_assigned() -> None:
    rendered = render_topology(*load("s3-hybrid-vultr"))
    snippet = rendered.vpc_files["vultr-vpc"]["workload-routes.yaml"]
    assert '"192.168.10.0/24", via, "<vultr-vcpe: VPC address assigned at deploy>"]' in snippet
    assert "NOT USABLE YET" in snippet
    assert rendered.manifest["vpcs"]["vultr-vpc"]["workload_routes"] == "vultr-vpc/workload-routes.yaml"
    assert rendered.manifest["vpcs"]["qc-vpc"]["workload_routes"] is None
    assert rendered.manifest["assigned_addresses"] == {"vultr-vcpe": None}


def test_vultr_workload_routes_use_the_address_the_cloud_assigned() -> None:
    rendered = render_topology(*load("s3-hybrid-vultr"), assigned_addresses={"vultr-vcpe": "10.8.7.77"})
    snippet = rendered.vpc_files["vultr-vpc"]["workload-routes.yaml"]
    assert '- [ip, route, replace, "192.168.10.0/24", via, "10.8.7.77"]' in snippet
    assert "NOT USABLE YET" not in snippet
    push = rendered.manifest["vpcs"]["vultr-vpc"]["route_push"][0]
    assert push == {"destination": "192.168.10.0/24", "next_hop": "10.8.7.77",
                    "assigned_at_deploy": "vultr-vcpe"}


def test_vultr_vcpe_files_name_no_interface_address_or_mtu_for_its_vpc_nic() -> None:
    rendered = render_topology(*load("s3-hybrid-vultr"), assigned_addresses={"vultr-vcpe": "10.8.7.77"})
    host = rendered.hosts["vultr-vcpe"]
    text = "\n".join(f.content for f in host.files if not f.path.endswith(".py"))
    assert not re.search(r"\b(enp\d+s\d+|ens\d+|eth\d+)\b", text)
    assert "10.8.0.2" not in text and "10.8.7.77" not in text  # neither guessed nor baked in
    assert "netplan" not in text  # Debian 12 on Vultr: the image's own ifupdown, no second manager
    assert all(f.path != "/etc/netplan/60-netweave.yaml" for f in host.files)
    (nic,) = host.manifest["interfaces"]
    assert (nic["name"], nic["address"], nic["mtu"], nic["assigned_at_deploy"]) == (None, None, None, True)


def test_vultr_vcpe_router_id_is_its_tunnel_address_not_a_guessed_vpc_address() -> None:
    rendered = render_topology(*load("s3-hybrid-vultr"))
    assert " bgp router-id 169.254.20.2\n" in rendered.hosts["vultr-vcpe"].file("/etc/frr/frr.conf").content


def test_render_is_deterministic_to_the_byte(tmp_path: Path) -> None:
    for run in ("a", "b"):
        for scenario in ("s2-many-to-many", "s3-hybrid-vultr"):
            write_rendered(render_topology(*load(scenario)), tmp_path / run / scenario)
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b


def test_manifest_follows_the_contract(tmp_path: Path) -> None:
    write_rendered(render_topology(*load("s2-many-to-many"),
                                   public_addresses={"vcpe01": "198.18.0.1", "vcpe02": "198.18.0.2"}),
                   tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    host = manifest["hosts"]["vcpe01"]
    assert (host["kind"], host["cloud"]) == ("vcpe", "qingcloud")
    assert host["interfaces"][1].items() >= {"name": "eth1", "nic": 1, "vxnet": "vxnet03",
                                             "address": "192.168.129.5/24"}.items()
    (tunnel,) = host["tunnels"]
    assert tunnel.items() >= {"name": "vcpe01-vcpe02", "interface": "wg-vcpe02", "type": "wireguard",
                              "config": "/etc/wireguard/wg-vcpe02.conf", "listen_port": 51820,
                              "local": "169.254.100.1/30", "peer": "vcpe02",
                              "peer_endpoint": "198.18.0.2:51820"}.items()
    assert host["frr"]["config"] == "/etc/frr/frr.conf"
    assert host["frr"]["daemons"] == ["zebra", "bgpd", "staticd"]
    assert (host["sysctl"], host["iptables"]) == ("/etc/sysctl.d/90-netweave.conf",
                                                  "/etc/netweave/iptables.rules")
    for f in host["files"]:
        assert (tmp_path / "vcpe01" / "rootfs" / f["path"].lstrip("/")).is_file()
    assert manifest["placeholder_addresses"] is False and manifest["placeholder_keys"] is True


def test_openvpn_remote_access_server_pushes_only_the_declared_networks() -> None:
    rendered = render_topology(*load("s4-remote-access"))
    host = rendered.hosts["vpn01"]
    conf = host.file("/etc/openvpn/server/ovpn-vpn01.conf").content
    assert "server 10.99.0.0 255.255.255.0" in conf
    assert 'push "route 192.168.20.0 255.255.255.0"' in conf
    assert "redirect-gateway" not in conf
    assert sorted(host.client_profiles) == ["alice", "bob"]
    assert "remote 192.0.2.10 1194" in host.client_profiles["alice"]


def test_wireguard_remote_access_server_issues_split_tunnel_profiles() -> None:
    text = (STACKS / "s4-remote-access.yaml").read_text().replace("type: openvpn", "type: wireguard")
    host = render_topology(*from_text(text)).hosts["vpn01"]
    conf = host.file("/etc/wireguard/wg-vpn01.conf").content
    assert "Address = 10.99.0.1/24" in conf and "AllowedIPs = 10.99.0.2/32" in conf
    assert "AllowedIPs = 10.99.0.0/24, 192.168.20.0/24" in host.client_profiles["alice"]


def test_pptp_is_refused_with_the_reasons() -> None:
    text = (STACKS / "s4-remote-access.yaml").read_text().replace("type: openvpn", "type: pptp")
    topology = validate(parse(text, "<test>")).topology  # lint (V502) would stop it first
    assert topology is not None
    with pytest.raises(RenderError, match="PPTP is refused: one account cannot be logged in"):
        render_topology(topology, Index.build(topology))


def test_render_command_writes_one_folder_per_host(tmp_path: Path) -> None:
    assert main(["render", str(STACKS / "s3-hybrid-vultr.yaml"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "qc-vcpe" / "userdata.tar").is_file()
    assert (tmp_path / "vultr-vcpe" / "user-data").is_file()
    assert (tmp_path / "vultr-vcpe" / "rootfs" / "etc" / "frr" / "frr.conf").is_file()
    assert (tmp_path / "manifest.json").is_file()


def test_render_command_refuses_an_unusable_file(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clouds: [\n")
    assert main(["render", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_render_command_refuses_a_topology_with_lint_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from netweave.commands import render as command
    from netweave.lint import lint_file
    from netweave.lint.findings import finding

    def with_error(path: str):  # type: ignore[no-untyped-def]
        result = lint_file(path)
        result.findings.append(finding("R301", "next hop is no router", ("vpcs",)))
        assert result.topology is not None
        return result.topology, Index.build(result.topology), result

    monkeypatch.setattr(command, "load_topology", with_error)
    out = tmp_path / "out"
    assert main(["render", str(STACKS / "s1-one-to-one.yaml"), "--out", str(out)]) == 1
    assert "R301" in capsys.readouterr().out
    assert not out.exists()


def test_psk_tunnel_gets_the_same_preshared_key_on_both_ends() -> None:
    text = S2_TEXT.replace("  - name: vcpe01-vcpe02\n", "  - name: vcpe01-vcpe02\n    psk: true\n")
    topology, index = from_text(text)
    hosts = render_topology(topology, index).hosts
    psk = placeholder_keys(topology).preshared("vcpe01-vcpe02")
    assert f"PresharedKey = {psk}" in hosts["vcpe01"].file("/etc/wireguard/wg-vcpe02.conf").content
    assert f"PresharedKey = {psk}" in hosts["vcpe02"].file("/etc/wireguard/wg-vcpe01.conf").content


def test_second_tunnel_on_a_vcpe_listens_on_the_next_port() -> None:
    vcpe03 = "  vcpe03:\n    nics:\n      - {vxnet: vxnet02, address: 172.17.0.9}\n    bgp: {asn: 65003}\n"
    tunnel = ("  - name: vcpe01-vcpe03\n    ends:\n      - {vcpe: vcpe01, address: 169.254.101.1/30}\n"
              "      - {vcpe: vcpe03, address: 169.254.101.2/30}\n")
    last_end = "      - {vcpe: vcpe02, address: 169.254.100.2/30}\n"
    text = S2_TEXT.replace("vcpes:\n", "vcpes:\n" + vcpe03, 1).replace(last_end, last_end + tunnel)
    manifest = render_topology(*from_text(text)).manifest["hosts"]["vcpe01"]
    assert [(t["interface"], t["listen_port"]) for t in manifest["tunnels"]] == [
        ("wg-vcpe02", 51820), ("wg-vcpe03", 51821)]


def test_peers_sent_the_same_prefixes_share_one_outbound_prefix_list() -> None:
    import sys

    sys.path.insert(0, str(STACKS.parent))
    from bench.emulate_bench import hub_and_spoke

    hub = hub_and_spoke(3)
    frr = render_topology(hub, Index.build(hub)).hosts["hub-vcpe"].file("/etc/frr/frr.conf").content
    announced = 4  # the hub's vxnet and the three spokes
    assert frr.count("ip prefix-list PL-OUT-SHARED-1 seq") == announced
    assert "ip prefix-list PL-OUT-wg" not in frr
    assert frr.count("route-map RM-OUT-SHARED-1 permit 10") == 1
    assert frr.count("route-map RM-OUT-SHARED-1 out") == 3
    assert "! Send to vcpe1, vcpe2 and vcpe3 only what hub-vcpe declares." in frr
