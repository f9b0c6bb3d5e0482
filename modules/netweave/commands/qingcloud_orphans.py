"""netweave qingcloud-orphans STACK: list (and with --delete remove) the QingCloud objects
named ``nw-<STACK>-…`` that the stack's state does not hold — what a failed ``pulumi up``
leaves and ``pulumi destroy`` cannot see."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "qingcloud-orphans"
HELP = "list (--delete: remove) QingCloud objects named nw-<stack>-* that the stack's state does not hold"
DESCRIPTION = (HELP + ". A dry run by default. Credentials and endpoint as for `pulumi up` "
               "(QY_ACCESS_KEY_ID, QY_SECRET_ACCESS_KEY, QY_ENDPOINT). Without --state every "
               "object named for the stack counts: run it after `pulumi destroy`, or give "
               "`pulumi stack export > state.json` to spare what the stack still manages.")
ORDER = 75


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", help="the stack name (objects are named nw-<stack>-...)")
    p.add_argument("--zone", action="append", metavar="ZONE",
                   help="QingCloud zone (repeatable; default: the zones of stacks/<stack>.yaml)")
    p.add_argument("--state", metavar="FILE", help="`pulumi stack export` output: its ids are kept")
    p.add_argument("--delete", action="store_true", help="delete what is listed (default: only list)")


def _zones(args: argparse.Namespace) -> list[str]:
    if args.zone:
        return list(args.zone)
    from netweave.lint import lint_file
    from netweave.model.topology import QingCloud
    from netweave.paths import project_dir

    path = project_dir() / "stacks" / f"{args.stack}.yaml"
    result = lint_file(str(path)) if path.is_file() else None
    if result is None or result.topology is None:
        return []
    return sorted({c.zone for c in result.topology.clouds.values() if isinstance(c, QingCloud)})


def run(args: argparse.Namespace) -> int:
    from netweave.providers.qingcloud import orphans
    from netweave.providers.qingcloud.client import Client, ConfigurationError, QingCloudError

    zones = _zones(args)
    if not zones:
        print(f"netweave qingcloud-orphans: no zone: give --zone, or a stacks/{args.stack}.yaml "
              "with QingCloud clouds", file=sys.stderr)
        return 2
    known: set[str] = set()
    if args.state:
        try:
            known = orphans.state_ids(json.loads(Path(args.state).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"netweave qingcloud-orphans: {args.state}: {exc}", file=sys.stderr)
            return 2
    failed = 0
    try:
        for zone in zones:
            c = Client(zone)
            found = orphans.find(c, args.stack, known)
            print(f"{zone}: {len(found)} object(s) named nw-{args.stack}-* outside the state"
                  + ("" if found or args.delete else ": nothing to clean"))
            for orphan in found:
                print(f"  {orphan.line()}")
            if args.delete and found:
                problems = orphans.delete(c, found)
                for line in problems:
                    print(f"  NOT DELETED {line}", file=sys.stderr)
                failed += len(problems)
                print(f"{zone}: deleted {len(found) - len(problems)} of {len(found)}")
            elif found:
                print("  (dry run: add --delete to remove them)")
    except (ConfigurationError, QingCloudError) as exc:
        print(f"netweave qingcloud-orphans: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0
