"""netweave schema: print (or write) the JSON Schema of the topology file."""

from __future__ import annotations

import argparse
import json

from netweave.model.topology import json_schema
from netweave.paths import SOURCE_ROOT

HELP = "print the topology JSON Schema (for editors' YAML language server)"
ORDER = 90
SCHEMA_FILE = SOURCE_ROOT / "stacks" / "netweave.schema.json"


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--write", action="store_true",
                   help=f"write it to stacks/{SCHEMA_FILE.name} of the netweave source tree "
                        "(instead of printing it)")


def run(args: argparse.Namespace) -> int:
    if args.write:
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    else:
        print(schema_text(), end="")
    return 0
