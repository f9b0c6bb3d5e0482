"""Synthetic topologies for benchmarks: thousands of VPCs, ~100,000 prefixes and route pushes.

The shape is S3 repeated: pairs of Vultr VPCs (a /24 each, out of 10.0.0.0/8), each with a
vCPE, joined by a WireGuard tunnel with BGP. Behind every vCPE sit branch networks reached
through a router in its vxnet (static routes marked `advertise`), and both VPCs push routes
for all of them to their workloads (on Vultr: the cloud-init route snippet). A
must_reach intent per pair makes lint trace the paths too. Every prefix is distinct, so
the stack lints clean: what the benchmark measures is the cost of proving it.

    python bench/generate.py --prefixes 100000 > /tmp/big.yaml
"""

from __future__ import annotations

import argparse
import ipaddress
import sys


def generate(prefixes: int = 100_000, branches: int = 24) -> str:
    """YAML text of a synthetic stack with about ``prefixes`` prefixes in total.

    Per VPC: its subnet, ``branches`` static routes (each also advertised through the
    route's ``advertise`` flag, not a separate prefix), ``2 * branches + 1`` route pushes
    (the peer's networks and its own branches) and one ``bgp.advertise`` entry.
    """
    per_vpc = 1 + branches + (2 * branches + 1) + 1
    pairs = max(1, prefixes // (2 * per_vpc))
    if 2 * pairs > 32768:
        raise SystemExit("at most 32768 VPCs fit this generator's address plan")
    # VPC subnets: 10.0.0.0/9 in /24s; branch networks: 10.128.0.0/9 in /28s
    vpc_nets = ipaddress.IPv4Network("10.0.0.0/9").subnets(new_prefix=24)
    branch_nets = ipaddress.IPv4Network("10.128.0.0/9").subnets(new_prefix=28)

    out: list[str] = [
        "# synthetic benchmark stack (bench/generate.py)",
        "version: 1",
        "name: synthetic",
        "clouds:",
        "  vultr-ams: {provider: vultr, region: ams}",
        "vpcs:",
    ]
    hosts: list[str] = []
    vcpes: list[str] = []
    tunnels: list[str] = []
    intents: list[str] = []
    for p in range(pairs):
        sides: list[tuple[str, ipaddress.IPv4Network, list[ipaddress.IPv4Network]]] = []
        for side in ("a", "b"):
            net = next(vpc_nets)
            sides.append((f"p{p}{side}", net, [next(branch_nets) for _ in range(branches)]))
        for name, net, behind in sides:
            _, peer_net, peer_behind = sides[1] if name.endswith("a") else sides[0]
            base = net.network_address
            vcpe_ip, router_ip = base + 2, base + 254
            out.append(f"  vpc-{name}:")
            out.append("    cloud: vultr-ams")
            out.append(f"    cidr: {net}")
            out.append(f"    vxnets: {{net-{name}: {{cidr: {net}}}}}")
            out.append("    route_push:")
            out.append(f"      - {{destination: {peer_net}, next_hop: {vcpe_ip}}}")
            out.extend(f"      - {{destination: {b}, next_hop: {vcpe_ip}}}" for b in peer_behind)
            # its own branches too: Vultr workloads only know what cloud-init gives them
            out.extend(f"      - {{destination: {b}, next_hop: {vcpe_ip}}}" for b in behind)
            hosts.append(f"  h-{name}: {{vxnet: net-{name}, address: {base + 3}}}")
            vcpes.append(f"  vcpe-{name}:")
            vcpes.append(f"    nics: [{{vxnet: net-{name}, address: {vcpe_ip}}}]")
            vcpes.append(f"    bgp: {{asn: {65001 if name.endswith('a') else 65002}, "
                         f"advertise: [{net}]}}")
            vcpes.append("    static_routes:  # branch networks behind a router in the subnet")
            vcpes.extend(f"      - {{destination: {b}, next_hop: {router_ip}, advertise: true}}"
                         for b in behind)
        tunnel_net = ipaddress.ip_network(f"169.254.{(p // 64) % 256}.{(p % 64) * 4}/30")
        if p >= 64 * 256:
            raise SystemExit("too many tunnels for 169.254.0.0/16")
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
    parser.add_argument("--branches", type=int, default=24,
                        help="branch networks behind each vCPE")
    args = parser.parse_args()
    sys.stdout.write(generate(args.prefixes, args.branches))


if __name__ == "__main__":
    main()
