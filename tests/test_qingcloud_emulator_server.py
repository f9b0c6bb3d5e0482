"""The emulator as a service: loopback only, state across restarts without secrets,
snapshots for assertions, and the `netweave qingcloud-emulator` command."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from netweave.qingcloud_emulator import Emulator
from qingcloud.iaas.connection import APIConnection

from tests.support.qc_emulator_support import ZONE, make_instance, make_router, make_vxnet, ok, started

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_a_non_loopback_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host=host)


def test_it_listens_on_127_0_0_1_on_an_ephemeral_port() -> None:
    with Emulator() as emu:
        assert emu.port > 0 and emu.endpoint == f"http://127.0.0.1:{emu.port}"
        assert emu.env()["QY_ENDPOINT"] == emu.endpoint


def test_generated_credentials_differ_between_emulators() -> None:
    assert Emulator().secret != Emulator().secret


def test_snapshot_lists_user_resources_only() -> None:
    emu = started()
    try:
        conn = emu.connection(ZONE)
        make_router(conn)
        snapshot = emu.snapshot()
        assert len(snapshot["router"]) == 1 and snapshot["security_group"] == []
    finally:
        emu.stop()


def test_reset_forgets_everything() -> None:
    with Emulator() as emu:
        ok(emu.connection(ZONE).create_vxnets(vxnet_name="v"))
        emu.reset()
        assert emu.snapshot()["vxnet"] == []


def test_state_survives_a_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "qingcloud.json"
    first = started(access_key_id="KEY", secret="s3cret", state_file=state)
    try:
        router_id = make_router(first.connection(ZONE))
    finally:
        first.stop()
    with Emulator("KEY", "s3cret", state_file=state) as second:
        router = ok(second.connection(ZONE).describe_routers(routers=[router_id]))["router_set"][0]
    assert router["status"] == "active"


def test_the_state_file_holds_no_user_data_or_credentials(tmp_path: Path) -> None:
    state = tmp_path / "qingcloud.json"
    secret_conf = b"[Interface]\nPrivateKey = cHJpdmF0ZS1rZXktbWF0ZXJpYWwtbm90LXJlYWw=\n"
    emu = started(access_key_id="KEY", secret="s3cret-value", state_file=state)
    try:
        conn = emu.connection(ZONE)
        vxnet = make_vxnet(conn, make_router(conn), "192.168.1.0/24")
        make_instance(conn, vxnet, need_userdata=1, userdata_type="plain",
                      userdata_value=base64.b64encode(secret_conf).decode())
    finally:
        emu.stop()
    text = state.read_text()
    assert "PrivateKey" not in text and base64.b64encode(secret_conf).decode() not in text
    assert "s3cret-value" not in text and "Emulator-only-1" not in text


def test_the_command_prints_endpoint_and_variables_then_serves_the_sdk(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "netweave", "qingcloud-emulator", "--port", "0",
                             "--job-seconds", "0.01", "--seed", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        env: dict[str, str] = {}
        assert proc.stdout is not None
        while "QY_SECRET_ACCESS_KEY" not in env:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no output"
            if line.strip().startswith("export "):
                key, _, value = line.strip()[len("export "):].partition("=")
                env[key] = value
        host, port = env["QY_ENDPOINT"].removeprefix("http://").rsplit(":", 1)
        conn = APIConnection(env["QY_ACCESS_KEY_ID"], env["QY_SECRET_ACCESS_KEY"], ZONE, host=host,
                             port=int(port), protocol="http", retry_time=1)
        ok(conn.describe_routers())
    finally:
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "emulator only" in err


def test_the_command_refuses_a_non_loopback_host() -> None:
    result = subprocess.run([sys.executable, "-m", "netweave", "qingcloud-emulator", "--host", "0.0.0.0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "loopback" in result.stderr


def test_the_command_on_a_port_in_use_says_so_and_how_to_pick_another(
        capsys: pytest.CaptureFixture[str]) -> None:
    from netweave.cli import main

    with Emulator() as emu:
        port = emu.port
        assert main(["qingcloud-emulator", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is already in use" in err and "--port 0" in err


# ---- what a browser or a broken client sends -------------------------------------------------
def raw_request(emu: Emulator, head: str, body: bytes = b"", timeout: float = 5.0) -> tuple[int, bytes]:
    """One request written byte for byte; (HTTP status, body)."""
    import socket

    with socket.create_connection((emu.host, emu.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        headers, _, rest = data.partition(b"\r\n\r\n")
        length = int(next((h.split(b":")[1] for h in headers.split(b"\r\n")
                           if h.lower().startswith(b"content-length")), b"0"))
        while len(rest) < length:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
    return int(headers.split(b" ")[1]), rest


def post(emu: Emulator, path: str, extra: str = "", body: bytes = b"{}", length: str | None = None) -> int:
    size = str(len(body)) if length is None else length
    head = f"POST {path} HTTP/1.1\nHost: 127.0.0.1:{emu.port}\nContent-Length: {size}\n{extra}"
    return raw_request(emu, head, body)[0]


def test_a_cross_origin_reset_is_refused_and_changes_nothing() -> None:
    with Emulator() as emu:
        ok(emu.connection(ZONE).create_vxnets(vxnet_name="v"))
        assert post(emu, "/_emulator/reset", "Origin: http://evil.example\n") == 403
        assert len(emu.snapshot()["vxnet"]) == 1
        assert post(emu, "/_emulator/reset", f"Origin: http://127.0.0.1:{emu.port}\n") == 200
        assert emu.snapshot()["vxnet"] == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "10.0.0.1", ""])
def test_a_request_for_another_host_is_refused(host: str) -> None:
    """DNS rebinding: a page's name resolving to 127.0.0.1 still carries its own Host."""
    with Emulator() as emu:
        status, _ = raw_request(emu, f"GET /_emulator/snapshot HTTP/1.1\nHost: {host}\n")
        assert status == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:4100", "[::1]:4100", "127.0.0.1:4100"])
def test_loopback_host_names_are_accepted(host: str) -> None:
    with Emulator() as emu:
        assert raw_request(emu, f"GET /_emulator/faults HTTP/1.1\nHost: {host}\n")[0] == 200


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999", ""])
def test_a_bad_content_length_is_400_at_once(length: str) -> None:
    with Emulator() as emu:
        assert post(emu, "/_emulator/faults", length=length) == 400
        assert emu.faults.latency == 0


def test_a_post_without_content_length_is_400() -> None:
    with Emulator() as emu:
        status, _ = raw_request(emu, f"POST /_emulator/reset HTTP/1.1\nHost: 127.0.0.1:{emu.port}\n")
        assert status == 400


def test_a_body_shorter_than_its_content_length_is_400_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    from netweave.qingcloud_emulator import server

    monkeypatch.setattr(server, "BODY_SECONDS", 0.2)
    with Emulator() as emu:
        assert post(emu, "/_emulator/faults", body=b"{}", length="10") == 400


@pytest.mark.parametrize("settings", [{"latency": 1e9}, {"latency": -1}, {"latency": True},
                                      {"rate": "0.5"}, {"latency": float("nan")}])
def test_unbounded_or_mistyped_fault_settings_are_refused(settings: dict[str, object]) -> None:
    import json

    with Emulator() as emu:
        assert post(emu, "/_emulator/faults", body=json.dumps(settings).encode()) == 400
        assert emu.faults.latency == 0 and emu.faults.rate == 0
