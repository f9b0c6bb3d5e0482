"""The Pulumi program: the stack's topology file -> cloud resources.

Lint runs first and stops the program before a single resource is registered, so a
broken design can never be half deployed. Then, in this order (no cycles):

1. QingCloud VPCs (router, vxnets, route pushes) and, per vCPE, its EIP and security
   group — all independent of the boot configuration, so the engine creates them in
   parallel;
2. the Vultr side (its public addresses);
3. the boot configuration of every vCPE, rendered inside ``Output.all(...).apply`` once
   the public addresses are known (``boot_configurations``: the one seam to the renderer);
4. the vCPE instances with that configuration as QingCloud user data, their extra NICs
   and EIP associations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from modules import report
from modules.index import Index
from modules.lint import LintResult, lint_file
from modules.model import QingCloud, Topology
from modules.qingcloud.components import (
    DEFAULT_IMAGE,
    DEFAULT_INSTANCE_TYPE,
    QingCloudVcpe,
    QingCloudVpc,
    VcpeLaunch,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def topology_path(config: pulumi.Config | None = None, stack: str | None = None) -> Path:
    """``netweave:topology`` from stack config, else ``stacks/<stack name>.yaml``."""
    config = config or pulumi.Config("netweave")
    configured = config.get("topology")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else PROJECT_DIR / path
    return PROJECT_DIR / "stacks" / f"{stack or pulumi.get_stack()}.yaml"


def checked_topology(path: Path) -> tuple[Topology, Index, LintResult]:
    """Lint the topology; any error stops the deployment with the findings, no traceback."""
    result = lint_file(str(path))
    if result.exit_code != 0 or result.topology is None:
        raise pulumi.RunError(
            "netweave: the topology has errors; nothing was deployed\n"
            + report.text([result], excerpts=True))
    for warning in result.warnings:
        pulumi.log.warn(f"{warning.file}:{warning.line}:{warning.column}: {warning.code} "
                        f"{warning.rule.slug}: {warning.message}")
    return result.topology, Index.build(result.topology), result


@dataclass
class Deployment:
    """What the program declared (tests and exports read it)."""

    vpcs: dict[str, QingCloudVpc] = field(default_factory=dict)
    vcpes: dict[str, QingCloudVcpe] = field(default_factory=dict)
    public_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    vultr: Any = None


def qingcloud_zone(topology: Topology, cloud: str) -> str | None:
    spec = topology.clouds[cloud]
    return spec.zone if isinstance(spec, QingCloud) else None


def boot_configurations(topology: Topology, index: Index,
                        public_addresses: Mapping[str, pulumi.Output[str]],
                        vcpes: list[str]) -> dict[str, pulumi.Output[dict[str, str]]]:
    """vCPE -> its boot files ``{absolute path: text}``, rendered once every public address
    is known. THE seam to the renderer (``modules.render``, branch ``render``).

    Until the renderer is merged this delivers a clearly marked MINIMAL configuration
    (forwarding on, a note naming what is missing) so the delivery path is exercised.
    """
    names = sorted(public_addresses)

    def render(values: list[str]) -> dict[str, dict[str, str]]:
        addresses = dict(zip(names, values, strict=True))
        return {vcpe: minimal_boot_files(topology, vcpe, addresses) for vcpe in vcpes}

    rendered = pulumi.Output.all(*[public_addresses[n] for n in names]).apply(render)

    def pick(vcpe: str) -> pulumi.Output[dict[str, str]]:
        return rendered.apply(lambda files: files[vcpe])

    return {vcpe: pick(vcpe) for vcpe in vcpes}


def minimal_boot_files(topology: Topology, vcpe: str, addresses: Mapping[str, str]) -> dict[str, str]:
    """PLACEHOLDER boot configuration (until modules.render is merged): forwarding only."""
    peers = sorted({e.vcpe for t in topology.tunnels for e in t.ends if vcpe in {x.vcpe for x in t.ends}}
                   - {vcpe})
    note = (f"# netweave PLACEHOLDER boot configuration for {vcpe}: the rendered FRR/WireGuard\n"
            "# configuration (modules.render) is not wired in yet.\n"
            + "".join(f"# peer {p} at {addresses.get(p, 'unknown')}\n" for p in peers))
    return {"/etc/netweave/PLACEHOLDER": note,
            "/etc/sysctl.d/90-netweave.conf": "net.ipv4.ip_forward = 1\n"}


def vultr_side(topology: Topology, index: Index, deployment: Deployment) -> None:
    """The Vultr VPCs and vCPEs (``modules.vultr``, branch ``render``): not wired in yet."""
    if any(not isinstance(c, QingCloud) for c in topology.clouds.values()):
        raise pulumi.RunError("netweave: Vultr clouds are not deployable from this build yet "
                              "(modules.vultr is merged with the renderer)")


def deploy(topology: Topology, index: Index, stack: str,
           config: pulumi.Config | None = None) -> Deployment:
    config = config or pulumi.Config("netweave")
    out = Deployment()
    for name, vpc in topology.vpcs.items():
        zone = qingcloud_zone(topology, vpc.cloud)
        if zone:
            out.vpcs[name] = QingCloudVpc(name, topology=topology, index=index, stack=stack, zone=zone)
    qc_vcpes = [n for n in topology.vcpes if qingcloud_zone(topology, index.vcpe_cloud(n)[0])]
    for name in qc_vcpes:
        zone = qingcloud_zone(topology, index.vcpe_cloud(name)[0])
        assert zone is not None
        out.vcpes[name] = QingCloudVcpe(name, topology=topology, index=index, stack=stack, zone=zone)
        if out.vcpes[name].public_ip is not None:
            out.public_addresses[name] = out.vcpes[name].public_ip  # type: ignore[assignment]
    vultr_side(topology, index, out)
    boot = boot_configurations(topology, index, out.public_addresses, qc_vcpes)
    vxnet_ids = {vx: v.vxnet_id for vpc in out.vpcs.values() for vx, v in vpc.vxnets.items()}
    for name in qc_vcpes:
        out.vcpes[name].launch(VcpeLaunch(
            vxnet_ids=vxnet_ids, userdata_type="tar", userdata=boot[name],
            image_id=config.get("qingcloudImage") or DEFAULT_IMAGE,
            instance_type=config.get("qingcloudInstanceType") or DEFAULT_INSTANCE_TYPE,
            login_keypair=config.get("qingcloudLoginKeypair")))
    return out


def export(deployment: Deployment) -> None:
    pulumi.export("qingcloud", {
        "vpcs": {name: {"router_id": vpc.router.router_id,
                        "vxnets": {vx: v.vxnet_id for vx, v in vpc.vxnets.items()}}
                 for name, vpc in deployment.vpcs.items()},
        "vcpes": {name: vcpe.exports() for name, vcpe in deployment.vcpes.items()},
    })
    pulumi.export("public_addresses", deployment.public_addresses)


def main() -> None:
    topology, index, _ = checked_topology(topology_path())
    pulumi.export("topology", topology.name or pulumi.get_stack())
    export(deploy(topology, index, pulumi.get_stack()))
