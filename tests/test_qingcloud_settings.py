"""Credentials and endpoint: read at call time, stack config before environment, never shown."""

from __future__ import annotations

import pytest
from netweave.providers.qingcloud import client


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, env in client.CONFIG_KEYS.values():
        monkeypatch.delenv(env, raising=False)
    client.configure({})


def test_endpoint_parses_protocol_host_and_port() -> None:
    assert client.parse_endpoint("http://127.0.0.1:4100") == ("http", "127.0.0.1", 4100)
    assert client.parse_endpoint("api.qingcloud.com") == ("https", "api.qingcloud.com", 443)


def test_bad_endpoint_is_a_clear_error() -> None:
    with pytest.raises(client.ConfigurationError, match="not like https://"):
        client.parse_endpoint("ftp://x")


def test_credentials_come_from_the_environment_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_ACCESS_KEY_ID", "id-1")
    monkeypatch.setenv("QY_SECRET_ACCESS_KEY", "secret-1")
    assert client.settings().access_key_id == "id-1"
    monkeypatch.setenv("QY_ACCESS_KEY_ID", "id-2")  # a rotated key is picked up at once
    assert client.settings().access_key_id == "id-2"


def test_stack_config_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("QY_SECRET_ACCESS_KEY", "env-secret")
    client.configure({"netweave:qingcloudAccessKeyId": "cfg-id",
                      "netweave:qingcloudSecretAccessKey": "cfg-secret",
                      "netweave:qingcloudEndpoint": "http://127.0.0.1:4100"})
    s = client.settings()
    assert (s.access_key_id, s.secret_access_key, s.port) == ("cfg-id", "cfg-secret", 4100)


def test_missing_credentials_name_both_ways_to_set_them() -> None:
    with pytest.raises(client.ConfigurationError, match=r"QY_ACCESS_KEY_ID.*--secret"):
        client.settings()


def test_settings_never_show_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QY_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("QY_SECRET_ACCESS_KEY", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(client.settings())


def test_errors_name_action_code_and_message() -> None:
    err = client.QingCloudError("JoinRouter", 1400, "router is updating")
    assert str(err) == "QingCloud JoinRouter failed: ret_code 1400: router is updating"
    assert not err.transient
    assert client.QingCloudError("CreateRouters", 5100, "busy").transient
    assert client.QingCloudError("CreateRouters", None, "HTTP 500").transient
    assert not client.QingCloudError("AllocateEips", 2500, "quota").transient
