"""Which host pairs and intent rules gain or lose reachability between two topologies.

Both topologies go through the forwarding model (``netweave.forwarding.reach``): every ordered host
pair is pinged (forward trace and return trace). A pair whose verdict differs is a
change; a pair that exists on one side only (a host added or removed) is reported
separately, so a new VM that can reach nothing is not mistaken for a regression.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netweave.model.index import Index
from netweave.model.topology import Topology

if TYPE_CHECKING:
    from netweave.forwarding.classes import Verdicts
    from netweave.forwarding.reach import Network, PingResult


@dataclass(frozen=True)
class PairChange:
    src: str
    dst: str
    before: bool | None  # None: the pair does not exist on that side
    after: bool | None
    why: str | None = None  # HEAD's failure when lost; BASE's failure when gained
    both_ways: bool = False  # the reverse pair changed the same way (shown once, ⇄)

    @property
    def lost(self) -> bool:
        return bool(self.before) and not self.after

    @property
    def gained(self) -> bool:
        return not self.before and bool(self.after)

    def arrow(self) -> str:
        return f"{self.src} {'⇄' if self.both_ways else '→'} {self.dst}"

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "before": self.before, "after": self.after,
                "both_ways": self.both_ways, "why": self.why}


@dataclass(frozen=True)
class IntentChange:
    kind: str  # "must_reach" | "must_not_reach"
    src: str
    dst: str
    before: bool | None  # met? None: the rule is not on that side
    after: bool | None
    violations: tuple[str, ...] = ()  # HEAD's offending host pairs

    def rule(self) -> str:
        return f"{self.kind} {self.src} → {self.dst}"

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, "from": self.src, "to": self.dst, "before": self.before,
                "after": self.after, "violations": list(self.violations)}


@dataclass
class Reachability:
    """Verdicts of one topology: by classes over a host order shared with the other side
    (``verdicts``, with ``network`` for the words of a failure), or a table of pings."""

    pings: dict[tuple[str, str], PingResult] = field(default_factory=dict)
    verdicts: Verdicts | None = None
    network: Network | None = None

    @classmethod
    def of(cls, network: Network, order: Sequence[str] | None = None) -> Reachability:
        """From the forwarding model lint built already (``LintResult.network``); ``order``:
        every host of both sides, so the two verdict tables line up."""
        from netweave.forwarding.classes import Verdicts
        return cls(verdicts=Verdicts(network, order), network=network)

    def _ping(self, src: str, dst: str) -> PingResult | None:
        if self.verdicts is not None:
            assert self.network is not None
            return None if self.verdicts.pairs(src, dst) is None else self.network.ping(src, dst)
        return self.pings.get((src, dst))

    def reachable(self, src: str, dst: str) -> bool | None:
        if self.verdicts is not None:
            return self.verdicts.reachable(src, dst)
        p = self.pings.get((src, dst))
        return None if p is None else p.reachable

    def forward(self, src: str, dst: str) -> bool:
        if self.verdicts is not None:
            return self.verdicts.forward(src, dst)
        p = self.pings.get((src, dst))
        return bool(p and p.forward.delivered)

    def why(self, src: str, dst: str) -> str | None:
        p = self._ping(src, dst)
        if p is None or p.reachable:
            return None
        if not p.forward.delivered:
            return p.forward.failure or f"{src}'s packets do not reach {dst}"
        return "no way back: " + (p.back.failure or f"{dst}'s replies do not reach {src}")


def _candidates(base: Reachability, head: Reachability) -> Iterator[tuple[str, str]]:
    """Pairs whose verdict may differ: by bitsets when both sides have class verdicts
    over one host order (never every pair), else every pair of either table."""
    if base.verdicts is None or head.verdicts is None \
            or base.verdicts.hosts != head.verdicts.hosts:
        yield from base.pings.keys() | head.pings.keys()
        return
    before, after = base.verdicts, head.verdicts
    hosts = before.hosts
    for src in hosts:
        was, now = before.others(src), after.others(src)
        reach_was, reach_now = before.row(src), after.row(src)
        changed = (was & now & (reach_was ^ reach_now)) | (was & ~now & reach_was) \
            | (now & ~was & reach_now)
        while changed:
            low = changed & -changed
            yield src, hosts[low.bit_length() - 1]
            changed ^= low


def pair_changes(base: Reachability, head: Reachability) -> list[PairChange]:
    found: dict[tuple[str, str], PairChange] = {}
    for key in _candidates(base, head):
        before, after = base.reachable(*key), head.reachable(*key)
        if before == after or (before is None and not after) or (after is None and not before):
            continue  # unchanged, or a new/removed host that reaches nothing either way
        why = head.why(*key) if not after else base.why(*key)
        found[key] = PairChange(key[0], key[1], before, after, why)
    out: list[PairChange] = []
    for (src, dst), change in sorted(found.items()):
        mirror = found.get((dst, src))
        if mirror is not None and (mirror.before, mirror.after) == (change.before, change.after):
            if (dst, src) < (src, dst):
                continue  # already shown as the mirror's ⇄
            change = PairChange(src, dst, change.before, change.after, change.why, both_ways=True)
        out.append(change)
    # Losses first: they are what a reviewer must stop at.
    return sorted(out, key=lambda c: (not c.lost, c.src, c.dst))


def intent_status(topology: Topology, index: Index, reach: Reachability
                  ) -> dict[tuple[str, str, str], tuple[bool, tuple[str, ...]]]:
    """(kind, from, to) -> (met, offending pairs)."""
    out: dict[tuple[str, str, str], tuple[bool, tuple[str, ...]]] = {}
    if topology.intent is None:
        return out
    for kind in ("must_reach", "must_not_reach"):
        for pair in getattr(topology.intent, kind):
            bad: list[str] = []
            for a in index.hosts_in(pair.from_):
                for b in index.hosts_in(pair.to):
                    if a == b:
                        continue
                    if kind == "must_reach" and not reach.reachable(a, b):
                        bad.append(f"{a} → {b}")
                    if kind == "must_not_reach" and (reach.forward(a, b) or reach.forward(b, a)):
                        bad.append(f"{a} ⇄ {b}")
            out[(kind, pair.from_, pair.to)] = (not bad, tuple(bad))
    return out


def intent_changes(base: dict[tuple[str, str, str], tuple[bool, tuple[str, ...]]],
                   head: dict[tuple[str, str, str], tuple[bool, tuple[str, ...]]]
                   ) -> list[IntentChange]:
    out = []
    for key in sorted(base.keys() | head.keys()):
        before = base[key][0] if key in base else None
        after = head[key][0] if key in head else None
        if before == after or after is None:
            continue
        out.append(IntentChange(*key, before, after, head[key][1]))
    return sorted(out, key=lambda c: (bool(c.after), c.kind, c.src, c.dst))


def describe_pairs(changes: Sequence[PairChange]) -> tuple[list[PairChange], list[PairChange]]:
    return [c for c in changes if c.lost], [c for c in changes if not c.lost]
