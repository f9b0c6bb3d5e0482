"""Vultr delivery: a ``#cloud-config`` document (write_files + runcmd), and the per-VPC
snippet with the routes Vultr workloads need (Vultr has no route push)."""

from __future__ import annotations

from typing import Any

import yaml

from netweave.render import boot
from netweave.render.artifacts import HostRender
from netweave.render.templating import HEADER, render

USER_DATA = "user-data"


try:  # libyaml's emitter: 10x faster than PyYAML's (a 130-vCPE stack emits 1.5 s less)
    from yaml import CSafeDumper as _Base
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import SafeDumper as _Base  # type: ignore[assignment]


class _Dumper(_Base):
    """Multi-line strings as literal blocks, so a reviewer reads configs, not escapes."""


def _str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1000)


def cloud_config(host: HostRender) -> str:
    files = [{"path": f.path, "owner": "root:root", "permissions": f"0{f.mode:o}",
              "content": f.content} for f in host.sorted_files()]
    # runcmd runs once per instance (cc_runcmd: PER_INSTANCE): it only starts the unit that
    # runs the boot script at every boot and again after a failure.
    doc = {"write_files": files, "runcmd": [["systemctl", "daemon-reload"],
                                            ["systemctl", "enable", boot.UNIT_NAME],
                                            ["systemctl", "start", "--no-block", boot.UNIT_NAME]]}
    return f"#cloud-config\n# {host.name}: {HEADER}\n" + dump(doc)


def workload_routes(vpc: str, routes: list[dict[str, Any]]) -> str:
    """bootcmd runs at every boot (cc_bootcmd: PER_ALWAYS), after cloud-init's network
    stage: the routes come back after a reboot without a network-config change."""
    pending = sorted({r["assigned_at_deploy"] for r in routes
                      if r.get("assigned_at_deploy") and str(r["next_hop"]).startswith("<")})
    return render("workload-routes.yaml.j2", vpc=vpc, routes=routes, pending=pending)
