"""Emulation benchmark: time per phase, end to end, and memory per vCPE, for S2 and for a
synthetic hub-and-spoke at 2, 10, 25 and 50 vCPEs (targets at 50: <= 30 s end to end and
<= 25 MB per vCPE).

Run as root, under the emulation lock:
    flock /tmp/netweave-emulation.lock venv/bin/python bench/emulate_bench.py [--sizes 2,10,25,50]
Memory = PSS of every process the run started (FRR, wireguard-go, dnsmasq, dhclient)
plus this Python process, sampled with the lab fully up; per vCPE = that sum divided by
the number of vCPEs (each vCPE comes with its VPC's VM, DHCP server and tunnel ends).
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
    vcpes = len(topology.vcpes)
    mib = peak.get("kib", 0) / 1024
    print(f"{name}: {total:.2f} s end to end; {pairs} pairs, {agree} agree with reach, "
          f"BGP problems {len(result.bgp_problems)}; {mib:.0f} MiB PSS for "
          f"{peak.get('processes', 0)} processes + this one = {mib / max(vcpes, 1):.1f} MiB per vCPE")
    print("  " + progress.summary())
    for problem in result.bgp_problems[:5]:
        print(f"  BGP: {problem}")
    if vcpes >= 50:
        print(f"  targets at 50 vCPEs: {measure_verdict(total, 30)} s end to end; "
              f"{measure_verdict(mib / vcpes, 25)} MiB per vCPE")


def measure_verdict(value: float, target: float) -> str:
    return f"{value:.1f} (target <= {target:g}: {'met' if value <= target else 'NOT MET'})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2,10,25,50",
                        help="hub-and-spoke sizes in vCPEs (hub included), comma-separated")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("emulate_bench: needs root", file=sys.stderr)
        return 1
    s2 = lint_file(str(ROOT / "stacks" / "s2-many-to-many.yaml")).topology
    assert s2 is not None
    measure("S2 (2 vCPEs, 3 VMs)", s2)
    for size in (int(n) for n in args.sizes.split(",")):
        measure(f"hub and {size - 1} spokes ({size} vCPEs)", hub_and_spoke(size - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
