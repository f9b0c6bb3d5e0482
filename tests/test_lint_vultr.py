"""R314's coverage sweep: a prefix is covered only by a push destination containing it."""

from __future__ import annotations

import netaddr
from hypothesis import given
from hypothesis import strategies as st
from netweave.lint.vultr import _uncovered


def _net(text: str) -> netaddr.IPNetwork:
    return netaddr.IPNetwork(text)


def test_wider_push_covers_and_sibling_does_not() -> None:
    prefixes = [_net("192.168.10.0/24"), _net("192.168.11.0/24"), _net("10.0.0.0/8")]
    pushes = [_net("192.168.10.0/23"), _net("10.0.0.0/9")]
    assert _uncovered(prefixes, pushes) == [_net("10.0.0.0/8")]


NETS = st.builds(lambda a, n: netaddr.IPNetwork(f"{netaddr.IPAddress(a)}/{n}").cidr,
                 st.integers(0, 2**32 - 1), st.integers(8, 32))


@given(st.lists(NETS, max_size=30), st.lists(NETS, max_size=30))
def test_sweep_agrees_with_pairwise_containment(prefixes: list[netaddr.IPNetwork],
                                                pushes: list[netaddr.IPNetwork]) -> None:
    expected = sorted((p for p in set(prefixes) if not any(p in q for q in pushes)),
                      key=lambda p: (p.first, -p.last))
    assert _uncovered(set(prefixes), pushes) == expected
