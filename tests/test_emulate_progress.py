"""The phase lines of `netweave emulate`: what the user reads while the lab builds."""

from __future__ import annotations

import io

from netweave.emulate.progress import Progress


def test_phase_durations_line_up_in_one_column_whatever_the_phase_name() -> None:
    out = io.StringIO()
    progress = Progress(out)
    for name in ("teardown", "vCPEs: netplan, sysctl, iptables, tunnels (2)",
                 "VPN servers (1): netplan, sysctl, iptables, VPN daemon"):
        with progress.phase(name):
            pass
    ends = {line.index(" ms") for line in out.getvalue().splitlines()}
    assert len(ends) == 1
