"""The ``netweave`` command line. Each subcommand lives in
``modules/netweave/commands/<name>.py`` with ``HELP``, ``ORDER``,
``add_arguments(parser)`` and ``run(args) -> int``; they are found automatically so that
features land without touching this file.

A command imports only its own module: ``netweave lint`` does not pay for the Pulumi
program, the renderer or the emulator (half of its start-up at 100,000 prefixes). All
of them are imported only to list them (``netweave --help``, no or an unknown command).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import pkgutil
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

import netweave.commands as commands_pkg
from netweave.version import version

EXIT_UNUSABLE = 2
EXIT_INTERNAL = 70


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (start-up stays lean)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"netweave {version()}")
        parser.exit()


def _module_names() -> list[str]:
    return [info.name for info in pkgutil.iter_modules(commands_pkg.__path__)
            if not info.name.startswith("_")]


def _commands(only: str | None = None) -> list[tuple[str, ModuleType]]:
    """The command modules, in help order; with ``only``, just that module (by file name)."""
    found = []
    for name in _module_names() if only is None else [only]:
        module = importlib.import_module(f"netweave.commands.{name}")
        found.append((getattr(module, "NAME", name.replace("_", "-")), module))
    return sorted(found, key=lambda item: (getattr(item[1], "ORDER", 100), item[0]))


def _chosen(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names (its first word, ``-`` read as ``_``),
    when there is one; None to build the whole parser (help, no or an unknown command)."""
    if not argv or argv[0].startswith("-"):
        return None
    name = argv[0].replace("-", "_")
    return name if name in _module_names() else None


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line parser; given ``argv``, only the command it names is imported."""
    top = argparse.ArgumentParser(
        prog="netweave",
        description="Infrastructure-as-code for multi-cloud network interconnects: lint, "
                    "reachability, rendering and emulation of a topology YAML.")
    top.add_argument("--version", action=_Version, help="print netweave's version and exit")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _commands(_chosen(argv) if argv is not None else None):
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION",
                                                                      module.HELP))
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(argv).parse_args(argv)
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
    _exit(main())


def _exit(code: int) -> None:
    """Leave without the interpreter's teardown when it has nothing to do for the user.

    Freeing a 100,000-prefix model object by object and the final full collection cost
    ~0.2 s and change nothing anyone sees. When nothing is registered to run at exit and
    no other thread is alive, flush what was printed and end the process; otherwise exit
    the ordinary way."""
    pending = getattr(atexit, "_ncallbacks", None)  # CPython's count of atexit handlers
    if pending is not None and pending() == 0 and threading.active_count() == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed pipe: let the ordinary exit report it
            sys.exit(code)
        os._exit(code)
    sys.exit(code)
