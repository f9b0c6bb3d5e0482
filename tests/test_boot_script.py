"""The rendered first-boot script run for real with stand-ins for apt-get, systemctl and
friends (PATH): it waits for the network by retrying apt, never gives up on the whole
boot because of apt, and says how it went in the status file the README points at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from netweave.render import render_topology

from tests.support.render_helpers import load

SCRIPT = "/etc/netweave/boot.sh"


def rendered(stack: str, host: str) -> str:
    hosts = render_topology(*load(stack)).hosts
    return next(f.data for f in hosts[host].files if f.path == SCRIPT).decode()


def run(tmp_path: Path, update_failures: int = 0, install_fails: bool = False,
        failing_unit: str = "") -> tuple[int, dict[str, str], list[str], str]:
    """(exit status, status file, commands run, log) of S2 vcpe01's boot script."""
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    stub = f'#!/bin/sh\necho "$(basename "$0") $*" >> {calls}\n'
    stubs = {
        "apt-get": stub + f'[ "$1" = install ] && exit {1 if install_fails else 0}\n'
                          f'n=$(cat {tmp_path}/n 2>/dev/null || echo 0); echo $((n + 1)) > {tmp_path}/n\n'
                          f'[ "$n" -ge {update_failures} ]\n',
        "systemctl": stub + (f'case "$*" in *{failing_unit}*) exit 1;; esac\n' if failing_unit else ""),
        "sleep": stub, "sysctl": stub, "netplan": stub, "chmod": stub, "chown": stub, "sed": stub,
    }
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    script = tmp_path / "boot.sh"
    script.write_text(rendered("s2-many-to-many", "vcpe01"))
    done = subprocess.run(["/bin/sh", str(script)], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "NETWEAVE_STATE": str(state)})
    status = dict(line.split("=", 1) for line in (state / "boot-status").read_text().splitlines())
    return done.returncode, status, calls.read_text().splitlines(), done.stdout


def test_apt_is_retried_until_the_network_is_there(tmp_path: Path) -> None:
    code, status, calls, log = run(tmp_path, update_failures=2)
    assert code == 0 and status["state"] == "done"
    assert [c for c in calls if c.startswith("apt-get update")] == ["apt-get update -q"] * 3
    assert [c for c in calls if c.startswith("sleep")] == ["sleep 5", "sleep 10"]
    assert "apt-get update failed (attempt 2 of 12), next in 10s" in log


def test_the_backoff_is_bounded(tmp_path: Path) -> None:
    code, _status, calls, _ = run(tmp_path, update_failures=99)
    sleeps = [int(c.split()[1]) for c in calls if c.startswith("sleep")]
    assert sleeps == [5, 10, 20, 40, 60, 60, 60, 60, 60, 60, 60] and code == 1


def test_a_lasting_apt_failure_applies_the_rest_and_says_so(tmp_path: Path) -> None:
    code, status, calls, _ = run(tmp_path, install_fails=True)
    assert code == 1
    assert (status["state"], status["step"]) == ("failed", "apt-get")
    assert "see /var/log/netweave-boot.log" in status["detail"]
    assert any(c.startswith("sysctl") for c in calls) and any(c.startswith("netplan apply") for c in calls)
    assert not any(c.startswith("systemctl") for c in calls), "no service without its package"
    assert not (tmp_path / "state" / "packages").exists(), "retried at the next run"


def test_a_service_that_does_not_start_is_in_the_status(tmp_path: Path) -> None:
    code, status, _, _ = run(tmp_path, failing_unit="wg-quick")
    assert code == 1 and status["step"] == "services" and "wg-quick@wg-vcpe02" in status["detail"]


def test_a_second_run_after_success_installs_nothing(tmp_path: Path) -> None:
    run(tmp_path)
    (tmp_path / "calls").unlink()
    for f in (tmp_path / "bin").iterdir():
        f.unlink()
    (tmp_path / "bin").rmdir()
    _, status, calls, _ = run(tmp_path)
    assert status["state"] == "done" and not any(c.startswith("apt-get") for c in calls)


@pytest.mark.parametrize(("stack", "host"), [("s2-many-to-many", "vcpe01"), ("s4-remote-access", "vpn01"),
                                             ("s3-hybrid-vultr", "vultr-vcpe")])
