"""netweave plan FILE: the resources `pulumi up` would declare, offline (mocks, no credentials)."""

from __future__ import annotations

import argparse
import sys

from netweave.deploy import plan
from netweave.lint import Unusable, load_topology, report

HELP = "list every resource the Pulumi program would declare (offline, no credentials)"
DESCRIPTION = (HELP + ". Runs the Pulumi program under mocks; lint runs first, as in "
               "`pulumi up`. Exit 0 planned; 1 when the program stops (lint errors: nothing "
               "declared); 2 when the file is unusable.")
ORDER = 50


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="topology YAML file")
    p.add_argument("--format", choices=plan.FORMATS, default="text",
                   help="text (default), json, or markdown (a table for a PR comment)")
    p.add_argument("--stack", help="stack name (default: the topology's name, else the file name)")
    p.add_argument("--program", default=plan.DEFAULT_PROGRAM, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    try:
        topology, _, linted = load_topology(args.file)
    except Unusable as bad:
        print(report.text([bad.result]))
        return 2
    stack = args.stack or plan.stack_name(args.file, topology.name)
    try:
        planned = plan.run(args.file, stack, program=args.program, linted=linted)
    except plan.PlanError as failed:
        print(f"netweave plan: {failed}", file=sys.stderr)
        return 1
    print(plan.render(planned, args.format))
    return 1 if planned.error else 0
