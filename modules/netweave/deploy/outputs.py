"""The renderer inside the Pulumi program: render once every public address and key is
known, then hand each host its delivery as a secret Output.

    ring = KeyRing("keys", design.keys)
    rendered = rendered_output(topology, index, public_addresses, ring.material)
    user_data = vultr_user_data(rendered, "vultr-vcpe")        # Output[str], secret
    files = boot_files(rendered, "qc-vcpe")                    # Output[dict], secret
    profiles = client_profiles(rendered)                       # export as secret
    routes = workload_route_snippets(topology, index)          # plain: export per Vultr VPC
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pulumi

from netweave.design import Design
from netweave.model.index import Index
from netweave.model.topology import Topology
from netweave.render import Rendered, cloudinit, qingcloud, render_topology
from netweave.render.material import KeyMaterial


def rendered_output(topology: Topology, index: Index,
                    public_addresses: Mapping[str, pulumi.Output[str] | str],
                    keys: pulumi.Output[KeyMaterial] | KeyMaterial | None,
                    design: Design | None = None) -> pulumi.Output[Rendered]:
    names = sorted(public_addresses)
    design = design if design is not None else Design.build(topology, index)

    def render(values: list[Any]) -> Rendered:
        material, *addresses = values
        return render_topology(topology, index, keys=material, design=design,
                               public_addresses=dict(zip(names, addresses, strict=True)))

    return pulumi.Output.secret(pulumi.Output.all(
        keys, *[public_addresses[n] for n in names]).apply(render))


def vultr_user_data(rendered: pulumi.Output[Rendered], host: str) -> pulumi.Output[str]:
    """The ``#cloud-config`` document: an Instance's ``user_data`` (secret: keys inside)."""
    return pulumi.Output.secret(rendered.apply(
        lambda r: r.hosts[host].artifacts[cloudinit.USER_DATA].decode()))


def boot_files(rendered: pulumi.Output[Rendered], host: str) -> pulumi.Output[dict[str, str]]:
    """``{absolute path: text}`` including ``/etc/rc.local`` (the QingCloud ``tar`` user data).

    Modes matter (``/etc/rc.local`` 0755, keys 0600): :func:`boot_modes` gives them.
    """
    def files(r: Rendered) -> dict[str, str]:
        out = {f.path: f.content for f in r.hosts[host].sorted_files()}
        out[qingcloud.RC_LOCAL] = qingcloud.exec_script()
        return out
    return pulumi.Output.secret(rendered.apply(files))


def host_files(rendered: pulumi.Output[Rendered], host: str) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """``{absolute path: {"content": text, "mode": int}}``: the file set a running host is
    reconfigured with in place (``HostConfig``); a secret (keys inside)."""
    return pulumi.Output.secret(rendered.apply(
        lambda r: {f.path: {"content": f.content, "mode": f.mode} for f in r.hosts[host].sorted_files()}))


def boot_modes(rendered: Rendered, host: str) -> dict[str, int]:
    modes = {f.path: f.mode for f in rendered.hosts[host].files}
    modes[qingcloud.RC_LOCAL] = 0o755
    return modes


def qingcloud_archive(rendered: pulumi.Output[Rendered], host: str) -> pulumi.Output[str]:
    """The rendered tar attachment itself, base64 (sorted, fixed mtime/owner, real modes)."""
    return pulumi.Output.secret(rendered.apply(
        lambda r: base64.b64encode(r.hosts[host].artifacts[qingcloud.ARCHIVE]).decode()))


def client_profiles(rendered: pulumi.Output[Rendered]) -> pulumi.Output[dict[str, dict[str, str]]]:
    """VPN server -> client -> profile text: export as a secret stack output."""
    return pulumi.Output.secret(rendered.apply(
        lambda r: {name: dict(sorted(h.client_profiles.items()))
                   for name, h in sorted(r.hosts.items()) if h.client_profiles}))




def site_bundles(rendered: pulumi.Output[Rendered]) -> pulumi.Output[dict[str, dict[str, str]]]:
    """Site -> its gateway's bundle (``archive``: the .tar.gz in base64, keys inside) and the
    one-line ``install`` command: export as a secret stack output."""
    def bundles(r: Rendered) -> dict[str, dict[str, str]]:
        return {name: {"archive": base64.b64encode(host.artifacts[host.manifest["delivery"]["archive"]])
                       .decode(),
                       "file": host.manifest["delivery"]["archive"],
                       "install": host.manifest["delivery"]["install"]}
                for name, host in sorted(r.hosts.items()) if host.kind == "site"}
    return pulumi.Output.secret(rendered.apply(bundles))
