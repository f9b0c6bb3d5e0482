"""Rehearsing a change (``netweave emulate BASE --change HEAD``), as root: BASE boots, every
pair is probed every 100 ms, HEAD is applied through the deploy's own in-place path (the
HostConfig provider over SSH to a real sshd in each vCPE, the rendered apply.sh, the real
daemons), then HEAD's matrix is checked. About ten seconds per run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from netweave.emulate import EmulationResult, emulate_change
from netweave.emulate.change import KEPT_GAP_MS, RESET_GAP_MS, renamed_tunnels
from netweave.emulate.naming import new_prefix
from netweave.lint import lint_file
from netweave.render import render_topology

ROOT = Path(__file__).resolve().parent.parent
S1, S2 = ROOT / "stacks" / "s1-one-to-one.yaml", ROOT / "stacks" / "s2-many-to-many.yaml"
CASES = ROOT / "tests" / "emulate"
TOOLS = ("ip", "dnsmasq", "dhclient", "wireguard-go", "wg", "vtysh", "iptables-restore", "ping",
         "ssh", "/usr/sbin/sshd", "/usr/lib/frr/frr-reload.py")


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"missing tools: {', '.join(missing)} (bash .ci/setup installs them)" if missing else None


root_only = pytest.mark.skipif(_unavailable() is not None, reason=_unavailable() or "")


def rehearse(base: Path, head: Path) -> EmulationResult:
    b, h = lint_file(str(base)), lint_file(str(head))
    assert b.topology is not None and h.topology is not None
    return emulate_change(b.topology, b.index, h.topology, h.index, file=str(base),
                          head_file=str(head), prefix=new_prefix())


def pairs(result: EmulationResult) -> dict[tuple[str, str], dict[str, object]]:
    assert result.change is not None
    return {(p["from"], p["to"]): p for p in result.change["pairs"]}


def applied(result: EmulationResult, host: str) -> str:
    assert result.change is not None
    return "\n".join(result.change["hosts"][host])


@root_only
def test_s1_to_s2_attaches_the_nic_and_keeps_vm01_vm02_answering() -> None:
    result = rehearse(S1, S2)
    assert result.ok, "\n".join(result.report)
    for pair in (("vm01", "vm02"), ("vm02", "vm01")):
        p = pairs(result)[pair]
        assert p["kind"] == "kept" and p["ok"] and p["sent"] > 0
        assert p["longest_gap_ms"] <= KEPT_GAP_MS
    assert result.verdict.observed[("vm03", "vm02")] and result.verdict.observed[("vm02", "vm03")]
    assert any("NIC 1 hot-attached to running vcpe01" in c for c in result.change["cloud"])  # type: ignore[index]
    assert "NICs: eth0, eth1 addressed" in applied(result, "vcpe01")
    assert "frr-reload.py --reload" in applied(result, "vcpe01")
    assert "wg syncconf (the interface stayed up)" in applied(result, "vcpe02")


@root_only
def test_a_missing_return_push_fails_the_rehearsal_and_names_the_lost_pairs() -> None:
    result = rehearse(S1, CASES / "s2-missing-return-push.yaml")
    assert not result.ok
    verdict_line = next(line for line in result.report if line.startswith("change FAILED"))
    assert "unreachable after the change: vm02 -> vm03, vm03 -> vm02" in verdict_line
    assert all(p["ok"] for p in pairs(result).values()), "vm01 <-> vm02 kept answering"


@root_only
@pytest.mark.xfail(strict=True, reason="known, not fixed: after frr-reload.py renumbers `router bgp` "
                   "(65002 -> 65003) the sessions do not carry routes again within 15 s in the lab; "
                   "the rehearsal reports it (exit 1, pairs named), which is what this run shows")
def test_an_asn_change_is_applied_in_place_with_its_session_restart_predicted() -> None:
    result = rehearse(S1, CASES / "s1-asn-change.yaml")
    assert result.ok, "\n".join(result.report)
    p = pairs(result)[("vm01", "vm02")]
    assert p["bound_ms"] == RESET_GAP_MS and "AS 65002 -> 65003" in str(p["expectation"])
    assert "frr-reload.py --reload" in applied(result, "vcpe02")


@root_only
def test_an_added_advertisement_is_applied_in_place() -> None:
    result = rehearse(CASES / "s2-no-advertisement.yaml", S2)
    assert result.ok, "\n".join(result.report)
    assert result.verdict.observed[("vm03", "vm02")] and result.verdict.observed[("vm02", "vm03")]
    assert all(p["lost"] == 0 for p in pairs(result).values() if p["kind"] == "kept")
    assert "installed /etc/frr/frr.conf" in applied(result, "vcpe01")


@root_only
def test_an_added_tunnel_comes_up_in_place_without_loss() -> None:
    result = rehearse(CASES / "s1-two-tunnels.yaml", CASES / "s1-three-tunnels.yaml")
    assert result.ok, "\n".join(result.report)
    assert "new tunnel up" in applied(result, "vcpe01") and "new tunnel up" in applied(result, "vcpe02")
    assert pairs(result)[("vm01", "vm02")]["lost"] == 0


@root_only
def test_a_removed_route_push_is_withdrawn_from_the_vm() -> None:
    result = rehearse(S2, CASES / "s2-push-removed.yaml")
    assert result.ok, "\n".join(result.report)
    assert pairs(result)[("vm02", "vm03")]["kind"] == "lost"
    assert not result.verdict.observed[("vm02", "vm03")]
    assert applied(result, "vcpe01") == "no change: nothing sent"
    assert any("leases renewed: vm02" in c for c in result.change["cloud"])  # type: ignore[index]


def test_a_second_tunnel_to_the_same_peer_renames_the_first_and_that_restart_is_predicted() -> None:
    # a rename is a down/up of the tunnel: the rehearsal widens the kept pairs' bound for it
    base, head = lint_file(str(S1)), lint_file(str(CASES / "s1-two-tunnels.yaml"))
    assert base.topology is not None and head.topology is not None
    found = renamed_tunnels(render_topology(base.topology, base.index),
                            render_topology(head.topology, head.index))
    assert set(found) == {"vcpe01", "vcpe02"} and "renamed wg-vcpe02 -> wg-" in found["vcpe01"]


def test_a_change_that_must_replace_the_vcpe_is_not_rehearsed(tmp_path: Path) -> None:
    head = tmp_path / "s1-moved.yaml"
    head.write_text(S1.read_text().replace("- {vxnet: vxnet02, address: 172.17.0.2}",
                                           "- {vxnet: vxnet02, address: 172.17.0.4}")
                    .replace("next_hop: 172.17.0.2", "next_hop: 172.17.0.4"))
    proc = subprocess.run([sys.executable, "-m", "netweave", "emulate", str(S1), "--change", str(head)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "not an in-place change, not rehearsed: vCPE vcpe02: its primary address changes" in proc.stderr
