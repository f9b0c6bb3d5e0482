"""The rendered strongSwan files, read by strongSwan itself: charon-systemd started in a
network namespace this test owns (its own settings file, vici socket and log, as the lab
runs it), ``swanctl --load-all`` with the rendered swanctl files, and ``--list-conns`` to
see what charon made of them. The namespace has no route to any peer: nothing leaves it.
Processes are ended by PID, the namespace is deleted on every exit."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from netweave.emulate import ipsec, shell
from netweave.emulate.processes import Processes
from netweave.emulate.rendered import RenderOutput
from netweave.render import render_topology, write_rendered

from tests.support.render_helpers import load

pytestmark = pytest.mark.root


@pytest.fixture
def namespace() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    try:
        ipsec.check_installed()
    except ipsec.IpsecUnavailable as exc:
        pytest.skip(str(exc))
    ns = f"nws{os.getpid() % 100000}"
    shell.run(["ip", "netns", "add", ns])
    try:
        shell.run(["ip", "-n", ns, "link", "set", "lo", "up"])
        yield ns
    finally:
        shell.run(["ip", "netns", "del", ns], check=False)


def _rendered(tmp_path: Path) -> RenderOutput:
    out = tmp_path / "out"
    write_rendered(render_topology(*load("s5-ipsec")), out)
    return RenderOutput.load(out)


def _charon(ns: str, rendered: RenderOutput, host: str, folder: Path) -> Iterator[Path]:
    procs = Processes()
    try:
        yield ipsec.start_charon(ns, host, rendered.host(host), folder, procs)
    finally:
        procs.stop_all()


@pytest.mark.parametrize("host", ["qc-vcpe", "vultr-vcpe"])
def test_charon_loads_the_rendered_connection_and_its_psk(host: str, namespace: str,
                                                           tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    for settings in _charon(namespace, rendered, host, tmp_path / "charon"):
        report = ipsec.load_all(namespace, settings)
        assert "loaded ike secret 'ike-qc-vultr-ipsec'" in report, report
        assert "successfully loaded 1 connections, 0 unloaded" in report, report
        conns = ipsec.swanctl(namespace, settings, "--list-conns")
        assert re.search(r"qc-vultr-ipsec: IKEv2", conns), conns
        assert re.search(r"local pre-shared key authentication:\s+id: " + host, conns), conns
        assert re.search(r"qc-vultr-ipsec: TUNNEL.*\n\s+local:\s+0\.0\.0\.0/0\n\s+remote:\s+0\.0\.0\.0/0",
                         conns), conns


def test_the_checker_catches_a_broken_swanctl_file(namespace: str, tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    connections = rendered.host("qc-vcpe").path("/etc/swanctl/conf.d/netweave.conf")
    connections.write_text(connections.read_text().replace("children {", "children", 1))
    for settings in _charon(namespace, rendered, "qc-vcpe", tmp_path / "charon"):
        with pytest.raises(shell.CommandError, match="syntax error"):
            ipsec.load_all(namespace, settings)
