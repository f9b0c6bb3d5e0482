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

from modules.emulate import EmulationResult, InjectedFailure, emulate
from modules.emulate.naming import new_prefix, run_dir
from modules.index import Index
from modules.lint import lint_file
from modules.model import Topology

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
TOOLS = ("ip", "dnsmasq", "dhclient", "wireguard-go", "wg", "vtysh", "iptables-restore", "ping")


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
    proc = subprocess.run([sys.executable, "-m", "modules", "emulate", "--quiet", "--format", "json",
                           str(STACKS / "s1-one-to-one.yaml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["hosts"] == ["vm01", "vm02"]
    assert {(p["from"], p["to"], p["observed"], p["predicted"]) for p in report["ping"]["pairs"]} == {
        ("vm01", "vm02", True, True), ("vm02", "vm01", True, True)}
    assert "teardown" in report["timings"]


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
        down = subprocess.run([sys.executable, "-m", "modules", "emulate", "--down", prefix],
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert down.returncode == 0, down.stderr
    assert leftovers(prefix) == []


def test_ctrl_c_tears_the_lab_down(machine: object) -> None:
    prefix = new_prefix()
    proc = subprocess.Popen([sys.executable, "-m", "modules", "emulate", "--quiet", "--prefix",
                             prefix, str(STACKS / "s2-many-to-many.yaml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
