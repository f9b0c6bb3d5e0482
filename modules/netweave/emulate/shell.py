"""Running the tools the lab is made of (ip, iptables, vtysh, ...), always bounded
in time, and never through a shell: arguments are lists, names come from the run."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

DEFAULT_TIMEOUT = 20.0


class CommandError(RuntimeError):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr.strip()
        super().__init__(f"`{' '.join(argv)}` failed (exit {code}): {self.stderr}")


def run(argv: Sequence[str], *, input: str | None = None, check: bool = True,
        timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr or proc.stdout)
    return proc


def in_ns(ns: str, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


def ip_batch(lines: Sequence[str], ns: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Many ``ip`` commands in one process: building 100 namespaces stays fast."""
    if not lines:
        return
    argv = ["ip", "-batch", "-"] if ns is None else ["ip", "-n", ns, "-batch", "-"]
    run(argv, input="\n".join(lines) + "\n", timeout=timeout)
