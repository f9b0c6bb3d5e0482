"""Day 2: what a running host needs so that later changes reach it without a reboot.

User data is read once, at first boot. Every later change travels over SSH from the
deploying machine (``netweave.providers.hostconfig``): the new file set is uploaded and
``/etc/netweave/apply.sh`` applies it live, each change with its own tool. This module
renders the three pieces that make that possible and that the first boot already installs:

- the host's SSH host key (``ssh/<host>`` in the key material) and an sshd drop-in that
  makes sshd present exactly that key, so the deploying machine can pin it: it knows the
  key before the host ever answered, no trust on first use;
- the apply script, rendered per host from the same contexts as its files (NICs, tunnels,
  FRR), so it knows which tool applies which file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netweave.render import firewall, frr, interfaces, ipsec
from netweave.render.artifacts import File, HostRender
from netweave.render.material import KeyMaterial
from netweave.render.templating import render

APPLY = "/etc/netweave/apply.sh"
HOST_KEY = "/etc/ssh/netweave_host_ed25519_key"
SSHD_DROP_IN = "/etc/ssh/sshd_config.d/60-netweave.conf"
STAMP = "/var/lib/netweave/applied"


def tunnel_entry(unit: str, interface: str, config: str, address: str | None,
                 mtu: int | None) -> dict[str, Any]:
    """One tunnel (or VPN server) as the apply script handles it: ``unit`` is the systemd
    template that runs it (``wg-quick``, ``openvpn``, ``openvpn-server``)."""
    return {"unit": unit, "interface": interface, "config": config, "address": address, "mtu": mtu}


def add_files(host: HostRender, keys: KeyMaterial, nics: Sequence[dict[str, Any]],
              tunnels: Sequence[dict[str, Any]], packages: Sequence[str], uses_frr: bool) -> None:
    """Add the host key, the sshd drop-in and the apply script (last: it lists every file)."""
    host_key = keys.ssh_host(host.name)
    host.add(File(HOST_KEY, host_key.private_key, 0o600, secret=True))
    host.add(File(HOST_KEY + ".pub", host_key.public_key + "\n", 0o644))
    host.add(File(SSHD_DROP_IN, render("sshd-netweave.conf.j2", host_key=HOST_KEY)))
    paths = sorted([f.path for f in host.files] + [APPLY])
    # IPsec: the rendered swanctl files and XFRM script, when the host has them
    ipsec_files = [p for p in (ipsec.CONNECTIONS, ipsec.SECRETS, ipsec.XFRM_SCRIPT) if p in paths]
    host.add(File(APPLY, render(
        "apply.sh.j2", host=host.name, files=paths, nics=nics, tunnels=tunnels,
        packages=list(packages),
        # a host whose NICs the cloud configures (Vultr VPC NIC by MAC) has no netplan file
        netplan=interfaces.NETPLAN if nics else None, sysctl=interfaces.SYSCTL,
        iptables=firewall.RULES, frr=frr.CONFIG if uses_frr else None, sshd=SSHD_DROP_IN,
        host_key=HOST_KEY, stamp=STAMP, ipsec_files=ipsec_files, xfrm=ipsec.XFRM_SCRIPT), 0o755))
    host.manifest["in_place"] = {"apply": APPLY, "host_key": HOST_KEY,
                                 "host_public_key": host_key.public_key, "sshd": SSHD_DROP_IN}
