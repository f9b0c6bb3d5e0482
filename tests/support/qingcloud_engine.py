"""The engine's own path to our providers, without the Pulumi CLI.

``ProviderHost`` starts ``python -u -m pulumi.dynamic`` (the process ``pulumi up`` starts for
dynamic providers: the SDK's ``pulumi-resource-pulumi-python`` shim runs it unbuffered,
and the host prints its port without flushing), reads its port from stdout and speaks the
ResourceProvider gRPC protocol to it, with properties serialized by ``pulumi.runtime.rpc`` — the pickled
``__provider`` blob included, exactly as the program produced it.

``MiniEngine`` plays the engine for a whole program run: it creates resources as soon as
their dependencies exist (in parallel, like the engine), substitutes real ids for the mock
ids the program saw, keeps a state (id + outputs per URN) that survives a provider crash,
and destroys in reverse dependency order.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from netweave.providers.qingcloud import client
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.support.qingcloud_program import QC, ProgramRun, Registered

OUTPUT_IDS = ("router_id", "vxnet_id", "eip_id", "eip_addr", "security_group_id", "instance_id",
              "nic_id", "routing_table_id", "router_static_id")
ROOT = Path(__file__).resolve().parents[2]


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct))


class ProviderError(Exception):
    pass


class ProviderHost:
    """``python -m pulumi.dynamic`` as a subprocess, driven over gRPC."""

    def __init__(self, env: Mapping[str, str], config: Mapping[str, str] | None = None) -> None:
        full_env = {**os.environ, **env, "PYTHONPATH": f"{ROOT / 'modules'}{os.pathsep}{ROOT}",
                    "PULUMI_PROJECT": "netweave"}
        self.process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=ROOT,
                                        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline().decode().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.stub.Configure(provider_pb2.ConfigureRequest(args=to_struct(config or {}),
                                                          acceptSecrets=True))

    def close(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()

    def kill(self) -> None:
        """A crash: the engine loses the provider mid-call."""
        self.process.kill()

    def __enter__(self) -> ProviderHost:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request)
        except grpc.RpcError as exc:
            raise ProviderError(f"{exc.code()}: {exc.details()}") from None

    def check(self, urn: str, olds: Mapping[str, Any],
              news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answer = self._call(self.stub.Check, provider_pb2.CheckRequest(
            urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return from_struct(answer.inputs), [(f.property, f.reason) for f in answer.failures]

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any],
             news: Mapping[str, Any]) -> provider_pb2.DiffResponse:
        answer: provider_pb2.DiffResponse = self._call(self.stub.Diff, provider_pb2.DiffRequest(
            id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return answer

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        answer = self._call(self.stub.Create,
                            provider_pb2.CreateRequest(urn=urn, properties=to_struct(props)))
        return answer.id, from_struct(answer.properties)

    def read(self, urn: str, id_: str,
             props: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        answer = self._call(self.stub.Read, provider_pb2.ReadRequest(
            id=id_, urn=urn, properties=to_struct(props), inputs=to_struct(props)))
        return answer.id, from_struct(answer.properties), from_struct(answer.inputs)

    def update(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._call(self.stub.Update, provider_pb2.UpdateRequest(
            id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return from_struct(answer.properties)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        self._call(self.stub.Delete, provider_pb2.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))


@dataclass
class State:
    """What the engine's checkpoint keeps: URN -> (id, outputs); survives provider crashes."""

    resources: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    translation: dict[str, str] = field(default_factory=dict)  # mock value -> real value
    lock: threading.Lock = field(default_factory=threading.Lock)


