"""Sorted prefix sets: coverage tests and "did you mean" neighbours in O(log n).

Lint must stay O(n log n) on 100,000 prefixes, so nothing here scans a list per
query. A :class:`PrefixSet` keeps its networks as integer ranges, merged and
sorted once; ``covers`` is one bisection. Hints ("did you mean 192.168.129.0/24?")
come from :func:`nearest_text`: first the strings one keystroke away from the
typo (a hash lookup each, a constant number of them), then the numeric neighbours
of the typo in the sorted list, ranked by edit distance.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import netaddr

from netweave.lint.typos import TypoIndex, distance

__all__ = ["TYPO", "Candidates", "PrefixSet", "distance", "listing", "point", "span", "typo_of"]

T = TypeVar("T")

# IPv4 and IPv6 integers overlap; shifting IPv6 above 2**128 keeps their ranges apart.
V6_BASE = 1 << 128

NEIGHBOURS = 4  # numeric neighbours on each side considered for a hint


def span(net: netaddr.IPNetwork) -> tuple[int, int]:
    """Integer first and last address of a network, IPv6 kept apart from IPv4."""
    # The model's networks (netweave.model.topology.IPNetwork) store first/last; a plain netaddr
    # network computes them, with the same values.
    if net.version == 4:
        return net.first, net.last
    return V6_BASE + net.first, V6_BASE + net.last


def point(address: netaddr.IPAddress) -> int:
    return (V6_BASE if address.version == 6 else 0) + int(address)


@dataclass
class Candidates(Generic[T]):
    """Named things at addresses or prefixes, searchable by digits and by value."""

    keys: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    items: list[T] = field(default_factory=list)
    by_text: dict[str, T] = field(default_factory=dict)
    _typos: TypoIndex | None = None

    @classmethod
    def build(cls, entries: Iterable[tuple[int, str, T]]) -> Candidates[T]:
        ordered = sorted(entries, key=lambda e: (e[0], e[1]))
        out: Candidates[T] = cls()
        for key, text, item in ordered:
            out.keys.append(key)
            out.texts.append(text)
            out.items.append(item)
            out.by_text.setdefault(text, item)
        return out

    def __len__(self) -> int:
        return len(self.keys)

    def nearest(self, text: str, key: int) -> T | None:
        """The candidate a typo most likely meant: by keystrokes, then by value."""
        if not self.keys:
            return None
        if self._typos is None:
            self._typos = TypoIndex(self.texts)
        slips = self._typos.slips(text)
        if slips:
            best = min(slips, key=lambda i: (distance(text, self.texts[i]), abs(self.keys[i] - key)))
            return self.items[best]
        at = bisect_left(self.keys, key)
        lo, hi = max(0, at - NEIGHBOURS), min(len(self.keys), at + NEIGHBOURS)
        best = min(range(lo, hi), key=lambda i: (distance(text, self.texts[i]),
                                                 abs(self.keys[i] - key)))
        return self.items[best]


@dataclass
class PrefixSet:
    """A set of networks for coverage queries: merged integer ranges, sorted."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    networks: list[netaddr.IPNetwork] = field(default_factory=list)
    _prefixes: Candidates[netaddr.IPNetwork] | None = None

    @classmethod
    def build(cls, networks: Iterable[netaddr.IPNetwork]) -> PrefixSet:
        out = cls(networks=list(networks))
        starts, ends = out.starts, out.ends
        for first, last in sorted(map(span, out.networks)):
            if ends and first <= ends[-1] + 1:
                if last > ends[-1]:
                    ends[-1] = last
            else:
                starts.append(first)
                ends.append(last)
        return out

    @property
    def prefixes(self) -> Candidates[netaddr.IPNetwork]:
        """The networks searchable for hints: built on first use, since only a set
        behind a finding is ever asked (a text per network is most of the cost)."""
        if self._prefixes is None:
            self._prefixes = Candidates.build((span(n)[0], str(n), n) for n in self.networks)
        return self._prefixes

    def __len__(self) -> int:
        return len(self.networks)

    def covers(self, net: netaddr.IPNetwork) -> bool:
        return self.covers_span(*span(net))

    def covers_span(self, first: int, last: int) -> bool:
        i = bisect_right(self.starts, first) - 1
        return i >= 0 and self.ends[i] >= last

    def overlaps(self, net: netaddr.IPNetwork) -> bool:
        first, last = span(net)
        i = bisect_right(self.starts, last) - 1
        return i >= 0 and self.ends[i] >= first

    def nearest(self, net: netaddr.IPNetwork) -> netaddr.IPNetwork | None:
        return self.prefixes.nearest(str(net), span(net)[0])


def covered_by_any(sets: Sequence[PrefixSet], net: netaddr.IPNetwork) -> bool:
    return any(s.covers(net) for s in sets)


def nearest_in(sets: Sequence[PrefixSet], net: netaddr.IPNetwork) -> netaddr.IPNetwork | None:
    """The nearest prefix by digits across several sets (each searched in O(log n))."""
    found = [n for n in (s.nearest(net) for s in sets) if n is not None]
    if not found:
        return None
    text = str(net)
    return min(found, key=lambda n: (distance(text, str(n)), abs(span(n)[0] - span(net)[0])))


TYPO = 3  # keystrokes: further away, a "did you mean" guess misleads more than it helps


def typo_of(sets: Sequence[PrefixSet], net: netaddr.IPNetwork) -> netaddr.IPNetwork | None:
    """The prefix ``net`` is most likely a mistyping of, if one is close enough."""
    near = nearest_in(sets, net)
    if near is None or distance(str(near), str(net)) > TYPO:
        return None
    return near


def listing(nets: Iterable[object], limit: int = 6) -> str:
    items = [str(n) for n in nets]
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")
