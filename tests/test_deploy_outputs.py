"""The renderer inside the program: deliveries are secret Outputs with the right content."""

from __future__ import annotations

import base64
import io
import tarfile
from typing import Any

import pulumi
from netweave.deploy.keys import KeyRing
from netweave.deploy.outputs import (
    boot_files,
    client_profiles,
    qingcloud_archive,
    rendered_output,
)
from netweave.design import Design
from netweave.render import workload_route_snippets

from tests.support.render_helpers import load
from tests.support.vultr_program import Recorder


def _resolve(build: Any) -> dict[str, Any]:
    """Run ``build() -> {name: Output}`` under mocks; values and secretness per name."""
    pulumi.runtime.set_mocks(Recorder(), project="netweave", stack="s4", preview=False)
    got: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> Any:
        outputs = build()
        waits = []
        for name, out in outputs.items():
            waits.append(out.apply(lambda v, n=name: got.__setitem__(n, v)))
            waits.append(pulumi.Output.from_input(out.is_secret()).apply(
                lambda s, n=name: got.__setitem__(f"{n}:secret", s)))
        return pulumi.Output.all(*waits)

    program()
    return got


def test_client_profiles_are_a_secret_output_per_server() -> None:
    topology, index = load("s4-remote-access")
    got = _resolve(lambda: {"profiles": client_profiles(rendered_output(
        topology, index, {"vpn01": "198.18.0.9"},
        KeyRing("keys", Design.build(topology, index).keys).material))})
    assert got["profiles:secret"] is True
    assert sorted(got["profiles"]["vpn01"]) == ["alice", "bob"]
    assert "remote 198.18.0.9 1194" in got["profiles"]["vpn01"]["alice"]


def test_qingcloud_boot_files_include_rc_local_and_are_secret() -> None:
    topology, index = load("s1-one-to-one")
    addresses = {"vcpe01": "198.18.0.1", "vcpe02": "198.18.0.2"}
    got = _resolve(lambda: {"files": boot_files(rendered_output(topology, index, addresses, None),
                                                "vcpe01")})
    assert got["files:secret"] is True
    assert "/etc/rc.local" in got["files"] and "/etc/frr/frr.conf" in got["files"]
    assert "Endpoint = 198.18.0.2:51820" in got["files"]["/etc/wireguard/wg-vcpe02.conf"]


def test_qingcloud_archive_output_is_the_rendered_tar() -> None:
    topology, index = load("s1-one-to-one")
    got = _resolve(lambda: {"tar": qingcloud_archive(rendered_output(topology, index, {}, None),
                                                     "vcpe02")})
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(got["tar"]))) as tar:
        assert tar.getmember("etc/rc.local").mode == 0o755


def test_workload_route_snippets_need_no_keys_and_cover_only_vultr_vpcs() -> None:
    topology, index = load("s3-hybrid-vultr")
    assert sorted(workload_route_snippets(topology, index)) == ["vultr-vpc"]
