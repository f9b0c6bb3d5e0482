"""Benchmark: the reachability matrix of a hub-and-spoke interconnect.

    python bench/reach_matrix.py [SPOKES] [HOSTS_PER_SPOKE]

Prints the time to build the forwarding model (tables + BGP fixed point) and to
compute every ordered host pair's ping (request and reply), plus peak memory.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netweave.forwarding.reach import Network
from netweave.model.index import Index
from netweave.model.topology import Topology


def hub_and_spoke(spokes: int, hosts_per_spoke: int) -> dict[str, Any]:
    """Spoke i: VPC 10.i.0.0/16 (i from 1), vxnet 10.i.1.0/24, a vCPE at .2 with a tunnel
    to the hub vCPE, which is transit for every spoke prefix."""
    vpcs: dict[str, Any] = {"hub": {"cloud": "qc", "cidr": "10.0.0.0/16",
                                    "vxnets": {"hubnet": {"cidr": "10.0.1.0/24"}}}}
    hosts: dict[str, Any] = {}
    vcpes: dict[str, Any] = {"hub-vcpe": {"nics": [{"vxnet": "hubnet", "address": "10.0.1.2"}],
                                          "bgp": {"asn": 64512, "advertise": []}}}
    tunnels = []
    for i in range(1, spokes + 1):
        a, b = divmod(i, 250)
        cidr = f"10.{a + 1}.{b}.0/24"
        base = cidr.rsplit(".", 1)[0]
        vpcs[f"vpc{i}"] = {"cloud": "qc", "cidr": cidr, "vxnets": {f"net{i}": {"cidr": cidr}},
                           "route_push": [{"destination": "10.0.0.0/8", "next_hop": f"{base}.2"}]}
        vcpes[f"vcpe{i}"] = {"nics": [{"vxnet": f"net{i}", "address": f"{base}.2"}],
                             "bgp": {"asn": 64512 + i, "advertise": [cidr]}}
        vcpes["hub-vcpe"]["bgp"]["advertise"].append(cidr)
        for h in range(hosts_per_spoke):
            hosts[f"vm{i}-{h}"] = {"vxnet": f"net{i}", "address": f"{base}.{10 + h}"}
        t = 4 * i
        tunnels.append({"name": f"t{i}", "ends": [
            {"vcpe": "hub-vcpe", "address": f"100.64.{t // 256}.{t % 256 + 1}/30"},
            {"vcpe": f"vcpe{i}", "address": f"100.64.{t // 256}.{t % 256 + 2}/30"}]})
    return {"clouds": {"qc": {"provider": "qingcloud", "zone": "pek3a"}}, "vpcs": vpcs,
            "hosts": hosts, "vcpes": vcpes, "tunnels": tunnels}


def main() -> None:
    spokes = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    topology = Topology.model_validate(hub_and_spoke(spokes, per))
    index = Index.build(topology)
    started = time.perf_counter()
    net = Network.build(topology, index)
    built = time.perf_counter()
    results = net.matrix()
    done = time.perf_counter()
    ok = sum(p.reachable for p in results)
    tracemalloc.start()  # a second run for memory: tracing slows Python down twice over
    Network.build(topology, index).matrix()
    _, peak = tracemalloc.get_traced_memory()
    print(f"{spokes} spokes, {len(topology.hosts)} hosts, {len(results)} pings ({ok} reachable)")
    print(f"build (tables + BGP): {built - started:.3f} s")
    print(f"matrix:               {done - built:.3f} s "
          f"({(done - built) / max(len(results), 1) * 1e6:.1f} us per ping)")
    print(f"peak memory:          {peak / 2**20:.1f} MiB (model and every trace kept)")


if __name__ == "__main__":
    main()
