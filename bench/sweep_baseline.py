"""The floor lint is measured against: read prefixes (one per line), parse each with the
standard library's ``ipaddress``, sort them and sweep once for overlaps. No YAML, no
model, no rules: the least any overlap check of these prefixes can cost in Python.

    python bench/sweep_baseline.py PREFIX_FILE
"""

from __future__ import annotations

import ipaddress
import sys


def overlapping(lines: list[str]) -> int:
    """How many prefixes start inside an earlier one (sorted by first address)."""
    nets = [ipaddress.ip_network(line) for line in lines]
    return starts_inside([(int(n.network_address), int(n.broadcast_address)) for n in nets])


def starts_inside(spans: list[tuple[int, int]]) -> int:
    """The sweep itself: sort (first, last) spans, keep the furthest end seen: O(n log n)."""
    hits, end = 0, -1
    for first, last in sorted(spans):
        if first <= end:
            hits += 1
        end = max(end, last)
    return hits


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    print(f"{len(lines)} prefixes, {overlapping(lines)} overlapping an earlier one")


if __name__ == "__main__":
    main()
