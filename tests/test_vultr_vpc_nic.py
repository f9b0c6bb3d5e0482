"""The program a Vultr vCPE runs at every boot to find its VPC NIC by MAC and make sure it
holds the address Vultr assigned (netweave/render/hostside/vultr_vpc.py).

The metadata fixture is shaped as cloud-init's own Vultr test data (VULTR_V1_2 in
canonical/cloud-init tests/unittests/sources/test_vultr.py); its VPC address 10.8.3.77
is one the topology never names. Files it writes are checked with the real tools:
``netplan generate`` (Ubuntu) and ``ifquery`` / ``ifup --no-act`` (Debian 12's ifupdown).
"""

from __future__ import annotations

import ast
import copy
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from netweave.render import render_topology
from netweave.render.hostside import source
from netweave.render.hostside import vultr_vpc as program

from tests.support.render_helpers import load

FIXTURE = Path(__file__).parent / "fixtures" / "vultr" / "metadata-v1.json"
METADATA: dict[str, Any] = json.loads(FIXTURE.read_text())
VPCS = [{"name": "vultr-vpc", "cidr": "10.8.0.0/20"}]
MAC = "5a:00:03:1b:4e:ca"


def _nic(mtu: int | None = None, interface: str = "ens7") -> program.VpcNic:
    return program.VpcNic("vultr-vpc", MAC, "10.8.3.77/20", mtu, interface)


def _need(tool: str) -> None:
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed (bash .ci/setup installs it)")


# --- reading the metadata ---------------------------------------------------------------

def test_the_vpc_nic_is_the_private_interface_inside_the_vpc_range() -> None:
    nic = program.vpc_nic(METADATA, VPCS)
    assert (nic.vpc, nic.mac, nic.address, nic.mtu) == ("vultr-vpc", MAC, "10.8.3.77/20", None)


def test_a_ready_network_config_in_cloud_interfaces_is_read_too() -> None:
    # cloud-init's DataSourceVultr: "if 'cloud_interfaces' in md" it is the netcfg itself,
    # and "interfaces" may be empty (test_vultr.py _get_metadata, v1_3)
    metadata = {"interfaces": [], "cloud_interfaces": {"version": 1, "config": [
        {"type": "physical", "mac_address": "56:00:03:1b:4e:ca", "subnets": [{"type": "dhcp"}]},
        {"type": "physical", "mac_address": MAC, "subnets": [
            {"type": "static", "control": "auto", "address": "10.8.3.77", "netmask": "255.255.240.0"}]}]}}
    assert program.vpc_nic(metadata, VPCS).address == "10.8.3.77/20"


def test_the_mtu_is_taken_only_when_the_metadata_gives_one() -> None:
    metadata = copy.deepcopy(METADATA)
    metadata["interfaces"][1]["mtu"] = 1450
    assert program.vpc_nic(metadata, VPCS).mtu == 1450


def test_no_private_interface_in_the_vpc_range_is_a_failure_that_says_what_it_saw() -> None:
    with pytest.raises(program.Failure, match=r"no private interface .* vultr-vpc \(10\.9\.0\.0/20\)"
                                              r".*private interfaces: 10\.8\.3\.77/20"):
        program.vpc_nic(METADATA, [{"name": "vultr-vpc", "cidr": "10.9.0.0/20"}])


def test_the_interface_is_found_by_its_mac_whatever_the_image_calls_it(tmp_path: Path) -> None:
    for name, mac in (("enp1s0", "56:00:03:1b:4e:ca"), ("ens7", MAC.upper()), ("lo", "00:00:00:00:00:00")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "address").write_text(mac + "\n")
    assert program.interface_by_mac(tmp_path, MAC) == "ens7"


def test_a_mac_no_interface_has_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(program.Failure, match="no interface with MAC"):
        program.interface_by_mac(tmp_path, MAC)


# --- the image's own network manager ---------------------------------------------------

