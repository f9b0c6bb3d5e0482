"""Address parsing in the schema: strict, fast, and equal to netaddr's reading."""

from __future__ import annotations

import contextlib
import ipaddress
import re

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st
from netweave.model.topology import parse_address, parse_cidr, parse_interface
from pydantic_core import PydanticCustomError


@given(st.ip_addresses(v=4))
def test_ipv4_address_parses_to_the_same_value_as_netaddr(addr: ipaddress.IPv4Address) -> None:
    assert parse_address(str(addr)) == netaddr.IPAddress(str(addr))


@given(st.ip_addresses(v=6))
def test_ipv6_address_parses_to_the_same_value_as_netaddr(addr: ipaddress.IPv6Address) -> None:
    assert parse_address(str(addr)) == netaddr.IPAddress(str(addr))


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_cidr_is_accepted_exactly_when_host_bits_are_zero(addr: ipaddress.IPv4Address,
                                                          length: int) -> None:
    text = f"{addr}/{length}"
    network = ipaddress.ip_network(text, strict=False)
    if network.network_address == addr:
        assert parse_cidr(text) == netaddr.IPNetwork(text)
    else:
        with pytest.raises(PydanticCustomError) as err:
            parse_cidr(text)
        assert err.value.type == "cidr_host_bits"
        assert err.value.context is not None
        assert err.value.context["hint"] == f"did you mean {network}?"


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_interface_address_keeps_its_host_part(addr: ipaddress.IPv4Address, length: int) -> None:
    parsed = parse_interface(f"{addr}/{length}")
    assert (str(parsed.ip), parsed.prefixlen) == (str(addr), length)


@given(st.text(max_size=40))
def test_arbitrary_text_is_accepted_or_refused_with_a_schema_error(text: str) -> None:
    for parse in (parse_address, parse_cidr, parse_interface):
        with contextlib.suppress(PydanticCustomError):
            parse(text)


@pytest.mark.parametrize("text", ["192.168.01.1", "192.168.1", "1.2.3.4.5", "256.1.1.1",
                                  "3232235522", " ", "192.168.1.1 /24"])
def test_sloppy_address_forms_are_refused(text: str) -> None:
    with pytest.raises(PydanticCustomError):
        parse_address(text)


def test_prefix_length_above_32_is_refused() -> None:
    with pytest.raises(PydanticCustomError):
        parse_cidr("10.0.0.0/33")


def test_an_address_where_a_network_belongs_suggests_the_prefix() -> None:
    with pytest.raises(PydanticCustomError) as err:
        parse_cidr("10.1.2.0")
    assert err.value.context is not None and "10.1.2.0/24" in err.value.context["hint"]


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_editor_schema_pattern_accepts_every_ipv4_prefix(addr: ipaddress.IPv4Address,
                                                         length: int) -> None:
    from netweave.model.topology import ADDRESS_PATTERN, PREFIX_PATTERN

    assert re.match(ADDRESS_PATTERN, str(addr))
    assert re.match(PREFIX_PATTERN, f"{addr}/{length}")


@given(st.ip_addresses(v=6), st.integers(0, 128))
def test_editor_schema_pattern_accepts_every_ipv6_prefix(addr: ipaddress.IPv6Address,
                                                         length: int) -> None:
    from netweave.model.topology import ADDRESS_PATTERN, PREFIX_PATTERN

    assert re.match(ADDRESS_PATTERN, str(addr).split("%")[0]) or "." in str(addr)
    assert re.match(PREFIX_PATTERN, f"{addr}/{length}") or "." in str(addr)


@pytest.mark.parametrize("text", ["192.168.0.0/33", "300.1.1.1/24", "10.0.0/8", "10.0.0.0"])
def test_editor_schema_pattern_refuses_what_lint_refuses(text: str) -> None:
    from netweave.model.topology import PREFIX_PATTERN

    assert not re.match(PREFIX_PATTERN, text)
