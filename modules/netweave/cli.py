"""The ``netweave`` command line. Each subcommand lives in ``modules/commands/<name>.py``
with ``HELP``, ``ORDER``, ``add_arguments(parser)`` and ``run(args) -> int``; they are
found automatically so that features land without touching this file."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import netweave.commands as commands_pkg

EXIT_UNUSABLE = 2
EXIT_INTERNAL = 70


def _commands() -> list[tuple[str, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(commands_pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"netweave.commands.{info.name}")
        found.append((getattr(module, "NAME", info.name.replace("_", "-")), module))
    return sorted(found, key=lambda item: (getattr(item[1], "ORDER", 100), item[0]))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="netweave",
        description="Infrastructure-as-code for multi-cloud network interconnects: lint, "
                    "reachability, rendering and emulation of a topology YAML.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _commands():
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION",
                                                                      module.HELP))
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "_run", None):
        parser().print_help()
        return 2
    try:
        code: int = args._run(args)
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.filename is None or os.environ.get("NETWEAVE_DEBUG"):
            return _internal_error(exc)
        # A path the user gave (an --out folder that is a file, a read-only place): their
        # machine's answer, not a bug of ours.
        print(f"netweave {args.command}: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:  # a bug of ours must still not greet the user with a traceback
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("NETWEAVE_DEBUG"):
        raise exc
    print(f"netweave: internal error: {type(exc).__name__}: {exc}\n"
          "  this is a bug in netweave; rerun with NETWEAVE_DEBUG=1 for details",
          file=sys.stderr)
    return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())
