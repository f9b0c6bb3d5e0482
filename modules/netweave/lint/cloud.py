"""A205: the address ranges each cloud accepts for VPCs and their subnets.

QingCloud (``yunify/qingcloud-docs``, content/network/vpc/api/vpc_api/):
- ``CreateRouters.vpc_network``: the VPC range is a /16 — the docs list 192.168.0.0/16
  and 172.16.0.0/16, the console offers the other 172.16-31 /16s too, and the
  Terraform provider accepted 172.16-25. We accept 192.168.0.0/16 and 172.16.0.0/16
  through 172.31.0.0/16.
- ``JoinRouter.ip_network``: a vxnet is a /24 ("192.168.x.0/24 and 172.16.x.0/24"),
  not repeated within one router; the router's manager address is its ``.1``.

Vultr: a VPC is one private (RFC 1918) network in one location; netweave models it as
a VPC with exactly one vxnet whose CIDR is the VPC's.
"""

from __future__ import annotations

from collections.abc import Iterator

import netaddr

from netweave.lint import Context
from netweave.lint.findings import Finding, finding

QINGCLOUD_VPC_RANGES = tuple(netaddr.IPNetwork(n) for n in
                             ["192.168.0.0/16", *(f"172.{b}.0.0/16" for b in range(16, 32))])
QINGCLOUD_VXNET_PREFIXLEN = 24
RFC1918 = tuple(netaddr.IPNetwork(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def cloud_range_findings(ctx: Context) -> Iterator[Finding]:
    for vpc_name, vpc in ctx.topology.vpcs.items():
        cloud = ctx.topology.clouds.get(vpc.cloud)
        if cloud is None:
            continue
        if cloud.provider == "qingcloud":
            yield from _qingcloud(vpc_name, vpc.cidr, vpc.vxnets)
        else:
            yield from _vultr(vpc_name, vpc.cidr, vpc.vxnets)


def _qingcloud(vpc_name: str, cidr: netaddr.IPNetwork, vxnets: dict) -> Iterator[Finding]:  # type: ignore[type-arg]
    if cidr not in QINGCLOUD_VPC_RANGES:
        yield finding("A205", f"VPC {vpc_name} uses {cidr}, a range QingCloud does not offer: "
                      "a QingCloud VPC is 192.168.0.0/16 or one of 172.16.0.0/16 ... 172.31.0.0/16",
                      ("vpcs", vpc_name, "cidr"), _qingcloud_vpc_hint(cidr))
    for vx_name, vx in vxnets.items():
        if vx.cidr.version == 4 and vx.cidr.prefixlen != QINGCLOUD_VXNET_PREFIXLEN:
            guess = netaddr.IPNetwork((int(vx.cidr.network), QINGCLOUD_VXNET_PREFIXLEN), version=4)
            guess = guess.cidr
            yield finding("A205", f"vxnet {vx_name} is a /{vx.cidr.prefixlen}; QingCloud vxnets "
                          "joined to a VPC are /24 networks (JoinRouter ip_network)",
                          ("vpcs", vpc_name, "vxnets", vx_name, "cidr"), f"did you mean {guess}?")


def _qingcloud_vpc_hint(cidr: netaddr.IPNetwork) -> str:
    if cidr.version == 4:
        wide = netaddr.IPNetwork((int(cidr.network), 16), version=4).cidr
        if wide in QINGCLOUD_VPC_RANGES:
            return f"did you mean {wide}?"
    return "use 192.168.0.0/16 or a 172.16-31.0.0/16, e.g. 172.20.0.0/16"


def _vultr(vpc_name: str, cidr: netaddr.IPNetwork, vxnets: dict) -> Iterator[Finding]:  # type: ignore[type-arg]
    if not any(cidr.version == 4 and cidr in r for r in RFC1918):
        yield finding("A205", f"VPC {vpc_name} uses {cidr}; a Vultr VPC is a private IPv4 range "
                      "(10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)", ("vpcs", vpc_name, "cidr"),
                      "e.g. 10.8.0.0/20")
    for n, (vx_name, vx) in enumerate(vxnets.items()):
        path = ("vpcs", vpc_name, "vxnets", vx_name, "cidr")
        if n > 0:
            yield finding("A205", f"VPC {vpc_name} is on Vultr, where a VPC is a single subnet; "
                          f"vxnet {vx_name} would be a second one", ("vpcs", vpc_name, "vxnets", vx_name),
                          "make it its own Vultr VPC (VPCs in one location are joined by a vCPE)",
                          at_key=True)
        elif vx.cidr != cidr:
            yield finding("A205", f"vxnet {vx_name} ({vx.cidr}) differs from its Vultr VPC "
                          f"{vpc_name} ({cidr}): a Vultr VPC is one subnet, the VPC range itself",
                          path, f"did you mean {cidr}?")