def test_the_boot_script_passes_sh_n_and_shellcheck(tmp_path: Path, stack: str, host: str) -> None:
    script = tmp_path / "boot.sh"
    script.write_text(rendered(stack, host))
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    checked = subprocess.run(["shellcheck", "-s", "sh", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_rc_local_runs_the_boot_script_in_the_background_until_it_succeeds() -> None:
    from netweave.render import qingcloud

    script = qingcloud.exec_script()
    assert "/bin/sh /etc/netweave/boot.sh" in script and ") &" in script
    assert "[ -e /var/lib/netweave/booted ] && exit 0" in script


# --- Vultr: the VPC NIC, no second network manager, the real underlay MTU -----------------

def run_vultr(tmp_path: Path, vpc_fails: bool = False, underlay_mtu: int = 1500
              ) -> tuple[int, dict[str, str], list[str], str]:
    """(exit status, status file, commands run, log) of S3 vultr-vcpe's boot script, with
    public addresses given (as deployed): stand-ins for everything that changes the
    machine, including python3 (the VPC NIC program) and ip (the route to the peer)."""
    bin_dir, state, sysfs = tmp_path / "bin", tmp_path / "state", tmp_path / "sys"
    bin_dir.mkdir()
    (sysfs / "enp1s0").mkdir(parents=True)
    (sysfs / "enp1s0" / "mtu").write_text(f"{underlay_mtu}\n")
    calls = tmp_path / "calls"
    stub = f'#!/bin/sh\necho "$(basename "$0") $*" >> {calls}\n'
    stubs = {
        "python3": stub + f"exit {1 if vpc_fails else 0}\n",
        "ip": stub + 'echo "198.51.100.7 via 45.76.6.1 dev enp1s0 src 45.76.7.171 uid 0"\n',
        "apt-get": stub, "systemctl": stub, "sleep": stub, "sysctl": stub, "netplan": stub,
        "chmod": stub, "chown": stub, "sed": stub,
    }
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    hosts = render_topology(*load("s3-hybrid-vultr"), public_addresses={
        "qc-vcpe": "198.51.100.7", "vultr-vcpe": "198.51.100.8"}).hosts
    script = tmp_path / "boot.sh"
    script.write_text(hosts["vultr-vcpe"].file(SCRIPT).content)
    done = subprocess.run(["/bin/sh", str(script)], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "NETWEAVE_STATE": str(state),
                               "NETWEAVE_SYSFS": str(sysfs)})
    status = dict(line.split("=", 1) for line in (state / "boot-status").read_text().splitlines())
    return done.returncode, status, calls.read_text().splitlines(), done.stdout


def test_vultr_finds_its_vpc_nic_by_mac_before_anything_is_downloaded(tmp_path: Path) -> None:
    code, status, calls, _ = run_vultr(tmp_path)
    assert code == 0 and status["state"] == "done"
    assert calls[0] == "python3 /etc/netweave/vultr-vpc.py"


def test_vultr_installs_no_second_network_manager(tmp_path: Path) -> None:
    _, _, calls, _ = run_vultr(tmp_path)
    install = next(c for c in calls if c.startswith("apt-get install"))
    assert "netplan.io" not in install and not any(c.startswith("netplan") for c in calls)


def test_a_vpc_nic_not_found_is_retried_then_reported_and_the_rest_still_applied(tmp_path: Path) -> None:
    code, status, calls, _ = run_vultr(tmp_path, vpc_fails=True)
    assert code == 1
    assert sum(c.startswith("python3") for c in calls) == 5
    assert status["state"] == "failed" and "vpc-nic" in status["detail"]
    assert "systemctl restart frr" in calls  # tunnels and BGP come up regardless


def test_an_underlay_smaller_than_the_design_assumed_is_in_the_status(tmp_path: Path) -> None:
    code, status, _, _ = run_vultr(tmp_path, underlay_mtu=1450)
    assert code == 0 and status["state"] == "done"
    assert ("wg-qc-vcpe: the underlay towards qc-vcpe has MTU 1450, the design assumed 1500 "
            "(tunnel MTU 1440): set clouds.vultr-ams.mtu: 1450") in status["detail"]


def test_an_underlay_as_large_as_assumed_says_nothing(tmp_path: Path) -> None:
    _, status, _, _ = run_vultr(tmp_path, underlay_mtu=1500)
    assert status["detail"] == "packages installed, network and services up"
