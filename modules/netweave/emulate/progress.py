"""What the user watches while the lab builds and converges: one line per phase with
its duration, and a live counter on a terminal. Timings are kept for the summary."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

# Wide enough for the longest phase name ("VPN servers (12): netplan, sysctl, iptables, VPN
# daemon"), so that the durations form one column.
NAME_WIDTH = 54


class Progress:
    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.out = out or sys.stderr
        self.quiet = quiet
        self.timings: list[tuple[str, float]] = []
        self._tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._phase = ""

    def _write(self, text: str) -> None:
        if not self.quiet:
            self.out.write(text)
            self.out.flush()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._phase = name
        started = time.monotonic()
        if self._tty:
            self._write(f"  {name} ...")
        try:
            yield
        finally:
            took = time.monotonic() - started
            self.timings.append((name, took))
            self._write(("\r\033[K" if self._tty else "") + f"  {name:<{NAME_WIDTH}} {took * 1000:7.0f} ms\n")

    def tick(self, done: int, total: int, what: str = "") -> None:
        """A live counter inside the current phase (terminals only, no log spam)."""
        if self._tty:
            self._write(f"\r\033[K  {self._phase} ... {done}/{total} {what}")

    def note(self, text: str) -> None:
        self._write(("\r\033[K" if self._tty else "") + f"  {text}\n")

    def summary(self) -> str:
        total = sum(t for _, t in self.timings)
        parts = ", ".join(f"{name} {t:.2f} s" for name, t in self.timings)
        return f"timings: {parts}; total {total:.2f} s"
