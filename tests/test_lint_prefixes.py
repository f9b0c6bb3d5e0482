"""The sorted prefix sets behind lint's coverage checks and "did you mean" hints."""

from __future__ import annotations

import netaddr
from netweave.lint.prefixes import Candidates, PrefixSet, point, typo_of

N = netaddr.IPNetwork
A = netaddr.IPAddress


def test_two_halves_cover_the_whole() -> None:
    halves = PrefixSet.build([N("10.0.0.0/25"), N("10.0.0.128/25")])
    assert halves.covers(N("10.0.0.0/24"))


def test_a_prefix_only_partly_inside_is_not_covered() -> None:
    assert not PrefixSet.build([N("10.0.0.0/25")]).covers(N("10.0.0.0/24"))


def test_overlap_without_cover_is_reported_as_overlap() -> None:
    assert PrefixSet.build([N("10.0.0.0/25")]).overlaps(N("10.0.0.0/24"))


def test_ipv6_ranges_never_cover_ipv4_prefixes() -> None:
    assert not PrefixSet.build([N("::/0")]).covers(N("10.0.0.0/8"))


def test_a_one_digit_typo_finds_its_address_even_when_numerically_far() -> None:
    addresses = [A(f"192.168.{third}.5") for third in range(100, 200)]
    found = Candidates.build((point(a), str(a), a) for a in addresses)
    assert found.nearest("192.168.1390.5", point(A("192.168.255.5"))) in addresses
    assert found.nearest("192.168.129.6", point(A("192.168.129.6"))) == A("192.168.129.5")


def test_a_typo_hint_is_only_offered_when_a_few_keystrokes_away() -> None:
    nets = PrefixSet.build([N("192.168.129.0/24"), N("172.17.0.0/24")])
    assert typo_of([nets], N("192.168.139.0/24")) == N("192.168.129.0/24")
    assert typo_of([nets], N("10.200.0.0/16")) is None
