"""Typo search, indexed once: "did you mean" hints at a constant cost per finding.

A hint answers "which known text is one keystroke away from what was written?". Trying
every one-keystroke variant of the written text costs ~500 lookups a finding (3 ms with
the distance checks); 16,384 findings took a minute. Instead, :class:`TypoIndex` files
each known text under its one-character deletions, once (the deletion neighbourhood of
SymSpell, Garbe 2012): a text one substitution, insertion, deletion or adjacent swap away
from the query shares a deletion with it, so a query costs ``len(query) + 1`` lookups.
The index keeps 64-bit hashes of the deletions in sorted arrays (16 bytes a deletion),
not the strings: a 100,000-prefix set costs ~30 MB, built only when a finding asks.

:func:`distance` is Levenshtein's distance computed with Myers' bit-vector algorithm
(Myers 1999, Hyyrö's formulation for whole strings): one pass of integer operations per
character instead of a table, exact.
"""

from __future__ import annotations

import difflib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence


def distance(a: str, b: str) -> int:
    """Levenshtein distance: how many keystrokes (insert, delete, replace) turn a into b."""
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    peq: dict[str, int] = {}
    for i, char in enumerate(a):
        peq[char] = peq.get(char, 0) | (1 << i)
    mask = (1 << len(a)) - 1
    high = 1 << (len(a) - 1)
    plus, minus, score = mask, 0, len(a)
    for char in b:
        eq = peq.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        ph = minus | (~(xh | plus) & mask)
        mh = plus & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        plus = mh | (~(xv | ph) & mask)
        minus = ph & xv
    return score


def one_keystroke(a: str, b: str) -> bool:
    """Whether b is a one-key slip of a: a replaced, missing or extra character, or two
    neighbours swapped."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    return abs(len(a) - len(b)) == 1 and distance(a, b) == 1


def _deletions(text: str) -> Iterator[str]:
    yield text
    for i in range(len(text)):
        yield text[:i] + text[i + 1:]


class TypoIndex:
    """Known texts, searchable for the ones a keystroke away from a query."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self._hashes: array[int] | None = None
        self._owners: array[int] | None = None

    def _build(self) -> tuple[array[int], array[int]]:
        if self._hashes is None or self._owners is None:
            hashes = array("q")
            owners = array("q")
            for i, text in enumerate(self.texts):
                for variant in set(_deletions(text)):
                    hashes.append(hash(variant))
                    owners.append(i)
            order = sorted(range(len(hashes)), key=hashes.__getitem__)
            self._hashes = array("q", (hashes[i] for i in order))
            self._owners = array("q", (owners[i] for i in order))
        return self._hashes, self._owners

    def slips(self, query: str) -> list[int]:
        """Indexes of the texts one keystroke away from ``query`` (not equal to it)."""
        hashes, owners = self._build()
        found: set[int] = set()
        for variant in set(_deletions(query)):
            key = hash(variant)
            at = bisect_left(hashes, key)
            while at < len(hashes) and hashes[at] == key:
                found.add(owners[at])
                at += 1
        return sorted(i for i in found if one_keystroke(query, self.texts[i]))


SMALL_POOL = 32  # up to this many names, compare with every one (difflib's own ranking)
_NEIGHBOURS = 4  # names next to the query in sorted order (same start), and reversed (same end)


def _close(word: str, pool: Sequence[str], cutoff: float) -> str | None:
    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered),
                                                               n=1, cutoff=cutoff)]
    return found[0] if found else None


class NameIndex:
    """Names (of vxnets, hosts, security groups, ...) searchable for 'did you mean'.

    A small pool is compared whole, as difflib ranks it. A big one is narrowed first to
    the names a keystroke away and the neighbours in sorted order of the name and of its
    reverse (a typo keeps most of the start or the end), so each query costs
    O(len(word) log n) however many names and findings there are."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        self._memo: dict[tuple[str, float], str | None] = {}
        self._lowered: list[str] | None = None
        self._by_end: list[tuple[str, int]] | None = None
        self._typos: TypoIndex | None = None

    def nearest(self, word: str, cutoff: float = 0.6) -> str | None:
        key = (word, cutoff)
        if key not in self._memo:
            pool = self.names if len(self.names) <= SMALL_POOL else self._narrowed(word)
            self._memo[key] = _close(word, pool, cutoff)
        return self._memo[key]

    def _narrowed(self, word: str) -> list[str]:
        if self._lowered is None or self._by_end is None or self._typos is None:
            self._lowered = [n.lower() for n in self.names]
            self._by_end = sorted((n[::-1], i) for i, n in enumerate(self._lowered))
            self._typos = TypoIndex(self._lowered)
        lowered = word.lower()
        picked = set(self._typos.slips(lowered))
        at = bisect_left(self._lowered, lowered)
        picked.update(range(max(0, at - _NEIGHBOURS), min(len(self.names), at + _NEIGHBOURS)))
        at = bisect_left(self._by_end, (lowered[::-1], -1))
        picked.update(i for _, i in self._by_end[max(0, at - _NEIGHBOURS):at + _NEIGHBOURS])
        return [self.names[i] for i in sorted(picked)]
