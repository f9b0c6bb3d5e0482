"""Fixtures for provider tests: the emulator with tiny job durations, the providers pointed
at it through the environment (as a user would), and small builders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from netweave.providers.qingcloud import client
from netweave.providers.qingcloud.instance import InstanceProvider
from netweave.providers.qingcloud.security_group import SecurityGroupProvider
from netweave.providers.qingcloud.vpc import VpcProvider
from netweave.providers.qingcloud.vxnet import VxnetProvider
from netweave.qingcloud_emulator import Emulator, Faults
from netweave.qingcloud_emulator import server as emulator_server
from pulumi.dynamic import ResourceProvider

ZONE = "pek3a"
# The emulator answers in two writes (headers, body): with Nagle on, every call waits for
# the client's delayed ACK (~40 ms). Off in tests (reported to the emulator's owner).
emulator_server._Handler.disable_nagle_algorithm = True

FAST = {"QY_POLL_INTERVAL": "0.01", "QY_RETRY_BASE": "0.005", "QY_JOB_TIMEOUT": "5"}


def running_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The body of each test module's ``cloud`` fixture."""
    emu = Emulator(job_seconds=0.02, seed=7)
    emu.start()
    for key, value in {**emu.env(), **FAST}.items():
        monkeypatch.setenv(key, value)
    client.configure({})
    try:
        yield emu
    finally:
        emu.stop()


@dataclass(frozen=True)
class Made:
    """A created object: its id and the state the engine would keep."""

    id: str
    outs: dict[str, Any]


def make(provider: ResourceProvider, props: dict[str, Any]) -> Made:
    """check + create, as the engine does; check failures fail the test."""
    checked = provider.check({}, {"zone": ZONE, **props})
    assert not checked.failures, [(f.property, f.reason) for f in checked.failures]
    created = provider.create(checked.inputs)
    assert created.id
    return Made(str(created.id), dict(created.outs or {}))


def live(emu: Emulator, kind: str) -> list[dict[str, Any]]:
    return emu.snapshot(ZONE)[kind]


def router(name: str = "nw-t-vpc01", network: str = "192.168.0.0/16") -> Made:
    return make(VpcProvider(), {"name": name, "vpc_network": network})


def vxnet(router_id: str, network: str = "192.168.128.0/24", name: str = "nw-t-vxnet01") -> Made:
    return make(VxnetProvider(), {"name": name, "router_id": router_id, "ip_network": network})


def group(name: str = "nw-t-sg", rules: list[dict[str, Any]] | None = None) -> Made:
    return make(SecurityGroupProvider(), {"name": name, "rules": rules or []})


def instance_props(vxnet_id: str, **extra: Any) -> dict[str, Any]:
    return {"name": "nw-t-vcpe01", "image_id": "img-debian12", "instance_type": "c1m1",
            "vxnet_id": vxnet_id, "private_ip": "192.168.128.2", "login_keypair": "kp-test",
            "userdata_type": "tar", "userdata": {"/etc/netweave/boot": "v1\n"}, **extra}


def instance(vxnet_id: str, **extra: Any) -> Made:
    return make(InstanceProvider(), instance_props(vxnet_id, **extra))


def set_faults(emu: Emulator, **faults: Any) -> None:
    emu.set_faults(Faults(seed=11, **faults))
