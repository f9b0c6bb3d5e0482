"""Every rendered file passes the real tools that will read it on the host.

cloud-init's schema checker for every cloud-config document, frr-reload.py --test for
every FRR config, cloud-init's network-config converter and ``netplan generate`` for every
netplan file, and iptables-restore --test for the MSS clamping rules. A test is skipped only where the
tool is not installed (``bash .ci/setup`` installs all of them), and says which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from netweave.render import Rendered, render_topology

from tests.support.render_helpers import SCENARIOS, load

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


def _rendered() -> dict[str, Rendered]:
    return {s: render_topology(*load(s)) for s in SCENARIOS}


RENDERED = _rendered()


def _each(suffix: str) -> list[tuple[str, str, str]]:
    """(scenario/host, path, content) of every rendered file ending in suffix."""
    found = []
    for scenario, rendered in RENDERED.items():
        for host in rendered.hosts.values():
            for f in host.files:
                if f.path.endswith(suffix):
                    found.append((f"{scenario}/{host.name}", f.path, f.content))
    return found


def _cloud_configs() -> list[tuple[str, str]]:
    docs = []
    for scenario, rendered in RENDERED.items():
        for host in rendered.hosts.values():
            if "user-data" in host.artifacts:
                docs.append((f"{scenario}/{host.name}", host.artifacts["user-data"].decode()))
        for vpc, files in rendered.vpc_files.items():
            docs.extend((f"{scenario}/{vpc}/{n}", text) for n, text in files.items())
    return docs


# Administration tools live in /usr/sbin, which a user's PATH often lacks: look there too,
# so that a skip says "not installed" only when it is not.
_SEARCH = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def _need(tool: str) -> str:
    """The tool's path; skips (saying so) only when it is not installed."""
    found = tool if os.path.isabs(tool) and os.path.exists(tool) else shutil.which(tool, path=_SEARCH)
    if not found:
        pytest.skip(f"{tool} is not installed (bash .ci/setup installs it)")
    return found


def _need_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_the_scenarios_give_documents_to_check() -> None:
    assert len(_cloud_configs()) >= 2
    assert len(_each("/etc/frr/frr.conf")) == 10
    assert len(_each(".yaml")) >= 6  # S3's Vultr vCPE has none: cloud-init's, by MAC
    assert len(_each(".service")) >= 8


@pytest.mark.parametrize(("where", "doc"), _cloud_configs(), ids=lambda v: str(v)[:40])
def test_cloud_config_passes_cloud_init_schema(where: str, doc: str, tmp_path: Path) -> None:
    _need("cloud-init")
    path = tmp_path / "user-data"
    path.write_text(doc)
    proc = _run(["cloud-init", "schema", "--config-file", str(path)])
    assert proc.returncode == 0, f"{where}: {proc.stdout}{proc.stderr}"


def test_cloud_init_schema_catches_a_broken_document(tmp_path: Path) -> None:
    _need("cloud-init")
    path = tmp_path / "user-data"
    path.write_text("#cloud-config\nwrite_files: {path: 3}\n")
    assert _run(["cloud-init", "schema", "--config-file", str(path)]).returncode == 1


def _frr_reload(config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "frr.conf").write_text(config)
    (tmp_path / "empty").write_text("")
    d = str(tmp_path)
    return _run(["python3", FRR_RELOAD, "--test", "--stdout", "--input", f"{d}/empty",
                 "--confdir", d, "--rundir", d, "--vty_socket", d, f"{d}/frr.conf"])


@pytest.mark.parametrize(("where", "path", "config"), _each("/etc/frr/frr.conf"),
                         ids=lambda v: str(v)[:30])
def test_frr_config_passes_frr_reload_test(where: str, path: str, config: str,
                                           tmp_path: Path) -> None:
    _need(FRR_RELOAD)
    proc = _frr_reload(config, tmp_path)
    assert proc.returncode == 0, f"{where}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"


def test_frr_reload_catches_a_broken_config(tmp_path: Path) -> None:
    _need(FRR_RELOAD)
    assert _frr_reload("router bgp 65001\n neighbor 1.2.3.4 remote-az 5\n", tmp_path).returncode == 1


