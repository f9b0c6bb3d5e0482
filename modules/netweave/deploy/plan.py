"""``netweave plan``: every resource the Pulumi program would declare, without a cloud.

The program runs under ``pulumi.runtime.set_mocks`` in a child process
(``netweave.deploy.plan_worker``), one per plan, so two plans in one ``netweave diff`` start
from a clean runtime each. No credentials and no Pulumi CLI are needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netweave.paths import project_dir

PROJECT_DIR = project_dir()
FORMATS = ("text", "json", "markdown")
DEFAULT_PROGRAM = "netweave.deploy.program"


@dataclass(frozen=True)
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str | None  # URN
    custom: bool
    inputs: dict[str, Any]  # secrets shown as "[secret]"
    dependencies: tuple[str, ...]  # URNs
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # input -> keyed digest
    provider: str | None = field(default=None, repr=False)  # dynamic provider blob (for diffs)

    @property
    def key(self) -> str:
        """Identity across two plans: what Pulumi matches old and new state by."""
        return self.urn

    @property
    def dynamic(self) -> bool:
        return self.type.startswith("pulumi-python:dynamic")

    def as_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent,
                "custom": self.custom, "inputs": self.inputs, "dependencies": list(self.dependencies)}


@dataclass
class Plan:
    stack: str
    file: str
    resources: list[PlannedResource]
    error: str | None = None

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def name_of(self, urn: str | None) -> str | None:
        if urn is None:
            return None
        r = self.by_urn().get(urn)
        return f"{short_type(r.type)} {r.name}" if r else urn.rsplit("::", 1)[-1]

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "file": self.file, "error": self.error,
                "resources": [r.as_dict() for r in self.resources]}


class PlanError(Exception):
    pass


def short_type(token: str) -> str:
    """``pulumi-python:dynamic/qingcloud:Vxnet`` -> ``qingcloud:Vxnet``."""
    if token.startswith("pulumi-python:dynamic/"):
        return token.removeprefix("pulumi-python:dynamic/")
    if token.startswith("vultr:index/"):
        return "vultr:" + token.rsplit(":", 1)[-1]
    return token


def stack_name(file: str, topology_name: str | None = None) -> str:
    """The Pulumi stack a topology file belongs to: ``stacks/<stack>.yaml`` (the program's
    default), so the file name wins; the topology's ``name`` only for odd file names."""
    stem = Path(file).stem
    return stem if stem and stem[0].isalpha() else (topology_name or "stack")


def _worker(files: list[Path], stack: str, program: str, salt: bytes, timeout: float) -> Any:
    env = {k: v for k, v in os.environ.items()
           # the mocked run must not pick up a real engine or cloud credentials
           if not k.startswith(("PULUMI_", "QY_", "VULTR_"))}
    env["NETWEAVE_PLAN_SALT"] = salt.hex()
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-m", "netweave.deploy.plan_worker", *(str(f.resolve()) for f in files),
         "--stack", stack, "--program", program],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise PlanError(f"the Pulumi program failed under mocks (exit {proc.returncode}):\n{tail}") from None


def _plan(data: dict[str, Any], file: str | Path) -> Plan:
    resources = [PlannedResource(r["urn"], r["type"], r["name"], r["parent"], r["custom"], r["inputs"],
                                 tuple(r["dependencies"]), r.get("secrets", {}), r.get("provider"))
                 for r in data["resources"]]
    return Plan(data["stack"], str(file), resources, data.get("error"))


def run(file: str | Path, stack: str, *, program: str = DEFAULT_PROGRAM,
        timeout: float = 300, salt: bytes | None = None) -> Plan:
    """Run the program under mocks in a child process and collect what it declared."""
    return _plan(_worker([Path(file)], stack, program, salt or os.urandom(16), timeout), file)


def run_both(a: tuple[str | Path, str], b: tuple[str | Path, str], *,
             program: str = DEFAULT_PROGRAM, timeout: float = 300) -> tuple[Plan, Plan]:
    """Two plans in parallel: one worker imports the SDK and the program once, then forks a
    child per plan (the machine has two cores). Both share a salt, so their secret digests
    compare; the stack name must be the same (resources are matched by URN)."""
    if a[1] != b[1]:
        raise ValueError("both plans of a diff belong to one stack")
    salt = os.urandom(16)
    results = _worker([Path(a[0]), Path(b[0])], a[1], program, salt, timeout)
    return _plan(results[0], a[0]), _plan(results[1], b[0])


# --- output ----------------------------------------------------------------------------

def _value(v: Any, limit: int = 80) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_inputs(r: PlannedResource) -> list[tuple[str, str]]:
    return [(k, _value(v)) for k, v in sorted(r.inputs.items()) if v not in (None, [], {})]


def text(plan: Plan) -> str:
    out = [f"plan of stack {plan.stack} ({plan.file}): {len(plan.resources)} resources"]
    if plan.error:
        out.append(f"the program stopped: {plan.error}")
    for r in plan.resources:
        out.append(f"+ {short_type(r.type)} {r.name}")
        if r.parent:
            out.append(f"    parent: {plan.name_of(r.parent)}")
        for k, v in key_inputs(r):
            out.append(f"    {k}: {v}")
        deps = [plan.name_of(d) or d for d in r.dependencies]
        if deps:
            out.append(f"    depends on: {', '.join(deps)}")
    return "\n".join(out)


def markdown(plan: Plan) -> str:
    out = [f"### Plan of stack `{plan.stack}`: {len(plan.resources)} resources", ""]
    if plan.error:
        out += ["> [!CAUTION]", f"> the program stopped: {plan.error}", ""]
    out += ["| type | name | parent | key inputs | depends on |", "| --- | --- | --- | --- | --- |"]
    for r in plan.resources:
        inputs = "<br>".join(f"`{k}`: {_md(v)}" for k, v in key_inputs(r))
        deps = ", ".join(plan.name_of(d) or d for d in r.dependencies)
        parent = plan.name_of(r.parent) or ""
        out.append(f"| `{short_type(r.type)}` | {r.name} | {parent} | {inputs} | {deps} |")
    return "\n".join(out) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("<", "&lt;")


def render(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan.as_dict(), indent=2, sort_keys=True)
    if fmt == "markdown":
        return markdown(plan)
    return text(plan)


def types_of(plans: Sequence[Plan]) -> set[str]:
    return {r.type for p in plans for r in p.resources}
