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
    doc = {"write_files": files, "runcmd": [["/bin/sh", boot.SCRIPT]]}
    return f"#cloud-config\n# {host.name}: {HEADER}\n" + dump(doc)


def workload_routes(vpc: str, routes: list[dict[str, str]]) -> str:
    """bootcmd runs at every boot, after the network is up: the routes come back after a
    reboot without a network-config change on the workload."""
    return render("workload-routes.yaml.j2", vpc=vpc, routes=routes)
