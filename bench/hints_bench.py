"""What findings and their hints cost: `netweave lint` of S2 plus N route pushes that no
route behind vcpe01 covers (N R302 findings, each with a "did you mean" search), next to
its baseline in the same run: the same file with one static route on vcpe01 that covers
them all (same size, no findings). The extra time per finding must not grow with N
(hints are O(log n) each, so lint stays O(n log n) however many findings it reports);
before the typo index, 16,384 findings took a minute (3 ms each).

    venv/bin/python bench/hints_bench.py [--sizes 1024 4096 16384] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import measure  # noqa: E402

S2 = (ROOT / "stacks" / "s2-many-to-many.yaml").read_text()
COVER = ("    static_routes:\n"
         "      - {destination: 10.0.0.0/8, next_hop: 192.168.128.254}   # covers every push\n")


def stack(pushes: int, covered: bool) -> str:
    """S2 with ``pushes`` route pushes to 10.x.y.0/24 via vcpe01 in vpc01."""
    lines = "".join(f"      - {{destination: 10.{i // 256 % 256}.{i % 256}.0/24, "
                    f"next_hop: 192.168.128.2}}\n" for i in range(pushes))
    marker = "    route_push:\n"
    at = S2.index(marker) + len(marker)
    text = S2[:at] + lines + S2[at:]
    if covered:
        text = text.replace("    static_routes:\n", COVER, 1)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"netweave lint of S2 + N uncovered route pushes vs the same file with them covered "
          f"(medians of {args.runs} fresh-process runs in turn)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            findings, baseline = Path(tmp) / f"findings-{n}.yaml", Path(tmp) / f"covered-{n}.yaml"
            findings.write_text(stack(n, covered=False))
            baseline.write_text(stack(n, covered=True))
            with_hints, without, ratio = measure.paired(
                [sys.executable, "-m", "netweave", "lint", str(findings)],
                [sys.executable, "-m", "netweave", "lint", str(baseline)], args.runs)
            extra = with_hints.median("cpu") - without.median("cpu")
            print(f"  N={n:>6}  {n} findings: {with_hints.line()}")
            print(f"  {'':>8}  baseline:       {without.line()}")
            print(f"  {'':>8}  x{ratio:.2f} wall; {extra * 1e6 / n:,.0f} us CPU per finding "
                  "(hint, position, report line)")


if __name__ == "__main__":
    main()
