"""The boot script: the one list of commands every delivery channel runs."""

from __future__ import annotations

from netweave.render import interfaces
from netweave.render.artifacts import File
from netweave.render.templating import render

SCRIPT = "/etc/netweave/boot.sh"


def script(host: str, packages: list[str], units: list[str], frr: bool) -> File:
    text = render("boot.sh.j2", host=host, packages=packages, units=units, frr=frr,
                  netplan=interfaces.NETPLAN)
    return File(SCRIPT, text, 0o755)
