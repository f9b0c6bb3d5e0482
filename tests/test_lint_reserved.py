"""Which addresses of a vxnet the cloud keeps for itself (A206), on any network."""

from __future__ import annotations

import netaddr
from hypothesis import given
from hypothesis import strategies as st
from netweave.lint.addressing import reserved
from netweave.model.topology import parse_cidr


@st.composite
def network_and_address(draw: st.DrawFn) -> tuple[netaddr.IPNetwork, netaddr.IPAddress]:
    version = draw(st.sampled_from([4, 6]))
    bits = 32 if version == 4 else 128
    plen = draw(st.integers(bits - 12, bits))
    size = 1 << (bits - plen)
    base = draw(st.integers(0, (1 << bits) - 1)) & ~(size - 1)
    offset = draw(st.sampled_from([0, 1, 2, size - 1, size - 2]) | st.integers(0, size - 1))
    net = netaddr.IPNetwork((base, plen), version=version)
    return net, netaddr.IPAddress(base + offset % size, version)


@given(network_and_address())
def test_only_network_broadcast_and_gateway_addresses_are_reserved(
        case: tuple[netaddr.IPNetwork, netaddr.IPAddress]) -> None:
    net, address = case
    kept = set() if net.size <= 2 else {int(net.network), int(net.network) + 1}
    if net.version == 4 and net.size > 2:
        kept.add(int(net.broadcast))
    assert (reserved(net, address) is not None) == (int(address) in kept)


@given(network_and_address())
def test_the_model_network_and_a_plain_netaddr_one_reserve_alike(
        case: tuple[netaddr.IPNetwork, netaddr.IPAddress]) -> None:
    net, address = case
    assert reserved(parse_cidr(str(net)), address) == reserved(net, address)


def test_an_address_of_the_other_ip_version_is_not_reserved() -> None:
    assert reserved(netaddr.IPNetwork("10.0.0.0/24"), netaddr.IPAddress("::a00:1")) is None
