"""Lint speed and memory on synthetic topologies (bench/generate.py).

Prints, for a 100,000-prefix stack: `netweave lint FILE` as a user runs it (a fresh
process, start-up and teardown included) next to its baseline measured in the same run,
a bare standard-library sort+sweep over the same prefixes (bench/sweep_baseline.py),
with their ratio (target: lint <= 1.3x the sweep); then the time of each lint stage in
one process; then, on a smaller stack a naive pairwise check still finishes, the
speed-up of a sort-and-sweep over comparing every pair of its prefixes.

    venv/bin/python bench/lint_bench.py [--prefixes 100000] [--naive-prefixes 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import netaddr  # noqa: E402
from netweave.lint import FAMILIES, Context, _family, lint_source, references  # noqa: E402
from netweave.lint.schema import validate  # noqa: E402
from netweave.model.index import Index  # noqa: E402
from netweave.model.source import parse  # noqa: E402
from netweave.model.topology import Topology  # noqa: E402

from bench import measure  # noqa: E402
from bench.generate import generate  # noqa: E402
from bench.sweep_baseline import starts_inside  # noqa: E402


def stages(text: str) -> dict[str, float]:
    """Seconds per lint stage on one document (the sum is what `netweave lint` costs).

    The cyclic GC is off, as in `lint_source`, so the figures add up to the real run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _stages(text)
    finally:
        if enabled:
            gc.enable()


def _stages(text: str) -> dict[str, float]:
    times: dict[str, float] = {}
    t = time.perf_counter()
    source = parse(text, "synthetic.yaml")
    times["parse"] = time.perf_counter() - t
    t = time.perf_counter()
    schema = validate(source)
    times["schema"] = time.perf_counter() - t
    assert schema.topology is not None, schema.findings[:3]
    t = time.perf_counter()
    refs = list(references.check(schema.topology))
    times["references"] = time.perf_counter() - t
    assert not refs, refs[:3]
    t = time.perf_counter()
    ctx = Context(schema.topology, Index.build(schema.topology))
    times["index"] = time.perf_counter() - t
    for name in FAMILIES:
        if name == "paths":  # the forwarding model paths is built on, timed on its own
            t = time.perf_counter()
            _ = ctx.network
            times["network (reach)"] = time.perf_counter() - t
        t = time.perf_counter()
        found = list(_family(name)(ctx))
        times[name] = time.perf_counter() - t
        errors = [f for f in found if f.level.value == "error"]
        if errors:
            print(f"  note: {name} reported {len(errors)} errors on the synthetic stack, "
                  f"e.g. {errors[0].code} {errors[0].message}")
    return times


def all_prefixes(topo: Topology) -> list[netaddr.IPNetwork]:
    """Every prefix the stack names: vxnets, route push destinations, static routes and
    BGP advertisements (a static route marked ``advertise`` is one prefix, not two)."""
    nets: list[netaddr.IPNetwork] = []
    for vpc in topo.vpcs.values():
        nets.extend(vx.cidr for vx in vpc.vxnets.values())
        nets.extend(push.destination for push in vpc.route_push)
    for vcpe in topo.vcpes.values():
        nets.extend(route.destination for route in vcpe.static_routes)
        if vcpe.bgp:
            nets.extend(vcpe.bgp.advertise)
    return nets


def naive_overlaps(networks: list[object]) -> int:
    """What lint would cost comparing every pair of networks with netaddr (O(n^2))."""
    hits = 0
    for a, b in itertools.combinations(networks, 2):
        if a in b or b in a:  # type: ignore[operator]
            hits += 1
    return hits


