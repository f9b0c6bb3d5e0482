"""netweave lint FILE...: check topologies before anything is deployed."""

from __future__ import annotations

import argparse
import sys

from netweave.lint import lint_file, report

HELP = "check topology files; exit 0 clean, 1 errors, 2 unusable input"
ORDER = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="topology YAML file(s)")
    p.add_argument("--format", choices=report.FORMATS, default="text",
                   help="text (default, with the offending line), json (for programs; versioned), "
                        "github (workflow annotations) or sarif (SARIF 2.1.0 for code scanning)")


def run(args: argparse.Namespace) -> int:
    results = [lint_file(f) for f in args.files]
    out = report.render(results, args.format)
    if out:
        print(out, file=sys.stdout)
    return max(r.exit_code for r in results)
