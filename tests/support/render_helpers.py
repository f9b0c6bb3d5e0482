"""Shared fixtures for the render tests: stacks loaded once, rendered trees on disk."""

from __future__ import annotations

from pathlib import Path

from netweave.lint import lint_text
from netweave.model.index import Index
from netweave.model.topology import Topology

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"
SCENARIOS = ("s1-one-to-one", "s2-many-to-many", "s3-hybrid-vultr", "s4-remote-access", "s5-ipsec",
             "s6-home-to-vultr")


def load(name: str) -> tuple[Topology, Index]:
    path = STACKS / f"{name}.yaml"
    return from_text(path.read_text(), str(path))


def from_text(text: str, file: str = "<test>") -> tuple[Topology, Index]:
    result = lint_text(text, file)
    assert result.topology is not None, [f.message for f in result.findings]
    return result.topology, Index.build(result.topology)