@pytest.mark.parametrize(("where", "path", "config"), _each("/etc/netplan/60-netweave.yaml"),
                         ids=lambda v: str(v)[:30])
def test_netplan_converts_with_cloud_init_net_convert(where: str, path: str, config: str,
                                                      tmp_path: Path) -> None:
    _need("cloud-init")
    # cloud-init's networkd renderer gives the files it writes to systemd-network (chown)
    _need_root("cloud-init's networkd renderer chowns its output to systemd-network")
    src = tmp_path / "net.yaml"
    src.write_text(config)
    proc = _run(["cloud-init", "devel", "net-convert", "-p", str(src), "-k", "yaml", "-D", "debian",
                 "-O", "networkd", "-d", str(tmp_path / "out")])
    assert proc.returncode == 0, f"{where}: {proc.stdout}{proc.stderr}"
    assert list((tmp_path / "out").rglob("*.network")), "no networkd file written"


@pytest.mark.parametrize(("where", "path", "rules"), _each("/etc/netweave/iptables.rules"),
                         ids=lambda v: str(v)[:30])
def test_mss_rules_parse_with_iptables_restore_test(where: str, path: str, rules: str) -> None:
    tool = _need("iptables-restore")
    _need_root("iptables-restore --test opens the kernel's iptables interface")
    proc = subprocess.run([tool, "--test"], input=rules, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, f"{where}: {proc.stderr}"


@pytest.mark.parametrize(("where", "path", "unit"), _each(".service"), ids=lambda v: str(v)[:40])
def test_systemd_units_pass_systemd_analyze_verify(where: str, path: str, unit: str,
                                                   tmp_path: Path) -> None:
    _need("systemd-analyze")
    target = tmp_path / Path(path).name
    target.write_text(unit)
    proc = _run(["systemd-analyze", "verify", str(target)])
    assert proc.returncode == 0, f"{where}: {proc.stdout}{proc.stderr}"


def test_systemd_analyze_catches_a_unit_that_could_never_restart(tmp_path: Path) -> None:
    _need("systemd-analyze")
    unit = RENDERED["s3-hybrid-vultr"].hosts["vultr-vcpe"].file(
        "/etc/systemd/system/netweave-boot.service").content
    target = tmp_path / "netweave-boot.service"
    target.write_text(unit.replace("Restart=on-failure", "Restart=always"))  # refused for oneshot
    assert _run(["systemd-analyze", "verify", str(target)]).returncode != 0


def _netplan_generate(config: str, root: Path) -> subprocess.CompletedProcess[str]:
    (root / "etc" / "netplan").mkdir(parents=True)
    path = root / "etc" / "netplan" / "60-netweave.yaml"
    path.write_text(config)
    path.chmod(0o600)
    return _run([_need("netplan"), "generate", "--root-dir", str(root)])


@pytest.mark.parametrize(("where", "path", "config"), _each("/etc/netplan/60-netweave.yaml"),
                         ids=lambda v: str(v)[:30])
def test_netplan_generates_with_netplan_itself(where: str, path: str, config: str,
                                               tmp_path: Path) -> None:
    _need("netplan")
    proc = _netplan_generate(config, tmp_path)
    assert proc.returncode == 0, f"{where}: {proc.stdout}{proc.stderr}"


def test_netplan_renders_the_extra_nic_policy_routing(tmp_path: Path) -> None:
    _need("netplan")
    config = RENDERED["s2-many-to-many"].hosts["vcpe01"].file("/etc/netplan/60-netweave.yaml").content
    assert _netplan_generate(config, tmp_path).returncode == 0
    network = (tmp_path / "run" / "systemd" / "network" / "10-netplan-eth1.network").read_text()
    assert "[RoutingPolicyRule]\nFrom=192.168.129.5\nTable=101" in network
    assert "Gateway=192.168.129.1\nTable=101" in network


def test_netplan_generate_catches_a_broken_file(tmp_path: Path) -> None:
    _need("netplan")
    assert _netplan_generate("network:\n  version: 2\n  ethernets:\n    eth0: {addresses: [nope]}\n",
                             tmp_path).returncode != 0
