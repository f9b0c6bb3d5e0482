"""Runs the Pulumi program once under mocks and prints what it declared, as JSON.

``python -m netweave.deploy.plan_worker FILE --stack NAME``. One process per plan: the Pulumi
runtime keeps global state (settings, the root stack, config), so a fresh process is
the only way two plans in one ``netweave diff`` cannot leak into each other.

Nothing here talks to a cloud: the mock monitor answers every registration with the
inputs it was given (plus a deterministic id and documentation addresses for public
IPs), and every invoke (``vultr:index/getOs:getOs``) with a plausible answer.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib
import json
import logging
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netweave.lint import LintResult

SECRET = "[secret]"
UNKNOWN_TEXT = "[unknown]"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIGS = {"c44067f5952c0a294b673a41bacd8c17": "[asset]", "0def7320c3a5731c473e5ecbe6d01bc7": "[archive]"}
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER_INPUT = "__provider"

# Invokes the program may make, answered like the cloud would (ids from Vultr's API).
_OS_IDS = {"Debian 12 x64 (bookworm)": 2136, "Ubuntu 24.04 LTS x64": 2284, "Ubuntu 22.04 LTS x64": 1743}


def documentation_address(name: str) -> str:
    """A stable public address for a mocked EIP / reserved IP (TEST-NET-3, RFC 5737)."""
    return f"203.0.113.{zlib.crc32(name.encode()) % 250 + 2}"


KEY_TYPES = ("pulumi-python:dynamic/netweave:WireGuardKeyPair", "pulumi-python:dynamic/netweave:PresharedKey",
             "pulumi-python:dynamic/netweave:OpenVpnIdentity", "pulumi-python:dynamic/netweave:SshHostKey")


def placeholder_key_outputs(kind: str, key_id: str) -> dict[str, str]:
    """What a key resource (``netweave.deploy.keys``) holds in state, as the renderer's publicly
    derivable placeholder keys: the same key id gives the same key in both plans of a
    diff, as an existing key does in a real preview; a new key id gives a new key."""
    from netweave.render import material

    raw = hashlib.sha256(material.PLACEHOLDER_SEED.encode() + b"\0" + key_id.encode() + b"\0"
                         + kind.encode()).digest()
    if kind == "wireguard":
        pair = material.wireguard_from_private(raw)
        return {"private_key": pair.private_key, "public_key": pair.public_key}
    if kind == "psk":
        return {"psk": base64.b64encode(raw).decode()}
    if kind == "ssh":
        host_key = material.ssh_host_from_private(raw)
        return {"private_key": host_key.private_key, "public_key": host_key.public_key}
    tls = material.tls_from_private(raw, key_id)
    return {"key_pem": tls.key_pem, "cert_pem": tls.cert_pem, "fingerprint": tls.fingerprint}


def plain(value: Any) -> Any:
    """A wire value (protobuf Struct as JSON) with secrets, unknowns and refs made readable."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn", "[resource]")
        if sig in _ASSET_SIGS:
            return _ASSET_SIGS[sig]
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value == _UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _contains_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(_SIG_KEY) == _SECRET_SIG or any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def secret_digests(raw: dict[str, Any], salt: bytes) -> dict[str, str]:
    """Keyed digests of inputs holding secrets: two plans of one diff (same salt) can tell
    that ``user_data`` changed without either plan showing it; the digest means nothing
    outside that diff."""
    return {k: hmac.new(salt, json.dumps(v, sort_keys=True).encode(), hashlib.sha256).hexdigest()[:16]
            for k, v in raw.items() if _contains_secret(v)}


def _parent(urn: str) -> str | None:
    return None if not urn or "::pulumi:pulumi:Stack::" in urn else urn


