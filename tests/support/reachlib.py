"""Small topologies for the forwarding model's tests, written as YAML like users do."""

from __future__ import annotations

import textwrap

from netweave.forwarding.reach import Network
from netweave.lint.schema import validate
from netweave.model.index import Index
from netweave.model.source import parse
from netweave.model.topology import Topology

# Two VPCs, one vCPE each, a tunnel with BGP: the smallest working interconnect (S1).
PAIR = """
clouds:
  qc: {provider: qingcloud, zone: pek3a}
vpcs:
  vpca:
    cloud: qc
    cidr: 10.1.0.0/16
    vxnets:
      neta: {cidr: 10.1.1.0/24}
    route_push:
      - {destination: 10.2.1.0/24, next_hop: 10.1.1.2}
  vpcb:
    cloud: qc
    cidr: 10.2.0.0/16
    vxnets:
      netb: {cidr: 10.2.1.0/24}
    route_push:
      - {destination: 10.1.1.0/24, next_hop: 10.2.1.2}
hosts:
  ha: {vxnet: neta, address: 10.1.1.3}
  hb: {vxnet: netb, address: 10.2.1.3}
vcpes:
  ra:
    nics: [{vxnet: neta, address: 10.1.1.2}]
    bgp: {asn: 65001, advertise: [10.1.1.0/24]}
  rb:
    nics: [{vxnet: netb, address: 10.2.1.2}]
    bgp: {asn: 65002, advertise: [10.2.1.0/24]}
tunnels:
  - name: ra-rb
    ends:
      - {vcpe: ra, address: 169.254.1.1/30}
      - {vcpe: rb, address: 169.254.1.2/30}
"""


def topology(text: str) -> tuple[Topology, Index]:
    text = textwrap.dedent(text)
    if not text.lstrip().startswith("version:"):  # the small stacks here say only what they test
        text = "version: 1\n" + text.lstrip("\n")
    result = validate(parse(text))
    assert result.topology is not None, [f.message for f in result.findings]
    return result.topology, Index.build(result.topology)


def network(text: str) -> Network:
    return Network.build(*topology(text))


def edit(text: str, old: str, new: str) -> str:
    """PAIR with one line changed: fixtures read as 'the working one, except ...'."""
    assert old in text, old
    return text.replace(old, new, 1)
