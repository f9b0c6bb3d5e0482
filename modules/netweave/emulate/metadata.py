"""Vultr's metadata service, as the lab stands in for it, and the VM's own boot step that
reads it: the rendered ``/etc/netweave/vultr-vpc.py`` runs for real in the host's
namespace and finds its VPC NIC by MAC.

On Vultr, ``http://169.254.169.254/v1.json`` describes the VM's interfaces with their
MACs and the addresses Vultr assigned (https://www.vultr.com/metadata/). The lab serves
the same document — shaped as cloud-init's own Vultr test data — with its stand-in
address and the MAC it gave the NIC, from a Python HTTP server on 127.0.0.1 inside the
host's namespace (nothing outside the namespace can reach it). The VM's root is a
directory of the run holding what cloud-init would have written on a Debian 12 image for
the public NIC only (``/etc/network/interfaces.d/50-cloud-init``): the case of a VPC
attached after the first boot, where the program itself configures the NIC. It writes
the ifupdown file there and, since no ifupdown manages the lab's namespaces, brings the
address up with ``ip`` (``--activate ip``), as its notes say.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from netweave.emulate import shell
from netweave.emulate.layout import NicLayout, VcpeLayout
from netweave.emulate.processes import Processes
from netweave.emulate.rendered import RenderedHost

PORT = 8169
PYTHON = "/usr/bin/python3"   # the image's interpreter, not this program's virtualenv
CLOUD_INIT_ENI = "etc/network/interfaces.d/50-cloud-init"


def document(host: str, nic: NicLayout) -> dict[str, Any]:
    """The metadata of one VM: its public interface and its VPC interface."""
    return {
        "hostname": host,
        "interfaces": [
            {"ipv4": {"additional": [], "address": "198.51.100.1", "gateway": "198.51.100.254",
                      "netmask": "255.255.255.0"},
             "mac": "56:00:6e:77:00:00", "network-type": "public"},
            {"ipv4": {"additional": [], "address": str(nic.address.ip), "gateway": "",
                      "netmask": str(nic.address.netmask)},
             "mac": nic.mac, "network-type": "private"},
        ],
    }


def serve(layout: VcpeLayout, nic: NicLayout, procs: Processes, run_dir: Path) -> str:
    """Start the stand-in metadata service in the host's namespace; returns its URL."""
    folder = run_dir / "metadata" / layout.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "v1.json").write_text(json.dumps(document(layout.name, nic), indent=2))
    procs.start(layout.ns, [PYTHON, "-m", "http.server", str(PORT), "--bind", "127.0.0.1",
                          "--directory", str(folder)],
                f"metadata@{layout.name}", run_dir / f"metadata-{layout.name}.log")
    return f"http://127.0.0.1:{PORT}/v1.json"


def vm_root(run_dir: Path, host: str) -> Path:
    """The VM's root as the program sees it: cloud-init configured the public NIC only."""
    root = run_dir / "vm" / host
    (root / CLOUD_INIT_ENI).parent.mkdir(parents=True, exist_ok=True)
    (root / CLOUD_INIT_ENI).write_text(
        "# the lab's stand-in for what cloud-init writes on Debian 12 (eni renderer):\n"
        "# the public NIC only; the VPC was attached after the first boot\n")
    return root


def find_vpc_nic(layout: VcpeLayout, host: RenderedHost, procs: Processes, run_dir: Path) -> list[str]:
    """Run the rendered program against the stand-in metadata service; returns notes."""
    vpc = host.entry.get("vpc_nic") or {}
    nic = next((n for n in layout.nics if n.assigned), None)
    if not vpc or nic is None:
        return []
    url = serve(layout, nic, procs, run_dir)
    root = vm_root(run_dir, layout.name)
    argv = [PYTHON, str(host.path(vpc["script"])), "--config", str(host.path(vpc["config"])),
            "--metadata", url, "--root", str(root), "--activate", "ip", "--tries", "50",
            "--wait", "0.1"]
    proc = shell.run(shell.in_ns(layout.ns, argv), check=False, timeout=30)
    status = json.loads((root / str(vpc["status"]).lstrip("/")).read_text())
    if proc.returncode != 0 or status.get("state") != "ok":
        raise RuntimeError(f"{layout.name}: {vpc['script']} did not configure the VPC NIC: "
                           f"{status.get('error') or proc.stderr.strip()}")
    notes = [f"{vpc['script']} ran in the namespace against the lab's metadata service "
             f"(127.0.0.1:{PORT}, standing in for 169.254.169.254): it found {status['interface']} "
             f"by MAC {status['mac']} and gave it {status['address']} "
             f"({status['configured_by']}; the lab brings it up with ip, no ifupdown here)"]
    written = root / "etc/network/interfaces.d/60-netweave-vpc"
    if written.is_file() and shutil.which("ifquery"):
        check = subprocess.run(["ifquery", "-i", str(written), status["interface"]],
                               capture_output=True, text=True, timeout=30, check=False)
        notes.append("the ifupdown file it wrote "
                     f"{'passes' if check.returncode == 0 else 'FAILS'} ifquery")
        if check.returncode != 0:
            raise RuntimeError(f"{layout.name}: ifquery refuses {written}: {check.stderr.strip()}")
    return notes
