"""A non-editable install renders: the templates travel inside the wheel (through the
symlink modules/netweave/templates -> ../../templates), and nothing reads the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of a copy of the project (building writes build/ and egg-info next to
    the sources: never into the checkout). pip builds it as ``pip install .`` would, in
    an isolated environment with the build backend pyproject.toml names (from the
    package registry, as .ci/setup installs everything)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("modules", "templates"):
        shutil.copytree(ROOT / name, src / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                   check=True, capture_output=True, text=True, timeout=300)
    [found] = out.glob("netweave-*.whl")
    return found


def test_the_wheel_carries_every_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"netweave/templates/{t.name}" for t in (ROOT / "templates").glob("*.j2")}
    assert expected and expected <= names


def test_an_installed_wheel_renders_s1_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    shutil.copy(ROOT / "stacks" / "s1-one-to-one.yaml", tmp_path / "s1.yaml")
    script = ("import netweave, sys; print(netweave.__file__); "
              "from netweave.cli import main; sys.exit(main(['render', 's1.yaml', '--out', 'out']))")
    # the installed copy comes first on the path; the dependencies come from this venv
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(str(target))
    assert "[Interface]" in (tmp_path / "out" / "vcpe01" / "rootfs" / "etc" / "wireguard"
                             / "wg-vcpe02.conf").read_text()
