"""Emulation benchmark: end-to-end time (build, converge, full matrix, teardown) and
peak memory, for S2 (target < 5 s) and a synthetic 50-vCPE hub-and-spoke (< 60 s).

Run as root: venv/bin/python bench/emulate_bench.py [--spokes N]
Memory = PSS of every process the run started (FRR, wireguard-go, dnsmasq, dhclient)
plus this Python process, sampled with the lab fully up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netweave.emulate import Lab, emulate
from netweave.emulate.processes import pss_kib
from netweave.emulate.progress import Progress
from netweave.lint import lint_file
from netweave.model.index import Index
from netweave.model.topology import Topology

ROOT = Path(__file__).resolve().parent.parent


def hub_and_spoke(spokes: int) -> Topology:
    """One hub VPC and ``spokes`` spoke VPCs, a vCPE and a VM in each, a WireGuard tunnel
    with BGP from every spoke vCPE to the hub vCPE; the hub re-announces every spoke."""
    spoke_nets = [f"10.{n}.1.0/24" for n in range(1, spokes + 1)]
    data: dict[str, Any] = {
        "version": 1, "name": f"hub-and-{spokes}-spokes",
        "clouds": {"qc": {"provider": "qingcloud", "zone": "pek3a"}},
        "vpcs": {"hub": {"cloud": "qc", "cidr": "192.168.0.0/16",
                         "vxnets": {"hub-net": {"cidr": "192.168.1.0/24"}},
                         "route_push": [{"destination": "10.0.0.0/8", "next_hop": "192.168.1.2"}]}},
        "hosts": {"hub-vm": {"vxnet": "hub-net", "address": "192.168.1.3"}},
        "vcpes": {"hub-vcpe": {"nics": [{"vxnet": "hub-net", "address": "192.168.1.2"}],
                               "bgp": {"asn": 65000,
                                       "advertise": ["192.168.1.0/24", *spoke_nets]}}},
        "tunnels": [],
    }
    for n in range(1, spokes + 1):
        data["vpcs"][f"spoke{n}"] = {
            "cloud": "qc", "cidr": f"10.{n}.0.0/16", "vxnets": {f"net{n}": {"cidr": f"10.{n}.1.0/24"}},
            "route_push": [{"destination": "192.168.1.0/24", "next_hop": f"10.{n}.1.2"},
                           {"destination": "10.0.0.0/8", "next_hop": f"10.{n}.1.2"}]}
        data["hosts"][f"vm{n}"] = {"vxnet": f"net{n}", "address": f"10.{n}.1.3"}
        data["vcpes"][f"vcpe{n}"] = {"nics": [{"vxnet": f"net{n}", "address": f"10.{n}.1.2"}],
                                     "bgp": {"asn": 65000 + n, "advertise": [f"10.{n}.1.0/24"]}}
        base = 4 * n
        data["tunnels"].append({"name": f"hub-{n}", "ends": [
            {"vcpe": "hub-vcpe", "address": f"169.254.{base // 256}.{base % 256 + 1}/30"},
            {"vcpe": f"vcpe{n}", "address": f"169.254.{base // 256}.{base % 256 + 2}/30"}]})
    return Topology.model_validate(data)


def measure(name: str, topology: Topology) -> None:
    peak: dict[str, int] = {}

    def sample(lab: Lab) -> None:
        procs = lab.procs.tracked
        peak["processes"] = len(procs)
        peak["kib"] = sum(pss_kib(p.pid) for p in procs) + pss_kib(os.getpid())

    progress = Progress(quiet=True)
    started = time.monotonic()
    result = emulate(topology, Index.build(topology), progress=progress, on_ready=sample)
    total = time.monotonic() - started
    pairs = len(result.verdict.observed)
    agree = pairs - len(result.verdict.differences)
    print(f"{name}: {total:.2f} s end to end; {pairs} pairs, {agree} agree with reach, "
          f"BGP problems {len(result.bgp_problems)}; peak memory {peak.get('kib', 0) / 1024:.0f} MiB "
          f"PSS ({peak.get('processes', 0)} processes + this one)")
    print("  " + progress.summary())
    for problem in result.bgp_problems[:5]:
        print(f"  BGP: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spokes", type=int, default=49, help="spoke vCPEs (+1 hub)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("emulate_bench: needs root", file=sys.stderr)
        return 1
    s2 = lint_file(str(ROOT / "stacks" / "s2-many-to-many.yaml")).topology
    assert s2 is not None
    measure("S2 (target < 5 s)", s2)
    measure(f"{args.spokes + 1} vCPEs hub-and-spoke (target < 60 s)", hub_and_spoke(args.spokes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
