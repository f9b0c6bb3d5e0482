"""Rendering: the topology -> every file a vCPE or VPN host boots with, and its delivery.

Layers (as in netlab): the design (``netweave.design``: names, ports, endpoints, MTUs,
BGP policies, interfaces — computed once for every output) -> per-host contexts
(``vcpe``, ``vpn_server``, one module per concern: ``interfaces``, ``frr``, ``firewall``,
``boot``) -> Jinja2 templates (``templates/``) ->
delivery (``cloudinit`` for Vultr, ``qingcloud`` for QingCloud user data) -> manifest.

The contract with the emulator and plan/diff is :func:`render_topology`,
:func:`write_rendered` and ``manifest.json`` (see the README section "Rendering vCPE and
VPN hosts"). Rendering is a pure function of the topology, the public addresses and the
keys: the same inputs give the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import netaddr

from netweave.design import Design
from netweave.design.keys import key_specs
from netweave.model.index import Index
from netweave.model.topology import Topology
from netweave.render import cloudinit, qingcloud, site
from netweave.render.artifacts import File, HostRender, Rendered, RenderError
from netweave.render.material import KeyMaterial, generate_keys, placeholder_keys
from netweave.render.tunnels import rendered_tunnels
from netweave.render.vcpe import render_vcpe
from netweave.render.vpn_server import render_vpn_server

__all__ = ["File", "HostRender", "KeyMaterial", "RenderError", "Rendered", "generate_keys",
           "key_specs", "placeholder_addresses", "placeholder_keys", "render_topology",
           "workload_route_snippets", "write_rendered"]

MANIFEST = "manifest.json"
WORKLOAD_ROUTES = "workload-routes.yaml"
# Documentation range (RFC 5737): clearly not a real endpoint, never routed.
PLACEHOLDER_NETWORK = netaddr.IPNetwork("192.0.2.0/24")


def public_hosts(topology: Topology) -> list[str]:
    """vCPEs and VPN servers that have a public address (EIP / reserved IP), sorted."""
    names = [n for n, v in topology.vcpes.items() if v.public_ip]
    names += [n for n, s in topology.vpn_servers.items() if s.public_ip]
    return sorted(names)


def site_addresses(topology: Topology) -> dict[str, str]:
    """Sites not behind NAT, at the public address the topology gives them."""
    return {n: str(s.public_address) for n, s in topology.sites.items()
            if not s.nat and s.public_address is not None}


def placeholder_addresses(topology: Topology) -> dict[str, str]:
    """192.0.2.10, .11, ... in name order: what ``render`` shows without deployed state."""
    return {name: str(PLACEHOLDER_NETWORK.network + 10 + i)
            for i, name in enumerate(public_hosts(topology))}


def render_topology(topology: Topology, index: Index, *,
                    public_addresses: Mapping[str, str] | None = None,
                    keys: KeyMaterial | None = None, design: Design | None = None,
                    assigned_addresses: Mapping[str, str] | None = None) -> Rendered:
    """``assigned_addresses``: router -> the VPC address the cloud gave it (Vultr's
    ``internal_ip`` after deploy; the emulator's pick). Without it, what depends on such
    an address (Vultr workload routes) names the router and says it is assigned at
    deploy: no rendered file carries a made-up address."""
    design = design if design is not None else Design.build(topology, index)
    assigned = dict(assigned_addresses or {})
    placeholders = placeholder_addresses(topology)
    given = dict(public_addresses or {})
    missing = frozenset(n for n in placeholders if n not in given)
    addresses = {**site_addresses(topology), **{n: placeholders[n] for n in missing}, **given}
    keys = keys or placeholder_keys(topology)
    rendered = Rendered(placeholder_keys=keys.placeholder, placeholder_addresses=bool(missing))

    tunnels = rendered_tunnels(design, addresses, missing)
    for name in sorted(topology.vcpes):
        rendered.hosts[name] = render_vcpe(design.vcpes[name], tunnels[name], keys)
    for name in sorted(topology.sites):
        rendered.hosts[name] = site.render_site(topology.sites[name], design.sites[name],
                                                tunnels[name], keys)
    for name in sorted(topology.vpn_servers):
        server = topology.vpn_servers[name]
        endpoint = addresses.get(name) or (str(server.address) if server.address is not None
                                           else assigned.get(name))
        if endpoint is None:
            raise RenderError(f"VPN server {name} has no public address and its VPC address is "
                              "assigned at deploy: clients would have no endpoint (public_ip: true)")
        rendered.hosts[name] = render_vpn_server(server, design.vpn_servers[name], endpoint, keys)

    for host in rendered.hosts.values():
        _deliver(host)
        host.manifest["public_address"] = addresses.get(host.name)
        host.manifest["public_address_placeholder"] = host.name in missing

    vpcs: dict[str, Any] = {}
    snippets = workload_route_snippets(topology, index, design, assigned)
    for vpc_name in sorted(topology.vpcs):
        _, cloud = index.cloud_of_vpc(vpc_name)
        entry: dict[str, Any] = {"cloud": cloud.provider,
                                 "route_push": _pushes(design, vpc_name, assigned)}
        if vpc_name in snippets:
            rendered.vpc_files[vpc_name] = {WORKLOAD_ROUTES: snippets[vpc_name]}
            entry["workload_routes"] = f"{vpc_name}/{WORKLOAD_ROUTES}"
        else:
            entry["workload_routes"] = None  # QingCloud pushes routes by DHCP (option 121)
        vpcs[vpc_name] = entry

    rendered.manifest = {
        "version": 1,
        "topology": topology.name,
        "placeholder_keys": rendered.placeholder_keys,
        "placeholder_addresses": rendered.placeholder_addresses,
        "hosts": {name: host.manifest for name, host in rendered.hosts.items()},
        "vpcs": vpcs,
        "assigned_addresses": {name: assigned.get(name) for name in assigned_holders(design)},
    }
    return rendered


def assigned_holders(design: Design) -> list[str]:
    """vCPEs and VPN servers whose VPC address the cloud assigns at deploy, sorted."""
    nics = [(v.name, v.nics) for v in design.vcpes.values()]
    nics += [(s.name, s.nics) for s in design.vpn_servers.values()]
    return sorted(name for name, legs in nics if any(n.assigned_at_deploy for n in legs))


def assigned_placeholder(holder: str) -> str:
    """What stands where an address assigned at deploy is not known yet: not an address,
    so a file carrying it fails loudly instead of routing to a made-up one."""
    return f"<{holder}: VPC address assigned at deploy>"


def _pushes(design: Design, vpc: str, assigned: Mapping[str, str],
            received: bool = False) -> list[dict[str, Any]]:
    """The VPC's pushes (``received``: only those some vxnet receives); a next hop the
    cloud assigns is filled in from ``assigned`` or stays a placeholder naming the router."""
    out: list[dict[str, Any]] = []
    for p in design.pushes_of(vpc):
        if received and not p.vxnets:
            continue
        entry: dict[str, Any] = {"destination": str(p.destination), "next_hop": p.via}
        if p.assigned_at_deploy and p.router is not None:
            entry["next_hop"] = assigned.get(p.router) or assigned_placeholder(p.router)
            entry["assigned_at_deploy"] = p.router
        out.append(entry)
    return out


def workload_route_snippets(topology: Topology, index: Index, design: Design | None = None,
                            assigned: Mapping[str, str] | None = None) -> dict[str, str]:
    """Vultr VPC -> the cloud-init snippet with the routes its workload VMs need (Vultr
    has no route push). Their next hops are the vCPEs' VPC addresses, which Vultr assigns:
    ``assigned`` (router -> address) gives them after deploy; before, the snippet names
    the router and cannot be used (:func:`assigned_placeholder`)."""
    design = design if design is not None else Design.build(topology, index)
    known = dict(assigned or {})
    return {vpc: cloudinit.workload_routes(vpc, _pushes(design, vpc, known, received=True))
            for vpc in sorted(topology.vpcs)
            if index.cloud_of_vpc(vpc)[1].provider == "vultr"}


def _deliver(host: HostRender) -> None:
    if host.cloud == "site":
        site.deliver(host)
    elif host.cloud == "vultr":
        host.artifacts[cloudinit.USER_DATA] = cloudinit.cloud_config(host).encode()
        host.manifest["delivery"] = {"type": "cloud-init", "user_data": cloudinit.USER_DATA}
    else:
        qingcloud.deliver(host)
        host.manifest["delivery"] = {"type": "qingcloud", "userdata_type": "tar",
                                     "archive": qingcloud.ARCHIVE, "exec": qingcloud.EXEC}
    host.manifest["files"] = [{"path": f.path, "mode": f"0{f.mode:o}", "secret": f.secret}
                              for f in host.sorted_files()]
    # relative to the output directory, like workload_routes
    host.manifest["client_profiles"] = {c: f"{host.name}/clients/{c}" for c in sorted(host.client_profiles)}


def write_rendered(rendered: Rendered, out_dir: Path) -> None:
    """``DIR/<host>/rootfs/...``, ``DIR/<host>/<artifact>``, ``DIR/<vpc>/...``,
    ``DIR/manifest.json``. Host folders are replaced, so nothing stale survives."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, host in rendered.hosts.items():
        folder = out_dir / name
        if folder.exists():
            shutil.rmtree(folder)
        for f in host.sorted_files():
            target = folder / "rootfs" / f.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.data)
            target.chmod(f.mode)
        for artifact, data in sorted(host.artifacts.items()):
            (folder / artifact).write_bytes(data)
            (folder / artifact).chmod(0o600)
        for client, profile in sorted(host.client_profiles.items()):
            path = folder / "clients" / client
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(profile)
            path.chmod(0o600)
    for vpc, files in rendered.vpc_files.items():
        folder = out_dir / vpc
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in sorted(files.items()):
            (folder / file_name).write_text(text)
    (out_dir / MANIFEST).write_text(json.dumps(rendered.manifest, indent=2, sort_keys=True) + "\n")
