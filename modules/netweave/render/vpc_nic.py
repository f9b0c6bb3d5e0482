"""The Vultr VPC NIC: left to cloud-init and to the VM itself, never named or numbered here.

Vultr assigns the NIC's address when the VM attaches to the VPC; cloud-init configures
the NIC by MAC from Vultr's metadata on the first boot (with the MTU the metadata gives,
if any). What netweave renders is the program that checks it at every boot — and
configures a VPC attached after the first boot, which cloud-init leaves alone — plus the
VPC ranges it looks for (``hostside/vultr_vpc.py``). No interface name, address or MTU
for this NIC appears in any rendered file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from netweave.design import NicInterface
from netweave.render import interfaces
from netweave.render.artifacts import File, HostRender
from netweave.render.hostside import source
from netweave.render.templating import HEADER

SCRIPT = "/etc/netweave/vultr-vpc.py"
CONFIG = "/etc/netweave/vultr-vpc.json"
STATUS = "/var/lib/netweave/vultr-vpc.json"


def files(nics: Iterable[NicInterface]) -> list[File]:
    """The program and its configuration: the VPC(s) whose NIC it looks for."""
    vpcs = [{"name": n.vpc, "cidr": str(n.cidr)} for n in nics]
    config = {"comment": HEADER, "vpcs": vpcs, "status": STATUS}
    program = source("vultr_vpc").replace("#!/usr/bin/python3\n", f"#!/usr/bin/python3\n# {HEADER}\n", 1)
    return [File(SCRIPT, program, 0o755), File(CONFIG, json.dumps(config, indent=2) + "\n")]


def manifest(nics: Iterable[NicInterface]) -> dict[str, Any] | None:
    """Where the program, its configuration and its status are (None: nothing to find)."""
    return {"script": SCRIPT, "config": CONFIG, "status": STATUS} if list(nics) else None


def add_interface_files(host: HostRender, design_nics: Iterable[NicInterface]) -> list[dict[str, Any]]:
    """A host's NIC files, for a vCPE and a VPN server alike: netplan and sysctl for the NICs
    with the address the topology gives (QingCloud), this module's script for those the
    cloud assigns (Vultr: cloud-init's, found by MAC at boot; no name, address or MTU).
    Returns the netplan NIC contexts (empty: no netplan file)."""
    design_nics = list(design_nics)
    nics = interfaces.nic_contexts(design_nics)
    if nics:
        host.add(File(interfaces.NETPLAN, interfaces.render_netplan(host.name, nics), 0o600))
    host.add(File(interfaces.SYSCTL, interfaces.render_sysctl([n["name"] for n in nics])))
    assigned = [n for n in design_nics if n.assigned_at_deploy]
    for f in files(assigned) if assigned else ():
        host.add(f)
    return nics