def sweep_overlaps(networks: list[object]) -> int:
    """Sort by first address, keep the furthest end seen: O(n log n)."""
    return starts_inside([(int(n.first), int(n.last)) for n in networks])  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--naive-prefixes", type=int, default=2_000,
                        help="size of the stack the naive pairwise check runs on")
    parser.add_argument("--runs", type=int, default=5,
                        help="fresh-process runs of lint and of the baseline, in turn")
    args = parser.parse_args()

    text = generate(args.prefixes)
    source = parse(text)
    topo = validate(source).topology
    assert topo is not None
    n_vpcs = len(topo.vpcs)
    n_vxnets = sum(len(v.vxnets) for v in topo.vpcs.values())
    n_push = sum(len(v.route_push) for v in topo.vpcs.values())
    n_adv = sum(len(c.bgp.advertise) if c.bgp else 0 for c in topo.vcpes.values())
    n_static = sum(len(c.static_routes) for c in topo.vcpes.values())
    n_static_adv = sum(r.advertise for c in topo.vcpes.values() for r in c.static_routes)
    total_prefixes = n_vxnets + n_push + n_adv + n_static
    print(f"synthetic stack: {n_vpcs} VPCs, {len(topo.vcpes)} vCPEs, {len(topo.tunnels)} tunnels, "
          f"{n_vxnets} vxnets, {n_push} route pushes, {n_adv} bgp.advertise entries, "
          f"{n_static} static routes ({n_static_adv} of them advertised by their flag, not "
          f"counted twice) = {total_prefixes} prefixes, {len(text) / 1e6:.1f} MB of YAML")

    times = stages(text)
    width = max(len(k) for k in times)
    for name, seconds in times.items():
        print(f"  {name:<{width}}  {seconds * 1000:8.1f} ms")
    print(f"  {'total':<{width}}  {sum(times.values()) * 1000:8.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        stack, prefix_file = Path(tmp) / "synthetic.yaml", Path(tmp) / "prefixes.txt"
        stack.write_text(text)
        prefix_file.write_text("".join(f"{n}\n" for n in all_prefixes(topo)))
        lint, sweep, ratio = measure.paired(
            [sys.executable, "-m", "netweave", "lint", str(stack)],
            [sys.executable, str(ROOT / "bench" / "sweep_baseline.py"), str(prefix_file)],
            args.runs)
    print(f"whole processes, medians of {args.runs} runs in turn:")
    print(f"  netweave lint FILE             {lint.line()}  exit {lint.runs[0].exit}")
    print(f"  baseline: stdlib sort+sweep    {sweep.line()}")
    print(f"  lint / baseline (wall, paired) x{ratio:.2f}  ({measure.verdict(ratio, 1.3)})")

    # Pairwise vs sweep on every prefix of a smaller stack, at a size the naive check
    # finishes; then our whole lint of that same stack.
    small_text = generate(args.naive_prefixes)
    small = validate(parse(small_text)).topology
    assert small is not None
    nets = [netaddr.IPNetwork(str(n)) for n in all_prefixes(small)]  # plain netaddr objects
    t = time.perf_counter()
    naive_hits = naive_overlaps(nets)
    naive = time.perf_counter() - t
    t = time.perf_counter()
    sweep_hits = sweep_overlaps(nets)
    sweep = time.perf_counter() - t
    print(f"overlap check of all {len(nets)} prefixes of a smaller stack (vxnets, route push "
          f"destinations, static routes, advertisements): naive pairwise netaddr {naive:.2f} s "
          f"({naive_hits} overlapping pairs); sort-and-sweep {sweep * 1000:.1f} ms "
          f"({sweep_hits} prefixes overlapping an earlier one) -> speed-up "
          f"x{naive / max(sweep, 1e-9):.0f}")
    t = time.perf_counter()
    small_result = lint_source(parse(small_text))
    full_small = time.perf_counter() - t
    print(f"whole lint of that stack (parse, schema and every rule, {len(nets)} prefixes): "
          f"{full_small * 1000:.0f} ms (exit {small_result.exit_code}) vs {naive:.2f} s for the "
          f"naive overlap check alone -> x{naive / max(full_small, 1e-9):.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
