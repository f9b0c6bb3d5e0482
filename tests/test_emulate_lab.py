"""Emulation end to end, as root: real namespaces, FRR, wireguard-go, dnsmasq, dhclient.
Each run takes one to three seconds; CI (root) runs them, other runs skip them."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from netweave.emulate import EmulationResult, InjectedFailure, Lab, emulate
from netweave.emulate.naming import new_prefix, run_dir
from netweave.lint import lint_file
from netweave.model.index import Index
from netweave.model.topology import Topology

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
TOOLS = ("ip", "dnsmasq", "dhclient", "wireguard-go", "wg", "vtysh", "iptables-restore", "ping",
         "openvpn")
CASES = ROOT / "tests" / "emulate"


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (bash .ci/setup installs them)"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "`ip netns` is unavailable here"
    return None


pytestmark = [pytest.mark.root, pytest.mark.skipif(_unavailable() is not None,
                                                   reason=_unavailable() or "")]


def load(path: Path) -> tuple[Topology, Index]:
    topology = lint_file(str(path)).topology
    assert topology is not None
    return topology, Index.build(topology)


def run(path: Path, **kwargs: object) -> EmulationResult:
    topology, index = load(path)
    return emulate(topology, index, file=str(path), **kwargs)  # type: ignore[arg-type]


# --- what must not change in the machine ----------------------------------------------

def _ip_json(*args: str) -> object:
    return json.loads(subprocess.run(["ip", "-j", *args], capture_output=True, text=True,
                                     check=True).stdout or "[]")


def root_snapshot() -> dict[str, object]:
    """Addresses, routes and interfaces of the root namespace (no counters)."""
    links = sorted((i["ifname"], i.get("address", ""), i.get("mtu")) for i in _ip_json("link"))
    addrs = sorted((i["ifname"], a["local"], a["prefixlen"])
                   for i in _ip_json("addr") for a in i.get("addr_info", []))
    routes = sorted(json.dumps(r, sort_keys=True) for r in _ip_json("route", "show", "table", "all"))
    return {"links": links, "addrs": addrs, "routes": routes,
            "etc_netns": Path("/etc/netns").exists() and sorted(os.listdir("/etc/netns")),
            "wireguard": Path("/var/run/wireguard").exists()
            and sorted(os.listdir("/var/run/wireguard"))}


def leftovers(prefix: str) -> list[str]:
    """Anything of run ``prefix`` still on the machine: namespaces, live processes whose
    command line names the run, /etc/netns entries, the run directory."""
    found = [f"netns {ns}" for ns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                   text=True).stdout.split() if ns.startswith(prefix)]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if prefix in cmdline and state != "Z" and "pytest" not in cmdline:
            found.append(f"process {proc.name}: {cmdline.strip()}")
    found += [f"/etc/netns/{p.name}" for p in Path("/etc/netns").glob(f"{prefix}*")]
    if run_dir(prefix).exists():
        found.append(str(run_dir(prefix)))
    return found


RUN_NAME = re.compile(r"/run/netweave/nw[0-9a-f]{4}|/tmp/netweave-nw|\bnw[0-9a-f]{4}[a-z]\d*\b")


def emulation_traces() -> dict[str, list[str]]:
    """Namespaces named like an emulation run's, and live processes naming one."""
    namespaces = [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                              text=True).stdout.split()
                  if re.fullmatch(r"nw[0-9a-f]{4}[a-z]\d*", ns)]
    procs = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and RUN_NAME.search(cmdline) and "pytest" not in cmdline:
            procs.append(f"{proc.name}: {cmdline}")
    return {"namespaces": sorted(namespaces), "processes": sorted(procs)}


@pytest.fixture
def machine() -> Iterator[dict[str, object]]:
    """The root namespace before the test; the test must leave it identical, and no
    emulation namespace or process may appear."""
    before = root_snapshot()
    traces = emulation_traces()
    yield before
    assert root_snapshot() == before
    assert emulation_traces() == traces


# --- the scenarios ----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["s1-one-to-one.yaml", "s2-many-to-many.yaml",
                                   "s3-hybrid-vultr.yaml"])
