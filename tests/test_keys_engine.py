"""The key provider through the engine's own host, ``python -m pulumi.dynamic``: the
pickled ``__provider`` the program produced creates a key, and the same inputs diff to
no change (so ``pulumi up`` twice changes nothing)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
from google.protobuf import struct_pb2
from netweave.deploy.keys import WireGuardKeyPair
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.support.vultr_program import Recorder

ROOT = Path(__file__).resolve().parent.parent
URN = "urn:pulumi:s3::netweave::pulumi-python:dynamic/netweave:WireGuardKeyPair::key-t--a"


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct))


@pytest.fixture
def host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'modules'}{os.pathsep}{ROOT}", "PULUMI_PROJECT": "netweave"}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().decode().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.Configure(provider_pb2.ConfigureRequest(args=_struct({}), acceptSecrets=True))
        yield stub
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def _program_inputs() -> dict[str, Any]:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="netweave", stack="s3", preview=False)

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> Any:
        return WireGuardKeyPair("t/a").urn

    program()
    (registered,) = recorder.registered
    # The engine unwraps secrets for this host (its Configure answers acceptSecrets=False).
    return {k: v["value"] if isinstance(v, dict) and rpc._special_sig_key in v else v
            for k, v in registered.inputs.items()}


def test_key_is_created_by_the_engine_host_and_unchanged_on_the_next_run(
        host: provider_pb2_grpc.ResourceProviderStub) -> None:
    inputs = _program_inputs()
    assert "__provider" in inputs
    checked = host.Check(provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(inputs)))
    assert not checked.failures
    created = host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    outs = _plain(created.properties)
    assert len(outs["public_key"]) == 44 and len(outs["private_key"]) == 44

    again = host.Check(provider_pb2.CheckRequest(urn=URN, olds=_struct(outs), news=_struct(inputs)))
    diff = host.Diff(provider_pb2.DiffRequest(id=created.id, urn=URN, olds=created.properties,
                                              news=again.inputs))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
