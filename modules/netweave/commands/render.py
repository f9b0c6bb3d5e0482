"""netweave render FILE --out DIR: the boot configuration of every vCPE and VPN host."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netweave.design import DesignError
from netweave.lint import Unusable, load_topology, report
from netweave.render import render_topology, write_rendered

HELP = "render the boot configuration of every vCPE and VPN host (placeholder keys)"
DESCRIPTION = (
    "Render FRR, WireGuard/OpenVPN, netplan, sysctl and MSS clamping for every vCPE and VPN "
    "host, with each cloud's delivery artifact (Vultr cloud-init user-data, QingCloud user "
    "data archive) and DIR/manifest.json. Keys and public addresses are clearly marked "
    "placeholders: real ones come from Pulumi state. A topology with lint errors is refused "
    "(exit 1; exit 2 when the file is unusable).")
ORDER = 30


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="topology YAML file")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")


def run(args: argparse.Namespace) -> int:
    try:
        topology, index, result = load_topology(args.file)
    except Unusable as unusable:
        print(report.text([unusable.result]), file=sys.stdout)
        return unusable.result.exit_code
    if result.exit_code != 0:
        print(report.text([result]), file=sys.stdout)
        print("render: refused, the topology has lint errors", file=sys.stderr)
        return result.exit_code
    try:
        rendered = render_topology(topology, index, design=result.design)
    except DesignError as error:  # RenderError is one
        print(f"{args.file}: render error: {error}", file=sys.stderr)
        return 1
    out = Path(args.out)
    write_rendered(rendered, out)
    for name, host in rendered.hosts.items():
        if host.kind == "site":  # the user installs it: say how
            print(f"{out / name}: site gateway, {len(host.files)} files, "
                  f"{', '.join(sorted(host.artifacts))}; install: "
                  f"{host.manifest['delivery']['install']}")
            continue
        print(f"{out / name}: {host.kind} on {host.cloud}, {len(host.files)} files, "
              f"{', '.join(sorted(host.artifacts))}")
    for vpc, files in rendered.vpc_files.items():
        for file_name in files:
            print(f"{out / vpc / file_name}: workload routes of {vpc}")
    print(f"{out / 'manifest.json'}: manifest (keys and public addresses are placeholders)")
    return 0