def test_scenario_observed_matrix_matches_reach(stack: str, machine: object) -> None:
    prefix = new_prefix()
    result = run(STACKS / stack, prefix=prefix)
    assert result.bgp_problems == []
    assert result.verdict.differences == [], "\n".join(result.report)
    assert result.verdict.intent_problems == []
    assert all(result.verdict.observed.values())
    assert result.ok
    assert leftovers(prefix) == []


def test_ipsec_tunnel_runs_the_real_charon_and_carries_bgp(machine: object) -> None:
    result = run(STACKS / "s5-ipsec.yaml")
    assert result.bgp_problems == []
    assert result.verdict.differences == [] and all(result.verdict.observed.values())
    assert any("charon runs with kernel-libipsec" in n for n in result.notes)


def test_site_behind_nat_reaches_and_is_reached_through_its_tunnel(machine: object) -> None:
    result = run(STACKS / "s6-home-to-vultr.yaml")
    assert result.bgp_problems == []
    assert result.verdict.differences == [], "\n".join(result.report)
    assert result.verdict.observed == {("home-vm", "vultr-app"): True, ("vultr-app", "home-vm"): True}
    assert any("masquerades the site" in n for n in result.notes)


def test_ipsec_from_a_site_behind_nat_crosses_the_nat(machine: object) -> None:
    result = run(ROOT / "tests" / "emulate" / "s6-ipsec-site.yaml")
    assert result.bgp_problems == []
    assert result.verdict.differences == [] and all(result.verdict.observed.values())


def test_openvpn_tunnel_carries_bgp_and_traffic(machine: object) -> None:
    result = run(ROOT / "tests" / "emulate" / "s1-openvpn.yaml")
    assert result.bgp_problems == []
    assert result.verdict.differences == [] and all(result.verdict.observed.values())


def test_security_group_blocks_inbound_ping_but_not_replies(machine: object) -> None:
    result = run(ROOT / "tests" / "emulate" / "s1-security-group.yaml")
    verdict = result.verdict
    assert verdict.differences == []
    assert verdict.observed == {("vm01", "vm02"): False, ("vm02", "vm01"): True}
    assert verdict.request_arrived[("vm01", "vm02")] is False  # dropped by ssh-only


def test_missing_return_push_is_unreachable_in_the_direction_reach_says(machine: object) -> None:
    result = run(ROOT / "tests" / "emulate" / "s2-missing-return-push.yaml")
    verdict, prediction = result.verdict, result.prediction
    assert prediction is not None
    assert verdict.differences == []
    assert verdict.observed[("vm03", "vm02")] is False
    assert verdict.observed[("vm02", "vm03")] is False
    assert verdict.observed[("vm01", "vm02")] is True
    # vm03 -> vm02: the request gets there, the reply has no route back
    assert prediction.forward[("vm03", "vm02")] is True
    assert verdict.request_arrived[("vm03", "vm02")] is True
    # vm02 -> vm03: vpc02 has no route to vxnet03, the request dies on the way
    assert prediction.forward[("vm02", "vm03")] is False
    assert verdict.request_arrived[("vm02", "vm03")] is False
    assert verdict.intent_problems  # the S2 intent vm03 <-> vm02 is violated
    assert not result.ok


