"""The Pulumi program: the stack's topology file -> cloud resources.

Lint runs first and stops the program before a single resource is registered, so a
broken design can never be half deployed.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from modules import report
from modules.index import Index
from modules.lint import LintResult, lint_file
from modules.model import Topology

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


def main() -> None:
    topology, _index, _ = checked_topology(topology_path())
    pulumi.export("topology", topology.name or pulumi.get_stack())
