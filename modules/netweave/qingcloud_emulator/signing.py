"""Signature version 1, computed exactly as ``qingcloud/conn/auth.py`` of qingcloud-sdk 1.2.16
(QuerySignatureAuthHandler._calc_signature) and content/network/vpc/api/get_api/signature.md:
``VERB\\n/iaas/\\n`` + the parameters sorted by key, keys quoted with ``safe=''`` and values
with ``safe='-_~'``, joined by ``&``; HMAC-SHA256 (or SHA1) of that, base64."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Mapping

from .errors import AUTH_FAILED, EXPIRED, ApiError

MAX_AGE_SECONDS = 60
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DIGESTS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


def string_to_sign(verb: str, path: str, params: Mapping[str, str]) -> str:
    pairs = [urllib.parse.quote(key, safe="") + "=" + urllib.parse.quote(params[key], safe="-_~")
             for key in sorted(params)]
    return f"{verb}\n{path}\n" + "&".join(pairs)


def sign(secret: str, verb: str, path: str, params: Mapping[str, str]) -> str:
    """The signature of a request whose parameters (without ``signature``) are ``params``."""
    digest = _DIGESTS.get(params.get("signature_method", "HmacSHA256"), hashlib.sha256)
    mac = hmac.new(secret.encode(), string_to_sign(verb, path, params).encode(), digest)
    return base64.b64encode(mac.digest()).decode().strip()


def parse_time_stamp(value: str) -> float:
    try:
        return float(time.mktime(time.strptime(value, TIME_FORMAT)) - time.timezone)
    except ValueError as exc:
        raise ApiError(1100, f"InvalidParameterValue, time_stamp [{value}] is not "
                             f"{TIME_FORMAT}") from exc


def verify(credentials: Mapping[str, str], verb: str, path: str, params: Mapping[str, str],
           now: float | None = None) -> str:
    """Check access key, signature and age of a request; return its access_key_id."""
    # content/network/vpc/api/get_api/parameters.md: "signature_version | 签名函数的版本号，目前只支持
    # 版本号为 1" (version 2 belongs to IAM signing on /iam/, signature.md): anything else is refused
    if params.get("signature_version") != "1":
        raise ApiError(AUTH_FAILED, f"AuthFailure, signature_version [{params.get('signature_version', '')}] "
                                    "is not supported, only 1 (get_api/parameters.md)")
    key_id = params.get("access_key_id", "")
    secret = credentials.get(key_id)
    if secret is None:
        raise ApiError(AUTH_FAILED, f"AuthFailure, access key [{key_id}] does not exist")
    given = params.get("signature", "")
    unsigned = {k: v for k, v in params.items() if k != "signature"}
    if params.get("signature_method", "HmacSHA256") not in _DIGESTS:
        raise ApiError(AUTH_FAILED, "AuthFailure, unsupported signature_method")
    if not hmac.compare_digest(sign(secret, verb, path, unsigned).encode(), given.encode()):
        raise ApiError(AUTH_FAILED, "AuthFailure, signature not matched")
    sent = parse_time_stamp(params.get("time_stamp", ""))
    now = time.time() if now is None else now
    if now - sent > MAX_AGE_SECONDS:
        raise ApiError(EXPIRED, f"RequestExpired, time_stamp [{params['time_stamp']}] is older "
                                f"than {MAX_AGE_SECONDS} seconds")
    return key_id
