"""The Pulumi program: the stack's topology file -> cloud resources.

Lint runs first and stops the program before a single resource is registered, so a
broken design can never be half deployed. Then, in this order (no cycles):

1. QingCloud VPCs (router, vxnets, route pushes); per QingCloud vCPE / VPN server its EIP
   and security group; the keys (``KeyRing``); Vultr reserved IPs — all independent of
   the boot configuration, so the engine creates them in parallel;
2. every host's boot configuration, rendered inside ``Output.all(...).apply`` once all
   public addresses and keys are known (``netweave.deploy.outputs.rendered_output``);
3. the QingCloud instances with that configuration as QingCloud user data (the rendered
   tar attachment, ``boot_configuration``), their extra NICs and EIP associations; the
   Vultr side (VPCs, firewalls, instances with cloud-init user data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from netweave.deploy import vultr
from netweave.deploy.keys import KeyRing
from netweave.deploy.outputs import (
    client_profiles,
    host_files,
    qingcloud_archive,
    rendered_output,
    site_bundles,
    vultr_user_data,
)
from netweave.deploy.qingcloud import (
    DEFAULT_IMAGE,
    DEFAULT_INSTANCE_TYPE,
    Launch,
    QingCloudHost,
    QingCloudVcpe,
    QingCloudVpc,
    QingCloudVpnServer,
)
from netweave.design import Design
from netweave.lint import LintResult, lint_file, report
from netweave.model.index import Index
from netweave.model.topology import QingCloud, Topology
from netweave.paths import project_dir
from netweave.providers.hostconfig import HostConfig
from netweave.render import Rendered, site_addresses

PROJECT_DIR = project_dir()


def topology_path(config: pulumi.Config | None = None, stack: str | None = None) -> Path:
    """``netweave:topology`` from stack config, else ``stacks/<stack name>.yaml``."""
    config = config or pulumi.Config("netweave")
    configured = config.get("topology")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else PROJECT_DIR / path
    return PROJECT_DIR / "stacks" / f"{stack or pulumi.get_stack()}.yaml"


# Lint results of topology files, handed in by a process that linted them already and
# forked to plan them (``netweave diff``, ``netweave plan``): the program reuses them.
_linted: dict[Path, LintResult] = {}


def reuse_lint(path: Path, result: LintResult) -> None:
    """Let :func:`checked_topology` take ``result`` for ``path`` instead of linting it."""
    _linted[path.resolve()] = result


def checked_topology(path: Path) -> tuple[Topology, Index, LintResult]:
    """Lint the topology; any error stops the deployment with the findings, no traceback."""
    result = _linted.get(path.resolve()) or lint_file(str(path))
    if result.exit_code != 0 or result.topology is None:
        raise pulumi.RunError(
            "netweave: the topology has errors; nothing was deployed\n"
            + report.text([result], excerpts=True))
    for warning in result.warnings:
        pulumi.log.warn(f"{warning.file}:{warning.line}:{warning.column}: {warning.code} "
                        f"{warning.rule.slug}: {warning.message}")
    return result.topology, result.index, result


@dataclass
class Deployment:
    """What the program declared (tests and exports read it)."""

    vpcs: dict[str, QingCloudVpc] = field(default_factory=dict)
    hosts: dict[str, QingCloudHost] = field(default_factory=dict)  # QingCloud vCPEs, VPN servers
    public_addresses: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    keys: KeyRing | None = None
    rendered: pulumi.Output[Rendered] | None = None
    vultr: vultr.VultrDeployment | None = None
    host_configs: dict[str, HostConfig] = field(default_factory=dict)  # in-place reconfiguration


def qingcloud_zone(topology: Topology, cloud: str) -> str | None:
    spec = topology.clouds[cloud]
    return spec.zone if isinstance(spec, QingCloud) else None


def qingcloud_hosts(topology: Topology, index: Index) -> dict[str, tuple[str, str]]:
    """QingCloud vCPEs and VPN servers -> (kind, zone)."""
    hosts: dict[str, tuple[str, str]] = {}
    for name in topology.vcpes:
        zone = qingcloud_zone(topology, index.vcpe_cloud(name)[0])
        if zone:
            hosts[name] = ("vcpe", zone)
    for name, server in topology.vpn_servers.items():
        zone = qingcloud_zone(topology, index.cloud_of_vxnet(server.vxnet)[0])
        if zone:
            hosts[name] = ("vpn_server", zone)
    return hosts


def boot_configuration(rendered: pulumi.Output[Rendered], host: str) -> pulumi.Output[str]:
    """THE seam to the renderer: a QingCloud host's boot configuration is the rendered tar
    attachment (base64; keys inside, so a secret), delivered as ``userdata_type`` tar."""
    return qingcloud_archive(rendered, host)


def deploy(topology: Topology, index: Index, stack: str,
           config: pulumi.Config | None = None, design: Design | None = None) -> Deployment:
    config = config or pulumi.Config("netweave")
    design = design if design is not None else Design.build(topology, index)
    # netweave:qingcloudImport = {"<logical name>": "<cloud id>"}: adopt existing objects
    imports: dict[str, str] = config.get_object("qingcloudImport") or {}
    # netweave:manageFrom = ["198.51.100.7/32"]: where `pulumi up` runs; SSH is opened to it
    # so that later changes reach the hosts in place (HostConfig)
    manage_from: list[str] = [str(c) for c in config.get_object("manageFrom") or []]
    out = Deployment()
    # 1. Independent of any boot configuration: the engine creates these in parallel.
    for name, vpc in topology.vpcs.items():
        zone = qingcloud_zone(topology, vpc.cloud)
        if zone:
            out.vpcs[name] = QingCloudVpc(name, design=design, stack=stack, zone=zone,
                                          imports=imports)
    for name, (kind, zone) in qingcloud_hosts(topology, index).items():
        created: QingCloudHost
        if kind == "vcpe":
            created = QingCloudVcpe(name, design=design, stack=stack, zone=zone, imports=imports,
                                    manage_from=manage_from)
        else:
            created = QingCloudVpnServer(name, design=design, stack=stack, zone=zone, imports=imports,
                                         manage_from=manage_from)
        out.hosts[name] = created
        if created.public_ip is not None:
            out.public_addresses[name] = created.public_ip
    out.keys = KeyRing("keys", design.keys)
    vultr_hosts = vultr.declare_hosts(design, index, stack)  # their reserved IPs, at once
    out.public_addresses.update({n: ip for n, h in vultr_hosts.items()
                                 if (ip := h.public_ip) is not None})
    out.public_addresses.update({n: pulumi.Output.from_input(a)  # sites: what the file says
                                 for n, a in site_addresses(topology).items()})
    # 2. Render once every public address and key is known.
    out.rendered = rendered_output(topology, index, out.public_addresses, out.keys.material,
                                   design=design)
    # 3. The hosts, with their boot configuration.
    vxnet_ids = {vx: v.vxnet_id for vpc in out.vpcs.values() for vx, v in vpc.vxnets.items()}
    for name, host in out.hosts.items():
        host.launch(Launch(
            vxnet_ids=vxnet_ids, userdata_type="tar", userdata=boot_configuration(out.rendered, name),
            image_id=config.get("qingcloudImage") or DEFAULT_IMAGE,
            instance_type=config.get("qingcloudInstanceType") or DEFAULT_INSTANCE_TYPE,
            login_keypair=config.get("qingcloudLoginKeypair"),
            files=host_files(out.rendered, name), host_public_key=out.keys.host_keys[name]))
    if vultr.vultr_vpcs(topology, index) or vultr_hosts:
        user_data = {n: vultr_user_data(out.rendered, n) for n in vultr_hosts}
        out.vultr = vultr.build_vultr(design, index, vultr_hosts, user_data, out.public_addresses,
                                      stack=stack, manage_from=manage_from)
        for name, vultr_host in vultr_hosts.items():
            instance = out.vultr.instances[name]
            address = out.public_addresses.get(name, instance.main_ip)
            out.host_configs[name] = HostConfig(
                f"{name}-config", host=name, address=address,
                host_public_key=out.keys.host_keys[name], files=host_files(out.rendered, name),
                opts=pulumi.ResourceOptions(parent=vultr_host, depends_on=[instance]))
    out.host_configs.update({n: h.config for n, h in out.hosts.items() if h.config is not None})
    return out


def export(topology: Topology, index: Index, deployment: Deployment,
           design: Design | None = None) -> None:
    design = design if design is not None else Design.build(topology, index)
    pulumi.export("qingcloud", {
        "vpcs": {name: {"router_id": vpc.router.router_id,
                        "vxnets": {vx: v.vxnet_id for vx, v in vpc.vxnets.items()}}
                 for name, vpc in deployment.vpcs.items()},
        "hosts": {name: host.exports() for name, host in deployment.hosts.items()},
    })
    pulumi.export("public_addresses", deployment.public_addresses)
    if deployment.vultr is not None:
        pulumi.export("vultr", vultr.exports(deployment.vultr))
        # the workloads' routes name the VPC addresses Vultr assigned (internal_ip)
        pulumi.export("workload_routes", vultr.workload_routes(design, index, deployment.vultr))
    if deployment.rendered is not None and topology.vpn_servers:
        pulumi.export("vpn_client_profiles", client_profiles(deployment.rendered))
    if deployment.rendered is not None and topology.sites:
        pulumi.export("site_bundles", site_bundles(deployment.rendered))


def main() -> None:
    topology, index, result = checked_topology(topology_path())
    pulumi.export("topology", topology.name or pulumi.get_stack())
    design = result.design
    export(topology, index, deploy(topology, index, pulumi.get_stack(), design=design), design)