class MiniEngine:
    """Drive a recorded program run through a ProviderHost the way ``pulumi up`` does."""

    def __init__(self, run: ProgramRun, state: State | None = None, workers: int = 8,
                 before_create: Callable[[Registered, dict[str, Any]], None] | None = None) -> None:
        self.run = run
        self.state = state or State()
        self.workers = workers
        # Called with the resource and its (translated) inputs before its first create: what
        # the world does meanwhile (e.g. the user's VMs a per-instance route push needs).
        self.before_create = before_create
        # The QingCloud resources (keys are made locally and Vultr is not emulated).
        self.custom = [r for r in run.resources if r.typ.startswith(QC)]
        urns = {r.urn for r in self.custom}
        self.deps = {r.urn: {d for d in r.dependencies if d in urns} for r in self.custom}
        self.by_urn = {r.urn: r for r in self.custom}
        self.log: list[tuple[str, str]] = []  # (operation, urn) in completion order
        self.timings: dict[str, tuple[float, float]] = {}  # urn -> (start, end), monotonic

    def translate(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.state.translation.get(value, value)
        if isinstance(value, dict):
            return {k: self.translate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v) for v in value]
        return value

    def news(self, r: Registered) -> dict[str, Any]:
        return {k: self.translate(v) for k, v in r.inputs.items()}

    def _up_one(self, host: ProviderHost | LocalHost, r: Registered) -> None:
        news = self.news(r)
        known = self.state.resources.get(r.urn)
        if known:
            id_, olds = known
            checked, failures = host.check(r.urn, olds, news)
            if failures:
                raise ProviderError(f"{r.name}: {failures}")
            diff = host.diff(r.urn, id_, olds, checked)
            if diff.changes == provider_pb2.DiffResponse.DIFF_SOME:
                if diff.replaces:
                    host.delete(r.urn, id_, olds)
                    with self.state.lock:
                        del self.state.resources[r.urn]
                    id_, outs = host.create(r.urn, checked)
                    self.log.append(("replace", r.urn))
                else:
                    outs = host.update(r.urn, id_, olds, checked)
                    self.log.append(("update", r.urn))
            else:
                outs = olds
        else:
            checked, failures = host.check(r.urn, {}, news)
            if failures:
                raise ProviderError(f"{r.name}: {failures}")
            id_, outs = host.create(r.urn, checked)
            self.log.append(("create", r.urn))
        with self.state.lock:
            self.state.resources[r.urn] = (id_, outs)
            for key in OUTPUT_IDS:
                if isinstance(r.state.get(key), str) and isinstance(outs.get(key), str):
                    self.state.translation[r.state[key]] = outs[key]
            if r.id:
                self.state.translation[r.id] = id_

    def _walk(self, order: dict[str, set[str]], work: Callable[[str], None]) -> None:
        """Run ``work`` on every URN once all of ``order[urn]`` are done, concurrently."""
        done: set[str] = set()
        running: dict[Future[None], str] = {}
        errors: list[BaseException] = []
        with ThreadPoolExecutor(self.workers) as pool:
            while len(done) < len(order) and not errors:
                for urn, needs in order.items():
                    if urn not in done and urn not in running.values() and needs <= done:
                        running[pool.submit(work, urn)] = urn
                if not running:
                    raise ProviderError("dependency cycle")
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    urn = running.pop(fut)
                    if fut.exception() is not None:
                        errors.append(fut.exception())  # type: ignore[arg-type]
                    else:
                        done.add(urn)
            wait(list(running))
        if errors:
            raise errors[0]

    def up(self, host: ProviderHost | LocalHost) -> None:
        def one(urn: str) -> None:
            r = self.by_urn[urn]
            if self.before_create is not None and urn not in self.state.resources:
                self.before_create(r, self.news(r))  # not timed: not the provider's work
            start = time.monotonic()
            self._up_one(host, self.by_urn[urn])
            self.timings[urn] = (start, time.monotonic())

        self._walk(self.deps, one)

    def destroy(self, host: ProviderHost | LocalHost) -> None:
        dependents: dict[str, set[str]] = {urn: set() for urn in self.deps}
        for urn, needs in self.deps.items():
            for need in needs:
                dependents[need].add(urn)

        def delete(urn: str) -> None:
            known = self.state.resources.get(urn)
            if known:
                host.delete(urn, known[0], known[1])
                with self.state.lock:
                    del self.state.resources[urn]
                self.log.append(("delete", urn))

        self._walk(dependents, delete)


class LocalHost:
    """The same calls as ``ProviderHost``, in this process (the bench: API calls per resource).

    Providers are unpickled from the program's own ``__provider`` blobs, as the host does.
    """

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        self.config = dict(config or {})

    def provider(self, props: Mapping[str, Any]) -> Any:
        import base64

        import dill

        provider = dill.loads(base64.b64decode(props["__provider"]))
        client.configure(self.config)
        return provider

    def check(self, urn: str, olds: Mapping[str, Any],
              news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        result = self.provider(news).check(dict(olds), dict(news))
        inputs = dict(result.inputs)
        inputs["__provider"] = news["__provider"]
        return inputs, [(f.property, f.reason) for f in result.failures]

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Any:
        result = self.provider(news).diff(id_, dict(olds), dict(news))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if result.changes
            else provider_pb2.DiffResponse.DIFF_NONE, replaces=result.replaces or [])

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        with client.counting(urn):
            result = self.provider(props).create(dict(props))
        return result.id, {**(result.outs or {}), "__provider": props["__provider"]}

    def update(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        with client.counting(urn):
            result = self.provider(news).update(id_, dict(olds), dict(news))
        return {**(result.outs or {}), "__provider": news["__provider"]}

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        with client.counting(f"delete {urn}"):
            self.provider(props).delete(id_, dict(props))
