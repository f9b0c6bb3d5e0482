"""The boot script: the one list of commands every delivery channel runs.

Vultr (cloud-init): the ``netweave-boot`` unit runs it at every boot and again after a
failure — cloud-init's ``runcmd`` runs once per instance (``cc_runcmd``/``cc_scripts_user``
have ``frequency: PER_INSTANCE``), so a first boot whose downloads failed would never
be retried. QingCloud: ``/etc/rc.local`` runs it at boot until it succeeds once. Both
write their output to /var/log/netweave-boot.log and one status to ``STATUS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netweave.render.artifacts import File
from netweave.render.templating import render

SCRIPT = "/etc/netweave/boot.sh"
UNIT = "/etc/systemd/system/netweave-boot.service"
UNIT_NAME = "netweave-boot.service"
STATUS = "/var/lib/netweave/boot-status"
LOG = "/var/log/netweave-boot.log"
RUNS = {
    "vultr": ("The netweave-boot unit runs it at every\n# boot, and again 2 minutes after a "
              "failure (cloud-init's runcmd only starts the unit)."),
    "qingcloud": "Runs at first boot (/etc/rc.local)\n# and again at every boot until it has succeeded once.",
}
AGAIN = {
    "vultr": "the netweave-boot unit runs it again (systemctl status netweave-boot)",
    "qingcloud": "reboot or run /etc/netweave/boot.sh again",
}


@dataclass(frozen=True, slots=True)
class UnderlayCheck:
    """A tunnel's underlay MTU as the design assumed it, compared at boot with the real one."""

    interface: str
    peer: str
    endpoint: str
    cloud: str
    mtu: int
    tunnel_mtu: int


def script(host: str, cloud: str, packages: list[str], units: list[str], frr: bool, *,
           netplan: str | None, vpc_script: str | None = None,
           underlay: Sequence[UnderlayCheck] = ()) -> File:
    text = render("boot.sh.j2", host=host, runs=RUNS[cloud], again=AGAIN[cloud], packages=packages,
                  units=units, frr=frr, netplan=netplan, vpc_script=vpc_script,
                  underlay=list(underlay))
    return File(SCRIPT, text, 0o755)


def unit(host: str) -> File:
    """The systemd unit that runs the boot script at every boot, and again on failure."""
    return File(UNIT, render("netweave-boot.service.j2", host=host, script=SCRIPT))
