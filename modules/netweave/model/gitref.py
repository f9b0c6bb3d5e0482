"""Topology files named on the command line: a path, or ``REF:PATH`` read with ``git show``.

``origin/main:stacks/s2-many-to-many.yaml`` is the file as it is on ``origin/main``; an
existing file always wins, so paths that hold a ':' keep working.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from netweave.model.source import MAX_DOCUMENT_BYTES, read_bytes


class RevisionError(Exception):
    """The file or the git revision cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Revision:
    spec: str  # as given
    path: str  # the file's path (inside the repository for a git ref)
    ref: str | None  # git ref, or None for a file on disk
    data: bytes  # as stored: decoding (and refusing what is not UTF-8) is the loader's job

    @property
    def display(self) -> str:
        return f"{self.ref}:{self.path}" if self.ref else self.path


def read(spec: str, cwd: Path | None = None) -> Revision:
    local = Path(cwd or ".") / spec
    if local.is_file():
        try:
            return Revision(spec, spec, None, read_bytes(local))
        except OSError as exc:
            raise RevisionError(f"{spec}: cannot read it: {exc.strerror or exc}") from None
    ref, sep, path = spec.partition(":")
    if not sep or not ref or not path:
        raise RevisionError(f"{spec}: no such file (a git revision is written REF:PATH, "
                            "e.g. origin/main:stacks/s2-many-to-many.yaml)")
    git = shutil.which("git")
    if git is None:
        raise RevisionError(f"{spec}: reading a git revision needs git, which is not installed")
    proc = subprocess.run([git, "show", f"{ref}:{path}"], cwd=cwd, capture_output=True,
                          timeout=60)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace").strip()
        detail = stderr.splitlines()[-1] if stderr else "git show failed"
        raise RevisionError(f"{spec}: cannot read {path} at {ref}: {detail}")
    return Revision(spec, path, ref, proc.stdout[:MAX_DOCUMENT_BYTES + 1])