@pytest.mark.parametrize(("written", "expected"), [
    ("etc/netplan/50-cloud-init.yaml", "netplan"),
    ("etc/network/interfaces.d/50-cloud-init", "ifupdown"),
])
def test_the_config_is_written_for_the_manager_cloud_init_rendered_for(
        tmp_path: Path, written: str, expected: str) -> None:
    (tmp_path / written).parent.mkdir(parents=True)
    (tmp_path / written).write_text("")
    assert program.renderer(tmp_path) == expected


def test_without_either_the_address_is_set_with_ip_at_every_boot(tmp_path: Path) -> None:
    assert program.renderer(tmp_path) == "ip"


def _netplan_generate(root: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = root / program.NETPLAN_FILE
    path.parent.mkdir(parents=True)
    path.write_text(text)
    path.chmod(0o600)
    return subprocess.run(["netplan", "generate", "--root-dir", str(root)], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("mtu", [None, 1450])
def test_the_netplan_file_matches_the_nic_by_mac_and_netplan_generates_it(
        tmp_path: Path, mtu: int | None) -> None:
    _need("netplan")
    text = program.netplan_text(_nic(mtu))
    assert 'macaddress: "5a:00:03:1b:4e:ca"' in text and "ens7" not in text
    assert ("mtu:" in text) == (mtu is not None)
    proc = _netplan_generate(tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    network = next((tmp_path / "run" / "systemd" / "network").glob("*netweave-vpc.network")).read_text()
    assert "MACAddress=5a:00:03:1b:4e:ca" in network and "Address=10.8.3.77/20" in network


def test_netplan_generate_refuses_a_broken_file(tmp_path: Path) -> None:
    _need("netplan")
    broken = program.netplan_text(_nic()).replace("10.8.3.77/20", "10.8.3.777/20")
    assert _netplan_generate(tmp_path, broken).returncode != 0


@pytest.mark.parametrize("mtu", [None, 1450])
def test_the_ifupdown_file_passes_ifquery_and_ifup_no_act(tmp_path: Path, mtu: int | None) -> None:
    _need("ifquery")
    path = tmp_path / "60-netweave-vpc"
    path.write_text(program.ifupdown_text(_nic(mtu)))
    query = subprocess.run(["ifquery", "-i", str(path), "ens7"], capture_output=True, text=True,
                           timeout=30)
    assert query.returncode == 0, query.stderr
    assert "address: 10.8.3.77" in query.stdout
    assert ("mtu: 1450" in query.stdout) == (mtu is not None)
    dry = subprocess.run(["ifup", "--no-act", "-i", str(path), "ens7"], capture_output=True,
                         text=True, timeout=30)
    assert dry.returncode == 0, dry.stderr
    assert "ip addr add 10.8.3.77/255.255.240.0" in dry.stderr  # --no-act prints what it would run


def test_ifquery_refuses_a_broken_file(tmp_path: Path) -> None:
    _need("ifquery")
    path = tmp_path / "broken"
    path.write_text(program.ifupdown_text(_nic()).replace("inet static", "inet statik"))
    assert subprocess.run(["ifquery", "-i", str(path), "ens7"], capture_output=True,
                          timeout=30).returncode != 0


def test_the_ifupdown_file_name_is_one_source_directory_reads() -> None:
    # interfaces(5): source-directory reads only names matching ^[a-zA-Z0-9_-]+$
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", Path(program.IFUPDOWN_FILE).name)


# --- the program end to end ------------------------------------------------------------

class _Metadata(http.server.BaseHTTPRequestHandler):
    """Vultr's metadata service on 127.0.0.1: answers 503 ``failures`` times first."""

    failures: ClassVar[int] = 0
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if len(type(self).requests) <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps(METADATA).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def metadata_service() -> Iterator[type[_Metadata]]:
    handler = type("Handler", (_Metadata,), {"failures": 0, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/v1.json"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def _vm(tmp_path: Path, manager: str | None) -> tuple[Path, Path, Path]:
    """A VM's root (with the file cloud-init wrote for ``manager``), its sysfs, the config."""
    root, sysfs = tmp_path / "root", tmp_path / "sys"
    for name, mac in (("enp1s0", "56:00:03:1b:4e:ca"), ("enp6s0", MAC)):
        (sysfs / name).mkdir(parents=True)
        (sysfs / name / "address").write_text(mac + "\n")
    if manager:
        written = root / program.CLOUD_INIT_FILES[manager]
        written.parent.mkdir(parents=True)
        written.write_text("# cloud-init: the public NIC only\n")
    config = tmp_path / "vultr-vpc.json"
    config.write_text(json.dumps({"vpcs": VPCS, "status": "/var/lib/netweave/vultr-vpc.json"}))
    return root, sysfs, config


def _run(url: str, root: Path, sysfs: Path, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-", "--config", str(config), "--metadata", url, "--root", str(root),
            "--sysfs", str(sysfs), "--activate", "none", "--wait", "0", *extra]
    return subprocess.run(argv, input=source("vultr_vpc"), capture_output=True, text=True, timeout=60)


def test_the_program_retries_the_metadata_then_writes_the_images_config_and_its_status(
        tmp_path: Path, metadata_service: Any) -> None:
    metadata_service.failures = 2
    root, sysfs, config = _vm(tmp_path, "ifupdown")
    proc = _run(metadata_service.url, root, sysfs, config)
    assert proc.returncode == 0, proc.stderr
    assert len(metadata_service.requests) == 3
    assert "attempt 1 of 10 failed" in proc.stderr and "attempt 2 of 10 failed" in proc.stderr
    written = (root / program.IFUPDOWN_FILE).read_text()
    assert "auto enp6s0\niface enp6s0 inet static\n    address 10.8.3.77/20\n" in written
    status = json.loads((root / "var/lib/netweave/vultr-vpc.json").read_text())
    assert {k: status[k] for k in ("state", "interface", "mac", "address", "mtu", "configured_by")} == {
        "state": "ok", "interface": "enp6s0", "mac": MAC, "address": "10.8.3.77/20", "mtu": None,
        "configured_by": "netweave (ifupdown)"}


def test_on_an_ubuntu_image_the_program_writes_netplan(tmp_path: Path, metadata_service: Any) -> None:
    root, sysfs, config = _vm(tmp_path, "netplan")
    assert _run(metadata_service.url, root, sysfs, config).returncode == 0
    assert 'macaddress: "5a:00:03:1b:4e:ca"' in (root / program.NETPLAN_FILE).read_text()
    assert not (root / program.IFUPDOWN_FILE).exists()


def test_a_metadata_service_that_never_answers_fails_with_a_status(tmp_path: Path) -> None:
    root, sysfs, config = _vm(tmp_path, "ifupdown")
    proc = _run("http://127.0.0.1:9/v1.json", root, sysfs, config, "--tries", "2")
    assert proc.returncode == 1
    status = json.loads((root / "var/lib/netweave/vultr-vpc.json").read_text())
    assert status["state"] == "failed" and "after 2 attempts" in status["error"]
    assert not (root / program.IFUPDOWN_FILE).exists()


# --- what is shipped ----------------------------------------------------------------------

def test_the_vcpe_gets_this_program_verbatim_with_its_vpc_range() -> None:
    host = render_topology(*load("s3-hybrid-vultr")).hosts["vultr-vcpe"]
    shipped = host.file("/etc/netweave/vultr-vpc.py")
    assert shipped.mode == 0o755
    assert shipped.content.splitlines()[2:] == source("vultr_vpc").splitlines()[1:]
    config = json.loads(host.file("/etc/netweave/vultr-vpc.json").content)
    assert (config["vpcs"], config["status"]) == (VPCS, "/var/lib/netweave/vultr-vpc.json")


def test_the_program_runs_on_the_python_of_ubuntu_22_04_and_debian_12() -> None:
    ast.parse(source("vultr_vpc"), feature_version=(3, 10))
    imported = {n.names[0].name.split(".")[0] for n in ast.walk(ast.parse(source("vultr_vpc")))
                if isinstance(n, ast.Import)}
    imported |= {n.module.split(".")[0] for n in ast.walk(ast.parse(source("vultr_vpc")))
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
