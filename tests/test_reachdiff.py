"""Reachability changes between two verdict tables, one rule per test."""

from __future__ import annotations

from netweave.diff.reach import PairChange, Reachability, pair_changes
from netweave.forwarding.reach import PingResult, Trace


def ping(src: str, dst: str, forward: bool = True, back: bool = True, why: str = "no route") -> PingResult:
    return PingResult(src, dst, Trace(src, dst, forward, (), None if forward else why),
                      Trace(dst, src, back, (), None if back else why))


def table(*pings: PingResult) -> Reachability:
    return Reachability({(p.src, p.dst): p for p in pings})


def test_unchanged_verdicts_are_not_reported() -> None:
    both = table(ping("a", "b"), ping("b", "a"))
    assert pair_changes(both, both) == []


def test_a_pair_lost_both_ways_is_shown_once_with_the_reason() -> None:
    before = table(ping("a", "b"), ping("b", "a"))
    after = table(ping("a", "b", forward=False, why="vpc01 has no route to b"),
                  ping("b", "a", back=False, why="vpc01 has no route to b"))
    assert pair_changes(before, after) == [
        PairChange("a", "b", True, False, "vpc01 has no route to b", both_ways=True)]


def test_a_lost_return_path_says_no_way_back() -> None:
    after = table(ping("a", "b", back=False, why="b's router drops it"))
    (change,) = pair_changes(table(ping("a", "b")), after)
    assert change.why == "no way back: b's router drops it"


def test_a_one_way_change_keeps_its_direction() -> None:
    before = table(ping("a", "b"), ping("b", "a"))
    after = table(ping("a", "b", forward=False), ping("b", "a"))
    (change,) = pair_changes(before, after)
    assert (change.arrow(), change.lost) == ("a → b", True)


def test_a_new_host_that_reaches_nothing_is_not_a_loss() -> None:
    before = table(ping("a", "b"))
    after = table(ping("a", "b"), ping("a", "c", forward=False), ping("c", "a", forward=False))
    assert pair_changes(before, after) == []


def test_a_new_host_that_is_reachable_is_a_gain() -> None:
    (change,) = pair_changes(table(), table(ping("a", "c"), ping("c", "a")))
    assert (change.arrow(), change.before, change.after) == ("a ⇄ c", None, True)


def test_losses_come_before_gains() -> None:
    before = table(ping("a", "b"), ping("c", "d", forward=False))
    after = table(ping("a", "b", forward=False), ping("c", "d"))
    assert [c.lost for c in pair_changes(before, after)] == [True, False]