def _run(file: Path, stack: str, program: str = "netweave.deploy.program") -> dict[str, Any]:
    import pulumi
    from google.protobuf import json_format
    from pulumi.runtime import mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    declared: list[dict[str, Any]] = []
    salt = bytes.fromhex(os.environ.get("NETWEAVE_PLAN_SALT", "")) or os.urandom(16)

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            state = dict(args.inputs)
            state.pop(PROVIDER_INPUT, None)
            lowered = args.typ.lower()
            if lowered.endswith(("reservedip", ":eip")) or "eip" in lowered.rsplit(":", 1)[-1]:
                address = documentation_address(args.name)
                state.setdefault("subnet", address)
                state.setdefault("address", address)
                state.setdefault("eip_addr", address)
            if args.typ in KEY_TYPES and state.get("key_id") and state.get("kind"):
                state.update(placeholder_key_outputs(str(state["kind"]), str(state["key_id"])))
            if lowered.endswith(":instance"):
                state.setdefault("main_ip", documentation_address(args.name))
            return f"{args.name}-id", state

        def call(self, args: pulumi.runtime.MockCallArgs
                 ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            if args.token == "vultr:index/getOs:getOs":
                filters = args.args.get("filters") or []
                name = next((v for f in filters if f.get("name") == "name" for v in f.get("values", [])),
                            "Debian 12 x64 (bookworm)")
                return {"id": str(_OS_IDS.get(name, 2136)), "name": name, "arch": "x64",
                        "family": name.split()[0].lower(), "filters": filters}, []
            return {}, []

    class RecordingMonitor(mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            if request.type != "pulumi:pulumi:Stack":
                raw = json_format.MessageToDict(request.object)
                provider_blob = raw.pop(PROVIDER_INPUT, None)
                if isinstance(provider_blob, dict):
                    provider_blob = provider_blob.get("value")
                declared.append({
                    "urn": response.urn, "type": request.type, "name": request.name,
                    "parent": _parent(request.parent), "custom": bool(request.custom),
                    "inputs": plain(raw),
                    "secrets": secret_digests(raw, salt),
                    "dependencies": sorted(set(request.dependencies)),
                    "provider": provider_blob if isinstance(provider_blob, str) else None,
                    "ignore_changes": list(request.ignoreChanges),
                })
            return response

    logging.getLogger("pulumi").setLevel(logging.ERROR)
    pulumi.runtime.set_all_config({"netweave:topology": str(file.resolve())})
    answers = Mocks()
    mocks.set_mocks(answers, project="netweave", stack=stack, preview=True,
                    monitor=RecordingMonitor(answers))

    # imported after set_mocks, as the SDK requires
    program_main = importlib.import_module(program).main

    error: str | None = None
    try:
        _sync_await(run_pulumi_func(program_main))
    except pulumi.RunError as failed:
        error = str(failed)
    declared.sort(key=lambda r: (r["type"], r["name"]))
    return {"stack": stack, "file": str(file), "resources": declared, "error": error}


def run_linted(files: list[tuple[Path, LintResult]], stack: str,
               program: str) -> list[dict[str, Any]]:
    """Plans in a process forked from one that linted the files already (``netweave diff``,
    ``netweave plan``): the program takes those lint results instead of linting again."""
    from netweave.deploy.program import reuse_lint

    for file, linted in files:
        reuse_lint(file, linted)
    paths = [file for file, _ in files]
    return [_run(paths[0], stack, program)] if len(paths) == 1 else _forked(paths, stack, program)


def _forked(files: list[Path], stack: str, program: str) -> list[dict[str, Any]]:
    """Several plans, one child process each, forked after the heavy imports (pulumi,
    grpc, the providers, the renderer: most of a plan's CPU time) were done once here.
    Each child configures its own runtime (set_mocks, config) from scratch."""
    import pulumi  # noqa: F401  (warm the imports the children share)
    importlib.import_module(program)
    children = []
    for file in files:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one plan, its JSON down the pipe, then out
            os.close(read_end)
            try:
                data = json.dumps(_run(file, stack, program)).encode()
                code = 0
            except BaseException as exc:  # reported by the parent, like a crashed process
                data = json.dumps({"crash": f"{type(exc).__name__}: {exc}"}).encode()
                code = 1
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            os._exit(code)
        os.close(write_end)
        children.append((pid, read_end))
    results: list[dict[str, Any]] = []
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as inp:
            data = inp.read()
        os.waitpid(pid, 0)
        result = json.loads(data) if data else {"crash": "the plan process died"}
        if "crash" in result:
            raise RuntimeError(f"plan of {files[len(results)]} failed: {result['crash']}")
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m netweave.deploy.plan_worker")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE",
                   help="topology file(s): one plan each; several are planned in parallel")
    p.add_argument("--stack", required=True)
    p.add_argument("--program", default="netweave.deploy.program",
                   help="module whose main() is the Pulumi program")
    args = p.parse_args(argv)
    if len(args.files) == 1:
        results = [_run(args.files[0], args.stack, args.program)]
        json.dump(results[0], sys.stdout)
    else:
        results = _forked(args.files, args.stack, args.program)
        json.dump(results, sys.stdout)
    return 0 if all(r["error"] is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
