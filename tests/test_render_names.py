"""Property: tunnel interface names always fit IFNAMSIZ and never collide on one host."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from netweave.design.names import IFNAMSIZ, tunnel_names

NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,40}", fullmatch=True)


@given(st.lists(st.tuples(NAME, NAME, st.sampled_from(["wireguard", "openvpn"])),
                min_size=1, max_size=12, unique_by=lambda t: (t[0], t[1])))
def test_tunnel_names_fit_and_are_unique_per_host(pairs: list[tuple[str, str, str]]) -> None:
    ends = []
    for i, (a, b, kind) in enumerate(pairs):
        ends += [(f"t{i}", a, b, kind), (f"t{i}", b, a, kind)]
    names = tunnel_names(ends)
    assert all(len(n) <= IFNAMSIZ for n in names.values())
    per_host = [(local, name) for (_, local), name in names.items()]
    assert len(set(per_host)) == len(per_host)
