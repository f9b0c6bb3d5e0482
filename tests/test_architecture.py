"""The package's shape, read from the source (AST): one meaning per class name, capability
folders without import cycles, a design layer that imports neither Pulumi nor the
renderer, and an emulator that runs without Pulumi code."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "modules" / "netweave"
# The command line is one capability: cli.py parses, commands/ runs, __main__ starts it.
SAME_CAPABILITY = {"cli": "commands", "__main__": "commands"}
PULUMI = ("pulumi", "ediri_vultr")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(tree: ast.Module) -> set[str]:
    """Every module an import names, at any depth (function-local and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _capability(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "netweave"
    return SAME_CAPABILITY.get(name, name)


def _internal(module: str) -> str | None:
    """The package module an imported name lives in (``netweave.design.Design`` ->
    ``netweave.design``), or None outside the package."""
    while module:
        if module in SOURCES:
            return module
        module = module.rpartition(".")[0]
    return None


def test_no_two_classes_share_a_name() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for module, tree in SOURCES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                homes[node.name].append(module)
    shared = {name: where for name, where in homes.items() if len(where) > 1}
    assert shared == {}


def test_capability_folders_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, tree in SOURCES.items():
        for imported in _imports(tree):
            target = _internal(imported)
            if target is not None and _capability(target) != _capability(module):
                edges[_capability(module)].add(_capability(target))
    cycles = []
    for start in sorted(edges):  # a capability that reaches itself again is in a cycle
        seen, todo = set(), list(edges[start])
        while todo:
            here = todo.pop()
            if here == start:
                cycles.append(start)
                break
            if here not in seen:
                seen.add(here)
                todo.extend(edges.get(here, ()))
    assert cycles == [], {c: sorted(edges[c]) for c in cycles}


def _closure(root: str) -> set[str]:
    """Package modules ``root`` imports, directly or through others (package ``__init__``
    modules included: importing a submodule runs them)."""
    seen: set[str] = set()
    todo = [m for m in SOURCES if m == root or m.startswith(root + ".")]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in SOURCES]
        todo += [t for t in (_internal(i) for i in _imports(SOURCES[module])) if t is not None]
    return seen


def _pulumi_importers(modules: set[str]) -> list[str]:
    return sorted(m for m in modules
                  if any(i == p or i.startswith(p + ".") for i in _imports(SOURCES[m]) for p in PULUMI))


def test_the_design_imports_only_the_model() -> None:
    reached = {_capability(m) for m in _closure("netweave.design")}
    assert reached <= {"design", "model"}, reached


@pytest.mark.parametrize("capability", ["design", "emulate", "forwarding", "lint", "graph", "render"])
def test_capability_runs_without_pulumi_code(capability: str) -> None:
    assert _pulumi_importers(_closure(f"netweave.{capability}")) == []


def test_only_the_deployment_and_the_providers_import_pulumi() -> None:
    assert {_capability(m) for m in _pulumi_importers(set(SOURCES))} <= {"deploy", "providers"}


def test_the_dynamic_providers_keep_their_module_paths() -> None:
    """Pulumi state pickles each provider by module path and class name (README: a
    compatibility promise): new providers may come, these stay where they are."""
    promised = {("base", "Provider"), ("eip", "EipProvider"), ("eip", "EipAssociationProvider"),
                ("instance", "InstanceProvider"), ("instance_routes", "InstanceRoutesProvider"),
                ("nic", "NicProvider"), ("route_table", "RouteTableRoutesProvider"),
                ("security_group", "SecurityGroupProvider"),
                ("vpc", "VpcProvider"), ("vxnet", "VxnetProvider")}
    found = {(m.rpartition(".")[2], n.name) for m, t in SOURCES.items()
             if m.startswith("netweave.providers.qingcloud.")
             for n in ast.walk(t) if isinstance(n, ast.ClassDef)}
    assert promised - found == set()
