"""Routes of Vultr workload VMs: Vultr has no route push, so they come from the
rendered cloud-init snippet of their VPC (``manifest.json`` -> ``vpcs.<vpc>.workload_routes``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml

from netweave.emulate import shell
from netweave.emulate.layout import HostLayout
from netweave.emulate.rendered import RenderOutput


def _routes(data: Any) -> list[tuple[str, str]]:
    """Every ``{to, via}`` mapping in the snippet, wherever cloud-init keeps it (netplan
    routes, a write_files netplan document, ...)."""
    found: list[tuple[str, str]] = []
    if isinstance(data, dict):
        if "to" in data and "via" in data:
            to = str(data["to"])
            found.append(("0.0.0.0/0" if to == "default" else to, str(data["via"])))
        for value in data.values():
            found += _routes(value)
    elif isinstance(data, list) and len(data) > 3 and data[:2] == ["ip", "route"]:
        argv = [str(a) for a in data]   # a cloud-init bootcmd: [ip, route, replace, DEST, via, NH]
        if "via" in argv:
            to = argv[3]
            found.append(("0.0.0.0/0" if to == "default" else to, argv[argv.index("via") + 1]))
    elif isinstance(data, list):
        for value in data:
            found += _routes(value)
    elif isinstance(data, str) and "via" in data and ("to:" in data or "routes" in data):
        with contextlib.suppress(yaml.YAMLError):
            found += _routes(yaml.safe_load(data))
    return found


def workload_routes(rendered: RenderOutput, vpc: str) -> tuple[list[tuple[str, str]], Path | None]:
    rel = rendered.vpc(vpc).get("workload_routes")
    if not rel:
        return [], None
    path = rendered.dir / rel
    text = path.read_text()
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    return [r for d in docs for r in _routes(d)], path


def apply_routes(host: HostLayout, routes: list[tuple[str, str]]) -> None:
    cmds = [f"route replace {to} via {via} dev eth0" for to, via in routes if to != "0.0.0.0/0"]
    shell.ip_batch(cmds, host.ns)
