"""The rendered OpenVPN configurations, run for real: two network namespaces joined by a
veth on 198.18.250.0/24 (the benchmark range), openvpn started from the rendered files,
a bounded ping through the tunnel. Everything is created inside namespaces this test
owns and torn down on every exit; processes are ended by PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from netweave.render import render_topology

from tests.support.render_helpers import STACKS, from_text, load

pytestmark = pytest.mark.root

A, B = "198.18.250.1", "198.18.250.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def pair() -> Iterator[tuple[str, str]]:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    if not shutil.which("openvpn", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])):
        pytest.skip("openvpn is not installed (bash .ci/setup installs it)")
    tag = f"nwr{os.getpid() % 100000}"
    ns = (f"{tag}-a", f"{tag}-b")
    try:
        for n in ns:
            _ip("netns", "add", n)
        _ip("link", "add", f"{tag}a", "netns", ns[0], "type", "veth", "peer", "name", f"{tag}b",
            "netns", ns[1])
        for n, dev, addr in ((ns[0], f"{tag}a", A), (ns[1], f"{tag}b", B)):
            _ip("-n", n, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", n, "link", "set", dev, "up")
            _ip("-n", n, "link", "set", "lo", "up")
        yield ns
    finally:
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=10)


def _run_pair(ns: tuple[str, str], configs: tuple[str, str], tmp: Path,
              ping: tuple[int, str]) -> tuple[str, str]:
    """Start both ends, ping, return (both logs, the second namespace's routes)."""
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp / "a.log", tmp / "b.log"]
    try:
        for n, text, log in zip(ns, configs, logs, strict=True):
            conf = tmp / f"{n}.conf"
            conf.write_text(text)
            conf.chmod(0o600)
            with log.open("wb") as out:
                procs.append(subprocess.Popen(["ip", "netns", "exec", n, "openvpn", "--config", str(conf)],
                                              stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
                "Initialization Sequence Completed" in log.read_text() for log in logs):
            time.sleep(0.2)
        proc = subprocess.run(["ip", "netns", "exec", ns[ping[0]], "ping", "-c", "2", "-W", "1", ping[1]],
                              capture_output=True, text=True, timeout=10)
        assert proc.returncode == 0, proc.stdout + "".join(log.read_text()[-1500:] for log in logs)
        routes = subprocess.run(["ip", "-n", ns[1], "route"], capture_output=True, text=True,
                                timeout=10).stdout
        return "".join(log.read_text() for log in logs), routes
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


def test_openvpn_tunnel_configs_connect_and_carry_packets(pair: tuple[str, str], tmp_path: Path) -> None:
    text = (STACKS / "s2-many-to-many.yaml").read_text().replace(
        "  - name: vcpe01-vcpe02\n", "  - name: vcpe01-vcpe02\n    type: openvpn\n")
    hosts = render_topology(*from_text(text), public_addresses={"vcpe01": A, "vcpe02": B}).hosts
    configs = (hosts["vcpe01"].file("/etc/openvpn/ovpn-vcpe02.conf").content,
               hosts["vcpe02"].file("/etc/openvpn/ovpn-vcpe01.conf").content)
    logs, _ = _run_pair(pair, configs, tmp_path, (0, "169.254.100.2"))
    assert "peer certificate: 256 bits ED25519" in logs


def test_openvpn_server_and_client_profile_connect_with_split_tunnel(pair: tuple[str, str],
                                                                     tmp_path: Path) -> None:
    host = render_topology(*load("s4-remote-access"), public_addresses={"vpn01": A}).hosts["vpn01"]
    configs = (host.file("/etc/openvpn/server/ovpn-vpn01.conf").content, host.client_profiles["alice"])
    _, routes = _run_pair(pair, configs, tmp_path, (1, "10.99.0.1"))
    assert "192.168.20.0/24 via 10.99.0.1" in routes  # the pushed network, nothing more
    assert "default via 10.99" not in routes
