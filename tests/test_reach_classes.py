"""The matrix by classes (sets of destinations walked together) says exactly what tracing
every pair one by one says: for every bundled stack and every test topology."""

from __future__ import annotations

from pathlib import Path

import pytest
from netweave.forwarding.classes import Verdicts
from netweave.forwarding.reach import Network, PingResult
from netweave.lint import lint_file

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("stacks/*.yaml"), *ROOT.glob("tests/**/*.yaml")])


def _cell(ping: PingResult) -> str:
    if ping.reachable:
        return "ok"
    if ping.forward.loop or ping.back.loop:
        return "loop"
    return "x>" if not ping.forward.delivered else "x<"


def _network(path: Path) -> Network:
    result = lint_file(str(path))
    if result.topology is None:
        pytest.skip("not a usable topology")
    return result.network


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_verdicts_by_classes_equal_the_pair_by_pair_pings(path: Path) -> None:
    net = _network(path)
    verdicts = Verdicts(net)
    matrix = net.matrix()
    assert {(p.src, p.dst): verdicts.cell(p.src, p.dst) for p in matrix} == \
        {(p.src, p.dst): _cell(p) for p in matrix}
    assert verdicts.reachable_count == sum(p.reachable for p in matrix)
    assert verdicts.pings == len(matrix)
    assert list(verdicts.broken()) == [(p.src, p.dst) for p in matrix if not p.reachable]
    assert all(verdicts.forward(p.src, p.dst) == p.forward.delivered for p in matrix)


DIFFS = sorted(ROOT.glob("tests/fixtures/diff/*.yaml"))
S2 = ROOT / "stacks" / "s2-many-to-many.yaml"


@pytest.mark.parametrize("reverse", [False, True], ids=["lost", "gained"])
@pytest.mark.parametrize("other", DIFFS, ids=lambda p: p.name)
def test_reachability_changes_by_classes_equal_those_of_every_pair(other: Path,
                                                                    reverse: bool) -> None:
    from netweave.diff.reach import Reachability, pair_changes

    base_net, head_net = _network(S2), _network(other)
    if reverse:
        base_net, head_net = head_net, base_net
    hosts = sorted(set(base_net.hosts) | set(head_net.hosts))
    by_classes = pair_changes(Reachability.of(base_net, hosts), Reachability.of(head_net, hosts))
    by_pairs = pair_changes(Reachability({(p.src, p.dst): p for p in base_net.matrix()}),
                            Reachability({(p.src, p.dst): p for p in head_net.matrix()}))
    assert by_classes == by_pairs
