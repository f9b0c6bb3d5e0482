"""``netweave plan``: every resource the Pulumi program would declare, without a cloud.

The program runs under ``pulumi.runtime.set_mocks`` in a child process, one per plan, so
two plans in one ``netweave diff`` start from a clean runtime each: forked from the
process that linted the file (it reuses that lint result), or run by
``netweave.deploy.plan_worker``. No credentials and no Pulumi CLI are needed.
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netweave.paths import project_dir

if TYPE_CHECKING:
    from netweave.lint import LintResult

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
    ignore_changes: tuple[str, ...] = ()  # the resource option: changes the engine ignores

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


class Planning:
    """Offline plans under way, one per file; :meth:`result` waits for them.

    Given every file's lint result, the plans run in a child forked from this process
    (it shares the lint results and, through them, the design: nothing is linted twice)
    while this process goes on with its own work; that child imports the SDK and the
    program once and forks one grandchild per plan. Otherwise — or when another thread
    runs here, which a fork would copy in an unknown state — one worker process
    (``netweave.deploy.plan_worker``) lints and plans them all.
    """

    def __init__(self, files: Sequence[tuple[Path, LintResult | None]], stack: str,
                 program: str, salt: bytes, timeout: float) -> None:
        self.files = [f for f, _ in files]
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.child: tuple[int, int] | None = None  # forked: pid, read end of its pipe
        self.worker: subprocess.Popen[str] | None = None
        linted = [(f, r) for f, r in files if r is not None]
        if len(linted) == len(files) and hasattr(os, "fork") and threading.active_count() == 1:
            self.child = _fork(linted, stack, program, salt)
        else:
            self.worker = _worker(self.files, stack, program, salt)

    def result(self) -> list[Plan]:
        if self.worker is not None:
            return self._worker_result(self.worker)
        assert self.child is not None
        pid, fd = self.child
        try:
            raw = _read(fd, self.deadline)
        except TimeoutError:
            raise PlanError(f"the offline plan took longer than {self.timeout:g} s") from None
        finally:
            _end(pid)
        data = json.loads(raw) if raw else {"crash": "the plan process died"}
        if isinstance(data, dict):
            raise PlanError(f"the Pulumi program failed under mocks: {data.get('crash')}")
        return [_plan(r, f) for r, f in zip(data, self.files, strict=True)]

    def _worker_result(self, worker: subprocess.Popen[str]) -> list[Plan]:
        try:
            out, err = worker.communicate(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
            raise PlanError(f"the offline plan took longer than {self.timeout:g} s") from None
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            tail = "\n".join(err.strip().splitlines()[-15:])
            raise PlanError(f"the Pulumi program failed under mocks (exit {worker.returncode}):"
                            f"\n{tail}") from None
        results = data if isinstance(data, list) else [data]
        return [_plan(r, f) for r, f in zip(results, self.files, strict=True)]


def _mocked_environment(env: dict[str, str], salt: bytes) -> dict[str, str]:
    # the mocked run must not pick up a real engine or cloud credentials
    out = {k: v for k, v in env.items() if not k.startswith(("PULUMI_", "QY_", "VULTR_"))}
    out["NETWEAVE_PLAN_SALT"] = salt.hex()
    return out


def _worker(files: list[Path], stack: str, program: str, salt: bytes) -> subprocess.Popen[str]:
    env = _mocked_environment(dict(os.environ), salt)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.Popen(
        [sys.executable, "-m", "netweave.deploy.plan_worker", *(str(f.resolve()) for f in files),
         "--stack", stack, "--program", program],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _fork(files: list[tuple[Path, LintResult]], stack: str, program: str,
          salt: bytes) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    # The child: the plans, their JSON down the pipe, then out without touching the
    # parent's buffers, handlers or files.
    code, data = 1, b""
    try:
        os.close(read_end)
        gc.freeze()  # the parent's objects stay as they are: no scan, no copied pages
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        os.chdir(PROJECT_DIR)
        mocked = _mocked_environment(dict(os.environ), salt)
        os.environ.clear()
        os.environ.update(mocked)
        from netweave.deploy.plan_worker import run_linted

        data = json.dumps(run_linted([(f.resolve(), r) for f, r in files], stack,
                                     program)).encode()
        code = 0
    except BaseException as exc:  # reported by the parent, like a crashed process
        data = json.dumps({"crash": f"{type(exc).__name__}: {exc}"}).encode()
    finally:
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(code)


def _read(fd: int, deadline: float) -> bytes:
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise TimeoutError
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
    return b"".join(chunks)


def _end(pid: int) -> None:
    """Reap a plan child of ours; one still running after its time is killed first."""
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _plan(data: dict[str, Any], file: str | Path) -> Plan:
    resources = [PlannedResource(r["urn"], r["type"], r["name"], r["parent"], r["custom"], r["inputs"],
                                 tuple(r["dependencies"]), r.get("secrets", {}), r.get("provider"),
                                 tuple(r.get("ignore_changes", ())))
                 for r in data["resources"]]
    return Plan(data["stack"], str(file), resources, data.get("error"))


def start(files: Sequence[tuple[str | Path, LintResult | None]], stack: str, *,
          program: str = DEFAULT_PROGRAM, timeout: float = 300,
          salt: bytes | None = None) -> Planning:
    """Start one plan per file (all of one stack, sharing a salt so their secret digests
    compare); pass each file's lint result when there is one, so it is not linted again."""
    return Planning([(Path(f), r) for f, r in files], stack, program,
                    salt or os.urandom(16), timeout)


def run(file: str | Path, stack: str, *, program: str = DEFAULT_PROGRAM,
        timeout: float = 300, salt: bytes | None = None,
        linted: LintResult | None = None) -> Plan:
    """Run the program under mocks in a child process and collect what it declared."""
    return start([(file, linted)], stack, program=program, timeout=timeout, salt=salt).result()[0]


def run_both(a: tuple[str | Path, str], b: tuple[str | Path, str], *,
             program: str = DEFAULT_PROGRAM, timeout: float = 300) -> tuple[Plan, Plan]:
    """Two plans in parallel: one worker imports the SDK and the program once, then forks a
    child per plan (the machine has two cores). Both share a salt, so their secret digests
    compare; the stack name must be the same (resources are matched by URN)."""
    if a[1] != b[1]:
        raise ValueError("both plans of a diff belong to one stack")
    before, after = start([(a[0], None), (b[0], None)], a[1], program=program,
                          timeout=timeout).result()
    return before, after


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
