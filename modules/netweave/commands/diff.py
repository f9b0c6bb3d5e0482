"""netweave diff BASE HEAD: what a change does to reachability, lint, network and resources."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from netweave.deploy import plan
from netweave.diff import compare as diff
from netweave.diff import report as diff_report
from netweave.model.gitref import RevisionError

HELP = "compare two topologies (files or REF:PATH): reachability, lint, network, resources"
ORDER = 45
DESCRIPTION = (HELP + ". BASE and HEAD are files or git revisions such as "
               "origin/main:stacks/s2-many-to-many.yaml. Exit 0 whatever changed; 1 when HEAD "
               "loses reachability or violates intent with --fail-on-loss; 2 on unreadable input.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", metavar="BASE", help="the topology before: a file or REF:PATH")
    p.add_argument("head", metavar="HEAD", help="the topology after: a file or REF:PATH")
    p.add_argument("--format", choices=diff_report.FORMATS, default="text",
                   help="text (default), json (everything), or markdown (a ready PR comment)")
    p.add_argument("--no-plan", action="store_true", help="skip the offline Pulumi plans")
    p.add_argument("--fail-on-loss", action="store_true",
                   help="exit 1 when a host pair loses reachability or an intent rule breaks")
    p.add_argument("--out", "-o", metavar="FILE", help="write the report here instead of stdout")
    p.add_argument("--rehearsal", metavar="JSON",
                   help="add the result of `netweave emulate BASE --change HEAD --format json` "
                        "(saved to this file) to the report")
    p.add_argument("--program", default=plan.DEFAULT_PROGRAM, help=argparse.SUPPRESS)


def _rehearsal(path: str) -> dict[str, Any] | str:
    """The rehearsal's JSON report, or why it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"--rehearsal {path}: not a readable JSON report ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("change"), dict):
        return (f"--rehearsal {path}: not a rehearsal report (expected the output of "
                "`netweave emulate BASE --change HEAD --format json`)")
    return data


def run(args: argparse.Namespace) -> int:
    rehearsal = _rehearsal(args.rehearsal) if args.rehearsal else None
    if isinstance(rehearsal, str):
        print(f"netweave diff: {rehearsal}", file=sys.stderr)
        return 2
    try:
        report = diff.compare(args.base, args.head, plans=not args.no_plan, program=args.program)
    except RevisionError as bad:
        print(f"netweave diff: {bad}", file=sys.stderr)
        return 2
    report.rehearsal = rehearsal
    text = diff_report.render(report, args.format)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    broken = report.lost or any(i.after is False for i in report.intents)
    return 1 if args.fail_on_loss and broken else 0
