"""The version netweave reports (``--version``, SARIF, JSON): the installed distribution's."""

from __future__ import annotations

import functools

import netweave


@functools.cache
def version() -> str:
    """pyproject.toml's version as installed; the package's own when run from a source tree
    that is not installed (a test keeps the two equal)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("netweave")
    except PackageNotFoundError:
        return netweave.__version__