def test_json_report_of_the_cli(machine: object) -> None:
    proc = subprocess.run([sys.executable, "-m", "netweave", "emulate", "--quiet", "--format", "json",
                           str(STACKS / "s1-one-to-one.yaml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["hosts"] == ["vm01", "vm02"]
    assert {(p["from"], p["to"], p["observed"], p["predicted"]) for p in report["ping"]["pairs"]} == {
        ("vm01", "vm02", True, True), ("vm02", "vm01", True, True)}
    assert "teardown" in report["timings"]


def _emulate_text(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netweave", "emulate", *extra,
                           str(STACKS / "s1-one-to-one.yaml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_text_output_starts_with_the_matrix_and_its_verdict_and_times_each_phase_once(
        machine: object) -> None:
    proc = _emulate_text()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("== matrix of s1-one-to-one (ping -c 2 -W 1)")
    assert lines[lines.index("      vm01 vm02") + 3] == "2/2 pairs agree with reach; intent holds"
    assert lines[-1].endswith("notes on how the lab differs from a cloud VM: --verbose)")
    assert "timings" not in proc.stdout and " ms" not in proc.stdout
    # the durations: once, on the progress display, each phase and the total
    assert proc.stderr.count("teardown") == 1 and proc.stderr.splitlines()[-1].startswith("  total ")


def test_notes_are_printed_with_verbose_only(machine: object) -> None:
    proc = _emulate_text("--quiet", "--verbose")
    assert proc.returncode == 0, proc.stderr
    assert "notes (what the lab does differently from a cloud VM):" in proc.stdout
    assert proc.stderr == ""  # --quiet: no progress, no timings


def test_tcp_connect_matrix_matches_too(machine: object) -> None:
    result = run(STACKS / "s1-one-to-one.yaml", tcp=True)
    assert result.tcp_verdict is not None
    assert result.tcp_verdict.differences == []
    assert all(result.tcp_verdict.observed.values())


def test_failed_tunnel_is_reported_after_bgp_reconverges(machine: object) -> None:
    result = run(STACKS / "s1-one-to-one.yaml", fail="vcpe01-vcpe02")
    assert result.verdict.ok
    failed = result.failed_verdict
    assert failed is not None
    assert failed.differences == []  # reach without the tunnel predicts the same
    assert failed.observed == {("vm01", "vm02"): False, ("vm02", "vm01"): False}
    assert failed.intent_problems and not result.ok


def test_second_tunnel_carries_traffic_after_the_first_fails(machine: object) -> None:
    result = run(ROOT / "tests" / "emulate" / "s1-two-tunnels.yaml", fail="vcpe01-vcpe02")
    assert result.bgp_problems == []  # the failed sessions went down, the others kept up
    assert result.failed_verdict is not None
    assert result.failed_verdict.differences == []
    assert all(result.failed_verdict.observed.values())
    assert result.ok


# --- cloud firewalls in front of vCPEs --------------------------------------------------

def test_vcpe_security_group_blocking_the_tunnel_keeps_bgp_down(machine: object) -> None:
    result = run(CASES / "s1-vcpe-blocks-tunnel.yaml", bgp_timeout=3)
    assert any("vcpe01: session to 169.254.100.2 is" in p for p in result.bgp_problems)
    verdict = result.verdict
    # reach does not model vCPE security groups: it predicts reachable, the lab shows
    # what the cloud would do, and says why the two differ
    assert verdict.observed == {("vm01", "vm02"): False, ("vm02", "vm01"): False}
    assert verdict.predicted == {("vm01", "vm02"): True, ("vm02", "vm01"): True}
    assert verdict.request_arrived == {("vm01", "vm02"): False, ("vm02", "vm01"): False}
    assert sum("expected: reach does not model vCPE security groups; on this path: "
               "vcpe02 (no-wireguard)" in line for line in result.report) == 2
    assert any("reach does not model the security groups of vCPEs (vcpe02)" in n for n in result.notes)
    assert not result.ok


def _counter(ns: str, chain: str, needle: str) -> int:
    listing = subprocess.run(["ip", "netns", "exec", ns, "iptables", "-S", chain, "-v"],
                             capture_output=True, text=True, check=True).stdout
    (line,) = [line for line in listing.splitlines() if needle in line]
    return int(line.split(" -c ")[1].split()[0])


def _udp(ns: str, address: str, port: int) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", f"echo probe >/dev/udp/{address}/{port}"],
                   capture_output=True, timeout=5)


def test_vultr_firewall_admits_the_tunnel_port_from_the_peer_and_drops_anyone_else(
        machine: object) -> None:
    seen: dict[str, int] = {}

    def probe(lab: Lab) -> None:
        vultr, peer = lab.layout.vcpes["vultr-vcpe"], lab.layout.vcpes["qc-vcpe"]
        assert vultr.public is not None and peer.public is not None
        target = str(vultr.public.ip)
        accept = f"-s {peer.public.ip}/32 -p udp -m udp --dport 51820"
        before = (_counter(vultr.ns, "NW-CLOUD-IN", accept),
                  _counter(vultr.ns, "NW-CLOUD-IN", "default-deny"))
        _udp(peer.ns, target, 51820)  # a new flow from the peer's public address
        # a stranger on the internet: an address on the underlay bridge, in the lab's own
        # underlay namespace, for this one datagram
        stranger = ["ip", "-n", lab.layout.underlay_ns, "addr", "add", "198.19.255.254/15", "dev", "inet"]
        subprocess.run(stranger, check=True)
        _udp(lab.layout.underlay_ns, target, 51820)
        seen["peer"] = _counter(vultr.ns, "NW-CLOUD-IN", accept) - before[0]
        seen["stranger"] = _counter(vultr.ns, "NW-CLOUD-IN", "default-deny") - before[1]
    result = run(STACKS / "s3-hybrid-vultr.yaml", on_ready=probe)
    assert result.ok
    assert seen == {"peer": 1, "stranger": 1}


def test_vultr_workloads_reach_qingcloud_through_the_address_the_vpc_nic_was_given(
        machine: object) -> None:
    # Vultr assigns the vCPE's VPC address; the lab stands in for it (an address no file of
    # the topology names), serves it from a metadata service in the vCPE's namespace, and
    # the rendered vultr-vpc.py finds the NIC by MAC there and configures it.
    seen: dict[str, str] = {}

    def probe(lab: Lab) -> None:
        vcpe, app = lab.layout.vcpes["vultr-vcpe"], lab.layout.hosts["vultr-app"]
        (nic,) = vcpe.nics
        seen["stand_in"] = lab.layout.assigned["vultr-vcpe"]
        seen["nic"] = subprocess.run(["ip", "-n", vcpe.ns, "-4", "-o", "addr", "show", "dev", nic.ifname],
                                     capture_output=True, text=True).stdout
        seen["route"] = subprocess.run(["ip", "-n", app.ns, "route", "get", "192.168.10.3"],
                                       capture_output=True, text=True).stdout
        status = lab.dir / "vm" / "vultr-vcpe" / "var/lib/netweave/vultr-vpc.json"
        seen["status"] = status.read_text()
    result = run(STACKS / "s3-hybrid-vultr.yaml", on_ready=probe)
    assert result.ok and all(result.verdict.observed.values())
    topology_addresses = {"10.8.0.2", "10.8.0.3", "192.168.10.2", "192.168.10.3"}
    assert seen["stand_in"] not in topology_addresses
    assert f"inet {seen['stand_in']}/20" in seen["nic"]
    assert f"192.168.10.3 via {seen['stand_in']} dev eth0" in seen["route"]
    status = json.loads(seen["status"])
    assert (status["state"], status["address"], status["configured_by"]) == (
        "ok", f"{seen['stand_in']}/20", "netweave (ifupdown)")
    assert any("found ens7 by MAC" in n for n in result.notes)


# --- remote access (S4) ----------------------------------------------------------------

@pytest.mark.parametrize("stack", [STACKS / "s4-remote-access.yaml", CASES / "s4-wireguard.yaml"])
def test_vpn_clients_reach_the_pushed_hosts_over_a_split_tunnel(stack: Path, machine: object) -> None:
    prefix = new_prefix()
    result = run(stack, prefix=prefix)
    lines = result.remote_access
    assert result.remote_access_problems == [], "\n".join(result.report)
    for client in ("alice", "bob"):
        assert f"remote access: {client} -> app01 ok" in lines
        assert any(line.startswith(f"remote access: {client} connected as 10.99.0.")
                   and "routes through the tunnel: 192.168.20.0/24 — exactly the pushed "
                   "networks, no default route" in line for line in lines)
    assert result.ok
    assert leftovers(prefix) == []


def test_full_tunnel_clients_route_everything_through_the_vpn(machine: object) -> None:
    result = run(CASES / "s4-full-tunnel.yaml")
    assert result.remote_access_problems == [], "\n".join(result.report)
    assert sum("0.0.0.0/1, 128.0.0.0/1" in line and "a default route through the tunnel" in line
               for line in result.remote_access) == 2
    assert "remote access: alice -> app01 ok" in result.remote_access


def test_vpn_replies_are_lost_without_the_route_push_of_the_client_pool(machine: object) -> None:
    result = run(CASES / "s4-missing-return-push.yaml")
    assert sorted(result.remote_access_problems) == ["alice -> app01 fails", "bob -> app01 fails"]
    failing = [line for line in result.remote_access if "FAILS" in line]
    assert len(failing) == 2
    assert all("app01 got the request and answered, the reply was lost" in line
               and "pushes no route 10.99.0.0/24 via 192.168.20.5 (vpn01)" in line
               for line in failing)
    assert not result.ok


def test_remote_access_is_in_the_json_report(machine: object) -> None:
    proc = subprocess.run([sys.executable, "-m", "netweave", "emulate", "--quiet", "--format", "json",
                           str(STACKS / "s4-remote-access.yaml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["remote_access"]["ok"] is True
    assert "remote access: alice -> app01 ok" in report["remote_access"]["lines"]


def test_failure_after_the_vpn_clients_started_leaves_nothing_behind(machine: object) -> None:
    prefix = new_prefix()
    with pytest.raises(InjectedFailure):
        run(STACKS / "s4-remote-access.yaml", prefix=prefix, fail_after="vpn_servers")
    assert leftovers(prefix) == []


# --- teardown guarantees ----------------------------------------------------------------

@pytest.mark.parametrize("phase", ["namespaces", "workloads", "vcpes"])
def test_forced_failure_midway_leaves_nothing_behind(phase: str, machine: object) -> None:
    prefix = new_prefix()
    with pytest.raises(InjectedFailure):
        run(STACKS / "s2-many-to-many.yaml", prefix=prefix, fail_after=phase)
    assert leftovers(prefix) == []


def test_keep_leaves_the_lab_and_down_removes_it(machine: object) -> None:
    prefix = new_prefix()
    result = run(STACKS / "s1-one-to-one.yaml", prefix=prefix, keep=True)
    try:
        assert result.ok
        assert any(line.strip().startswith("FRR of vcpe01") for line in result.report)
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert f"{prefix}v0" in namespaces
    finally:
        down = subprocess.run([sys.executable, "-m", "netweave", "emulate", "--down", prefix],
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert down.returncode == 0, down.stderr
    assert leftovers(prefix) == []


def test_ctrl_c_tears_the_lab_down(machine: object) -> None:
    prefix = new_prefix()
    proc = subprocess.Popen([sys.executable, "-m", "netweave", "emulate", "--quiet", "--prefix",
                             prefix, str(STACKS / "s2-many-to-many.yaml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as from a terminal: a suite started in the background (`&`)
                            # hands its children SIGINT ignored, and Ctrl-C would do nothing
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            if (run_dir(prefix) / "frr").is_dir():  # midway: vCPEs are booting
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert leftovers(prefix) == []


def _wait_for_wireguard_of(prefix: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the run records a running wireguard-go (its lab is half built), bounded."""
    state = run_dir(prefix) / "state.json"  # written atomically (tmp + rename)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if state.is_file() and any(p["role"].startswith("wireguard-go")
                                   for p in json.loads(state.read_text())["processes"]):
            return
        time.sleep(0.05)
    raise AssertionError(f"run {prefix} recorded no wireguard-go in {timeout:.0f} s")


def test_a_killed_run_is_found_named_and_removed_by_the_next_run(machine: object) -> None:
    killed = new_prefix()
    proc = subprocess.Popen([sys.executable, "-m", "netweave", "emulate", "--quiet", "--prefix",
                             killed, str(STACKS / "s1-one-to-one.yaml")], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_for_wireguard_of(killed, proc)
    finally:
        proc.kill()  # SIGKILL: no handler runs, the daemons it started keep running
        proc.wait(timeout=30)
    left = leftovers(killed)
    assert any(x.startswith("netns") for x in left) and any(x.startswith("process") for x in left)
    result = run(STACKS / "s1-one-to-one.yaml")
    assert [n for n in result.notes if f"removed lab {killed} left by a killed run" in n]
    assert leftovers(killed) == []
    assert not list(Path("/var/run/wireguard").glob(f"{killed}*"))


def test_a_kept_lab_is_not_mistaken_for_a_killed_one(machine: object) -> None:
    kept = new_prefix()
    run(STACKS / "s1-one-to-one.yaml", prefix=kept, keep=True)
    try:
        result = run(STACKS / "s1-one-to-one.yaml")
        assert not [n for n in result.notes if kept in n]
        assert f"{kept}v0" in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                             text=True).stdout
    finally:
        subprocess.run([sys.executable, "-m", "netweave", "emulate", "--down", kept], cwd=ROOT,
                       capture_output=True, timeout=30)
    assert leftovers(kept) == []
