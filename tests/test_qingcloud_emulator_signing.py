"""Signature v1 as qingcloud-sdk 1.2.16 computes it: the emulator accepts what the real
client signs and refuses anything else with the documented codes."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
import qingcloud.conn.auth as sdk_auth
from netweave.qingcloud_emulator import Emulator
from netweave.qingcloud_emulator.signing import sign, string_to_sign
from qingcloud.iaas.connection import APIConnection

from tests.support.qc_emulator_support import ZONE, b64, ok, tar_archive


def conn_with(emu: Emulator, key: str, secret: str) -> Any:
    return APIConnection(key, secret, ZONE, host="127.0.0.1", port=emu.port, protocol="http", retry_time=1)


def test_a_request_signed_by_the_real_sdk_is_accepted(emu: Emulator) -> None:
    answer = ok(emu.connection(ZONE).describe_routers())
    assert answer["action"] == "DescribeRoutersResponse"
    assert answer["router_set"] == [] and answer["total_count"] == 0


def test_a_wrong_secret_is_refused_with_1200(emu: Emulator) -> None:
    answer = conn_with(emu, emu.access_key_id, "not-the-secret").describe_routers()
    assert answer["ret_code"] == 1200


def test_an_unknown_access_key_is_refused_with_1200(emu: Emulator) -> None:
    answer = conn_with(emu, "UNKNOWNKEY", emu.secret).describe_routers()
    assert answer["ret_code"] == 1200


def test_a_time_stamp_older_than_60_seconds_is_refused_with_1300(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 61))
    monkeypatch.setattr(sdk_auth, "get_ts", lambda: stale)
    answer = emu.connection(ZONE, retry_time=1).describe_routers()
    assert answer["ret_code"] == 1300


def test_a_time_stamp_a_few_seconds_old_is_accepted(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    recent = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30))
    monkeypatch.setattr(sdk_auth, "get_ts", lambda: recent)
    ok(emu.connection(ZONE).describe_routers())


def test_a_parameter_changed_after_signing_is_refused_with_1200(emu: Emulator) -> None:
    params = {"action": "DescribeRouters", "zone": ZONE, "access_key_id": emu.access_key_id,
              "signature_version": "1", "version": "1", "signature_method": "HmacSHA256",
              "time_stamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    signature = sign(emu.secret, "GET", "/iaas/", params)
    params["zone"] = "sh1a"
    query = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in params.items())
    url = f"{emu.endpoint}/iaas/?{query}&signature={urllib.request.quote(signature, safe='')}"
    with urllib.request.urlopen(url) as response:
        assert b'"ret_code": 1200' in response.read()


def test_the_string_to_sign_quotes_keys_and_values_like_the_sdk() -> None:
    text = string_to_sign("GET", "/iaas/", {"b": "x y/~", "a.1": "52:54:00:00:12:34"})
    assert text == "GET\n/iaas/\na.1=52%3A54%3A00%3A00%3A12%3A34&b=x%20y%2F~"


def test_upload_user_data_attachment_is_signed_as_a_post(emu: Emulator) -> None:
    answer = ok(emu.connection(ZONE).upload_userdata(attachment_content=b64(tar_archive({"etc/x": b"1"})),
                                                     attachment_name="boot.tgz"))
    assert answer["attachment_id"].startswith("uda-")


def test_an_unknown_action_is_refused_with_1101(emu: Emulator) -> None:
    answer = emu.connection(ZONE).send_request("DescribeUnicorns", {})
    assert answer["ret_code"] == 1101 and "DescribeUnicorns" in answer["message"]


def test_a_zone_outside_the_configured_ones_is_refused() -> None:
    with Emulator(zones={"pek3a"}, job_seconds=0.05) as emu:
        assert emu.connection("sh1a").describe_routers()["ret_code"] == 1100
        ok(emu.connection("pek3a").describe_routers())


def test_state_is_kept_per_zone(emu: Emulator) -> None:
    ok(emu.connection("pek3a").create_vxnets(vxnet_name="a"))
    assert emu.connection("sh1a").describe_vxnets()["total_count"] == 0
    assert emu.connection("pek3a").describe_vxnets()["total_count"] == 1
