"""Synthetic topologies for benchmarks: thousands of VPCs, ~100,000 prefixes and route pushes.

The shape is S1 repeated: pairs of QingCloud VPCs, each with a vCPE, joined by a WireGuard
tunnel with BGP; every vxnet is advertised by its vCPE and pushed to the peer VPC. All
vxnets are distinct /28s (QingCloud VPC ranges are only seventeen /16s, so VPC CIDRs repeat
across pairs as they do for real customers; the networks that route to each other don't).

    python bench/generate.py --prefixes 100000 > /tmp/big.yaml
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Iterator

QINGCLOUD_RANGES = [f"172.{n}.0.0/16" for n in range(16, 32)] + ["192.168.0.0/16"]


def _vxnets_per_range() -> Iterator[tuple[str, list[str]]]:
    """(VPC CIDR, its /28 vxnets) in allocation order."""
    for vpc_cidr in QINGCLOUD_RANGES:
        net = ipaddress.ip_network(vpc_cidr)
        subnets = [str(s) for s in net.subnets(new_prefix=28)]
        yield vpc_cidr, subnets


def generate(prefixes: int = 100_000, vxnets_per_vpc: int = 16) -> str:
    """YAML text of a synthetic stack with about ``prefixes`` prefixes in total.

    Each vxnet contributes four prefixes: its CIDR, its BGP advertisement, the vCPE's
    static route to it and the route push for it in the peer VPC.
    """
    # per VPC: (n + 1) vxnets, n + 1 advertisements, n + 1 route pushes, n static routes
    per_vpc = 4 * vxnets_per_vpc + 3
    pairs = max(1, prefixes // (2 * per_vpc))
    pool = [(vpc, list(reversed(subs))) for vpc, subs in _vxnets_per_range()]
    capacity = sum(len(s) for _, s in pool)
    if pairs * 2 * (vxnets_per_vpc + 1) > capacity:
        raise SystemExit(f"at most {capacity // 3 * 3} prefixes fit this generator's address plan")

    out: list[str] = [
        "# synthetic benchmark stack (bench/generate.py)",
        "version: 1",
        "name: synthetic",
        "clouds:",
        "  qc: {provider: qingcloud, zone: pek3a}",
        "vpcs:",
    ]
    hosts: list[str] = []
    vcpes: list[str] = []
    tunnels: list[str] = []
    intents: list[str] = []
    slot = 0  # which QingCloud range the next VPC draws its vxnets from

    def take_vpc() -> tuple[str, list[str]]:
        nonlocal slot
        for _ in range(len(pool)):
            vpc_cidr, subs = pool[slot % len(pool)]
            slot += 1
            if len(subs) > vxnets_per_vpc:
                return vpc_cidr, [subs.pop() for _ in range(vxnets_per_vpc + 1)]
        raise SystemExit("address plan exhausted")

    for p in range(pairs):
        sides = []
        for side in ("a", "b"):
            vpc_cidr, subs = take_vpc()
            sides.append((f"p{p}{side}", vpc_cidr, ipaddress.ip_network(subs[0]), subs[1:]))
        for name, vpc_cidr, gw_net, subs in sides:
            peer = sides[1] if name.endswith("a") else sides[0]
            out.append(f"  vpc-{name}:")
            out.append("    cloud: qc")
            out.append(f"    cidr: {vpc_cidr}")
            out.append("    vxnets:")
            out.append(f"      gw-{name}: {{cidr: {gw_net}}}")
            for i, s in enumerate(subs):
                out.append(f"      vx-{name}-{i}: {{cidr: {s}}}")
            out.append("    route_push:")
            vcpe_ip = gw_net.network_address + 2
            for s in peer[3]:
                out.append(f"      - {{destination: {s}, next_hop: {vcpe_ip}}}")
            out.append(f"      - {{destination: {peer[2]}, next_hop: {vcpe_ip}}}")
            hosts.append(f"  h-{name}: {{vxnet: gw-{name}, address: {gw_net.network_address + 3}}}")
            # the vCPE has a NIC in every vxnet of its VPC so each push is on-link
            nics = [f"      - {{vxnet: gw-{name}, address: {vcpe_ip}}}"]
            adverts = [str(gw_net), *subs]
            vcpes.append(f"  vcpe-{name}:")
            vcpes.append("    nics:")
            vcpes.extend(nics)
            vcpes.append("    bgp:")
            vcpes.append(f"      asn: {65000 + (1 if name.endswith('a') else 2)}")
            vcpes.append("      advertise:")
            vcpes.extend(f"        - {a}" for a in adverts)
            vcpes.append("    static_routes:  # the VPC's other vxnets, via the VPC router")
            router = gw_net.network_address + 1
            vcpes.extend(f"      - {{destination: {s}, next_hop: {router}}}" for s in subs)
        tunnel_net = ipaddress.ip_network(f"169.254.{(p // 64) % 256}.{(p % 64) * 4}/30")
        a_ip, b_ip = list(tunnel_net.hosts())
        tunnels.append(f"  - ends: [{{vcpe: vcpe-{sides[0][0]}, address: {a_ip}/30}}, "
                       f"{{vcpe: vcpe-{sides[1][0]}, address: {b_ip}/30}}]")
        intents.append(f"    - {{from: h-{sides[0][0]}, to: h-{sides[1][0]}}}")
    out.append("hosts:")
    out.extend(hosts)
    out.append("vcpes:")
    out.extend(vcpes)
    out.append("tunnels:")
    out.extend(tunnels)
    out.append("intent:")
    out.append("  must_reach:")
    out.extend(intents)
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--vxnets-per-vpc", type=int, default=16)
    args = parser.parse_args()
    sys.stdout.write(generate(args.prefixes, args.vxnets_per_vpc))


if __name__ == "__main__":
    main()
