"""netweave emulate FILE: boot the stack in network namespaces with real FRR and
wireguard-go, run its rendered configuration and prove the reachability matrix."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

HELP = "boot a stack in network namespaces (real FRR, wireguard-go) and prove the matrix"
ORDER = 60
DESCRIPTION = (HELP + ". Needs root. Exit 0 only when the observed matrix equals reach's "
               "prediction and the intent holds; 1 when they differ; 2 when the stack is "
               "unusable; 3 when the lab could not be built.")

TOOLS = ("ip", "dnsmasq", "dhclient", "wireguard-go", "wg", "vtysh", "iptables-restore", "ping")
CHANGE_TOOLS = ("ssh", "/usr/sbin/sshd", "/usr/lib/frr/frr-reload.py")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", nargs="?",
                   help="topology YAML file (not needed with --down)")
    p.add_argument("--tcp", action="store_true", help="also check a TCP connect per host pair")
    p.add_argument("--fail", metavar="LINK",
                   help="take this tunnel down and report the matrix after BGP reconverges")
    p.add_argument("--keep", action="store_true",
                   help="leave the lab running and print how to enter it")
    p.add_argument("--down", metavar="RUN", nargs="?", const="all",
                   help="remove a kept lab (its prefix or run directory; default: all kept runs)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also print the notes: what the lab does differently from a cloud VM")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the matrices, BGP problems, notes and timings as one document")
    p.add_argument("--prefix", help="run prefix (nw + 4 hex digits; default: a fresh random one)")
    p.add_argument("--bgp-timeout", metavar="SECONDS", type=_seconds, default=None,
                   help="how long to wait for BGP to converge (default 30)")
    p.add_argument("--change", metavar="HEAD",
                   help="rehearse a change: boot FILE, probe every pair every 100 ms, apply HEAD "
                        "in place (over SSH, as `pulumi up` does), check HEAD's matrix; exit 0 "
                        "only if HEAD agrees with reach and no kept pair lost more than predicted")


def _down(which: str) -> int:
    from pathlib import Path

    from netweave.emulate.state import RunState, run_dirs
    from netweave.emulate.teardown import teardown
    dirs = run_dirs()
    if which != "all":
        dirs = [d for d in dirs if d.name.endswith(which) or str(d) == which or Path(which) == d]
        if not dirs:
            print(f"netweave emulate --down: no run '{which}' (runs: "
                  f"{', '.join(d.name for d in run_dirs()) or 'none'})", file=sys.stderr)
            return 1
    for d in dirs:
        state = RunState.load(d)
        counts = f"{len(state.namespaces)} namespaces, {len(state.processes)} processes"
        problems = teardown(state)
        print(f"removed {state.prefix} ({counts})"
              + "".join(f"\n  {p}" for p in problems))
    if not dirs:
        print("no kept emulation runs")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.down:
        return _down(args.down)
    if not args.file:
        print("netweave emulate: FILE is required (or --down)", file=sys.stderr)
        return 2
    from netweave.emulate import emulate, tunnel_labels
    from netweave.emulate.naming import PREFIX_RE
    from netweave.emulate.progress import Progress
    from netweave.lint import lint_file, report
    # bad input is reported before anything is checked about this machine
    if args.prefix and not PREFIX_RE.match(args.prefix):
        print(f"netweave emulate: --prefix {args.prefix}: expected nw + 4 hex digits, e.g. nw1a2b",
              file=sys.stderr)
        return 2
    linted = lint_file(args.file)
    if linted.topology is None or linted.exit_code == 2:
        print(report.render([linted], "text"), file=sys.stderr)
        return 2
    topology = linted.topology
    index = linted.index
    head = head_index = None
    if args.change:
        if args.fail or args.tcp or args.keep:
            print("netweave emulate: --change cannot be combined with --fail, --tcp or --keep",
                  file=sys.stderr)
            return 2
        head_lint = lint_file(args.change)
        if head_lint.topology is None or head_lint.exit_code == 2:
            print(report.render([head_lint], "text"), file=sys.stderr)
            return 2
        if head_lint.exit_code == 1:  # rehearsed anyway: the lab shows what the errors do
            print(f"netweave emulate --change: {args.change} has lint errors (pulumi up would "
                  "refuse it); rehearsing it shows what they would do", file=sys.stderr)
        head, head_index = head_lint.topology, head_lint.index
        from netweave.emulate.change import NotRehearsable, merge_plan
        from netweave.emulate.layout import build_layout
        from netweave.emulate.naming import Names
        try:
            probe = build_layout(topology, index, Names("nw0000"))
            probe.deployer_ns = "nw0000d0"
            merge_plan(probe, head, head_index)
        except NotRehearsable as why:
            print(f"netweave emulate --change: not an in-place change, not rehearsed: {why}",
                  file=sys.stderr)
            return 2
    if args.fail and args.fail not in tunnel_labels(topology):
        print(f"netweave emulate: --fail {args.fail}: no such tunnel (tunnels: "
              f"{', '.join(tunnel_labels(topology)) or 'none'})", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("netweave emulate: needs root (network namespaces): run it as root (sudo), or "
              "`netweave verify FILE --skip emulate` for every other stage", file=sys.stderr)
        return 3
    missing = [t for t in (*TOOLS, *(CHANGE_TOOLS if args.change else ())) if shutil.which(t) is None]
    if missing:
        print(f"netweave emulate: missing tools: {', '.join(missing)} (bash .ci/setup installs them)",
              file=sys.stderr)
        return 3
    progress = Progress(quiet=args.quiet)
    progress.note(f"emulating {args.file}")
    try:
        if head is not None and head_index is not None:
            from netweave.emulate import emulate_change
            result = emulate_change(topology, index, head, head_index, file=args.file,
                                    head_file=args.change, progress=progress, prefix=args.prefix,
                                    bgp_timeout=args.bgp_timeout)
        else:
            result = emulate(topology, index, file=args.file, tcp=args.tcp, fail=args.fail,
                             bgp_timeout=args.bgp_timeout, design=linted.design,
                             keep=args.keep, progress=progress, prefix=args.prefix)
    except KeyboardInterrupt:
        print("interrupted: lab torn down", file=sys.stderr)
        return 130
    except Exception as exc:  # the lab is already torn down by emulate's finally
        if os.environ.get("NETWEAVE_DEBUG"):
            raise
        print(f"netweave emulate: the lab could not be built: {exc}", file=sys.stderr)
        return 3
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=1))
        return 0 if result.ok else 1
    # The matrix and the verdict first. Timings: once, on the progress display (each phase
    # and the total); notes (how the lab differs from a cloud VM, the same every run) with
    # --verbose only.
    progress.note(f"total {sum(t for _, t in progress.timings):.2f} s")
    print("\n".join(result.report))
    if args.verbose:
        print("notes (what the lab does differently from a cloud VM):")
        print("\n".join("  " + n for n in result.notes))
    elif result.notes:
        print(f"({len(result.notes)} notes on how the lab differs from a cloud VM: --verbose)")
    return 0 if result.ok else 1
