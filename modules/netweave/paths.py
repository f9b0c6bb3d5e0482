"""Where netweave finds its own files, in a source checkout and in an installed wheel.

The templates are package data: ``modules/netweave/templates`` is a symlink to the
top-level ``templates/`` (the repository layout the design card fixes), and a wheel
carries the files themselves. The Pulumi project directory is the checkout when the code
runs from one, else the working directory (``pulumi up`` runs the program there).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent.parent  # modules/netweave -> the checkout
TEMPLATES = PACKAGE_DIR / "templates"


def project_dir() -> Path:
    """The Pulumi project: the checkout holding Pulumi.yaml, else the working directory."""
    return SOURCE_ROOT if (SOURCE_ROOT / "Pulumi.yaml").is_file() else Path.cwd()


def templates_dir() -> Path:
    return TEMPLATES
