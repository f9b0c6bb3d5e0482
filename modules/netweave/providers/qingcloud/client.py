"""One QingCloud API client for every provider: signing by the SDK, the rest by us.

The SDK signs and sends; it does not make the cloud dependable. This module adds what the
API demands (see docs/../qingcloud-api.md): retries of transient failures (5000, 5100,
5300, HTTP errors — where the SDK returns ``None``) with exponential backoff and full
jitter; errors that name the action, ret_code and message; jobs waited for until
``status == "successful"`` (the SDK's ``wait_job`` returns True for failed jobs too);
``transition_status`` waited out before a modify or delete, and refusals because of a
transition or a lease not yet recorded waited out too (no fixed sleep: the cloud says when).

Credentials and the endpoint are read *at call time* (``settings()``): from the stack
config handed to the provider's ``configure`` (kept in this module's process-global, never
on a provider object, which dill would pickle into the state), else the environment.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from qingcloud.iaas.connection import APIConnection

DEFAULT_ENDPOINT = "https://api.qingcloud.com:443"
DEFAULT_JOB_TIMEOUT = 240.0

# Stack config keys (namespace = project "netweave") and the environment fallbacks.
CONFIG_KEYS = {
    "access_key_id": ("netweave:qingcloudAccessKeyId", "QY_ACCESS_KEY_ID"),
    "secret_access_key": ("netweave:qingcloudSecretAccessKey", "QY_SECRET_ACCESS_KEY"),
    "endpoint": ("netweave:qingcloudEndpoint", "QY_ENDPOINT"),
    "job_timeout": ("netweave:qingcloudJobTimeout", "QY_JOB_TIMEOUT"),
    "poll_interval": ("netweave:qingcloudPollInterval", "QY_POLL_INTERVAL"),
    "retry_base": ("netweave:qingcloudRetryBase", "QY_RETRY_BASE"),
    "retry_attempts": ("netweave:qingcloudRetryAttempts", "QY_RETRY_ATTEMPTS"),
}

TRANSIENT_CODES = frozenset({5000, 5100, 5300})
NOT_FOUND = 2100
GONE_STATUSES = frozenset({"deleted", "ceased", "terminated", "released"})

# Process-global: what the engine's Configure call passed (the stack config). Never pickled.
_STACK_CONFIG: dict[str, str] = {}
_CONFIG_LOCK = threading.Lock()

# API calls made by this process, per action, and per label set with ``counting`` (bench).
CALLS: Counter[str] = Counter()
CALLS_BY_LABEL: dict[str, Counter[str]] = {}
_LABEL = threading.local()


@contextmanager
def counting(label: str) -> Iterator[None]:
    """Attribute the API calls this thread makes to ``label`` (e.g. a resource URN)."""
    previous = getattr(_LABEL, "value", None)
    _LABEL.value = label
    try:
        yield
    finally:
        _LABEL.value = previous


def configure(config: Any) -> None:
    """Remember the stack's QingCloud settings for this process (from ``provider.configure``).

    ``config`` is a ``pulumi.dynamic.Config`` or a plain mapping of full keys.
    """
    found: dict[str, str] = {}
    for key, _ in CONFIG_KEYS.values():
        getter = getattr(config, "get", None)
        value = getter(key) if getter else None
        if value is not None and value != "":
            found[key] = str(value)
    with _CONFIG_LOCK:
        _STACK_CONFIG.clear()
        _STACK_CONFIG.update(found)


def _setting(name: str) -> str | None:
    config_key, env_key = CONFIG_KEYS[name]
    with _CONFIG_LOCK:
        value = _STACK_CONFIG.get(config_key)
    return value if value else os.environ.get(env_key) or None


@dataclass(frozen=True)
class Settings:
    access_key_id: str
    secret_access_key: str
    host: str
    port: int
    protocol: str
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    poll_interval: float = 2.0
    retry_base: float = 1.0
    retry_attempts: int = 20  # at 30 % transient failures, 0.3**20: never in a lifetime
    retry_cap: float = 30.0

    def __repr__(self) -> str:  # never print a secret
        return f"Settings(endpoint={self.protocol}://{self.host}:{self.port})"


class ConfigurationError(Exception):
    pass


def parse_endpoint(text: str) -> tuple[str, str, int]:
    """``http://127.0.0.1:4100`` -> ("http", "127.0.0.1", 4100); the port defaults by scheme."""
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"QingCloud endpoint {text!r} is not like https://api.qingcloud.com:443")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port


def settings() -> Settings:
    key, secret = _setting("access_key_id"), _setting("secret_access_key")
    if not key or not secret:
        raise ConfigurationError(
            "QingCloud credentials missing: set QY_ACCESS_KEY_ID and QY_SECRET_ACCESS_KEY, or "
            "`pulumi config set netweave:qingcloudAccessKeyId ...` and "
            "`pulumi config set --secret netweave:qingcloudSecretAccessKey ...`")
    protocol, host, port = parse_endpoint(_setting("endpoint") or DEFAULT_ENDPOINT)

    def number(name: str, default: float) -> float:
        raw = _setting(name)
        return float(raw) if raw else default

    return Settings(key, secret, host, port, protocol,
                    job_timeout=number("job_timeout", DEFAULT_JOB_TIMEOUT),
                    poll_interval=number("poll_interval", 2.0),
                    retry_base=number("retry_base", 1.0),
                    retry_attempts=int(number("retry_attempts", 20)))


class QingCloudError(Exception):
    """An API call that failed for good: names the action, ret_code and message."""

    def __init__(self, action: str, ret_code: int | None, message: str) -> None:
        self.action, self.ret_code, self.message = action, ret_code, message
        code = "HTTP/transport failure" if ret_code is None else f"ret_code {ret_code}"
        super().__init__(f"QingCloud {action} failed: {code}: {message}")

    @property
    def transient(self) -> bool:
        return self.ret_code is None or self.ret_code in TRANSIENT_CODES

    @property
    def not_found(self) -> bool:
        return self.ret_code == NOT_FOUND

    @property
    def busy(self) -> bool:
        """A 1400 refusal because of the object's state, not the request: a transition
        (``is [updating] now, please try later``) or a lease not recorded yet. Waited out
        (bounded by the job timeout); every other 1xxx is final."""
        text = self.message.lower()
        return self.ret_code == 1400 and ("try later" in text or "lease" in text)


class JobFailed(QingCloudError):
    pass


class Timeout(QingCloudError):
    pass


@dataclass(frozen=True)
class Kind:
    """How a kind of cloud object is described: action, id list parameter, keys."""

    describe: str
    ids_param: str
    set_key: str
    id_key: str
    name_key: str


KINDS: dict[str, Kind] = {
    "router": Kind("DescribeRouters", "routers", "router_set", "router_id", "router_name"),
    "vxnet": Kind("DescribeVxnets", "vxnets", "vxnet_set", "vxnet_id", "vxnet_name"),
    "nic": Kind("DescribeNics", "nics", "nic_set", "nic_id", "nic_name"),
    "instance": Kind("DescribeInstances", "instances", "instance_set", "instance_id", "instance_name"),
    "eip": Kind("DescribeEips", "eips", "eip_set", "eip_id", "eip_name"),
    "security_group": Kind("DescribeSecurityGroups", "security_groups", "security_group_set",
                           "security_group_id", "security_group_name"),
    "routing_table": Kind("DescribeRouteTables", "routing_tables", "routing_table_set",
                          "rtable_id", "rtable_name"),
}


class Client:
    """A zone-scoped connection; create one per provider operation (cheap, never pickled)."""

    def __init__(self, zone: str, config: Settings | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.zone = zone
        self.settings = config or settings()
        self._sleep = sleep
        s = self.settings
        # retry_time=1: the SDK must not retry behind our back; we own the policy.
        self.conn = APIConnection(s.access_key_id, s.secret_access_key, zone, host=s.host,
                                  port=s.port, protocol=s.protocol, retry_time=1,
                                  http_socket_timeout=30)

    # --- single calls ------------------------------------------------------------------

    def call_once(self, action: str, params: Mapping[str, Any] | None = None,
                  verb: str = "GET") -> dict[str, Any]:
        """One request: the answer on ret_code 0, else QingCloudError (transient or not)."""
        body: dict[str, Any] = {k: v for k, v in (params or {}).items() if v is not None}
        body["action"] = action
        body.setdefault("zone", self.zone)
        CALLS[action] += 1
        label = getattr(_LABEL, "value", None)
        if label is not None:
            CALLS_BY_LABEL.setdefault(label, Counter())[action] += 1
        try:
            response = self.conn.send(verb, "/iaas/", body)
            status = response.status
            text = response.read()
        except (OSError, ConnectionError) as exc:
            self.conn._get_conn(self.conn.host, self.conn.port)  # drop the broken socket
            raise QingCloudError(action, None, f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:  # http.client raises its own hierarchy (BadStatusLine...)
            raise QingCloudError(action, None, f"{type(exc).__name__}: {exc}") from None
        if status != 200:
            raise QingCloudError(action, None, f"HTTP {status}")
        try:
            answer = json.loads(text.decode() if isinstance(text, bytes) else text)
        except ValueError:
            raise QingCloudError(action, None, "answer is not JSON") from None
        if not isinstance(answer, dict):
            raise QingCloudError(action, None, "answer is not a JSON object")
        code = int(answer.get("ret_code", 0))
        if code != 0:
            raise QingCloudError(action, code, str(answer.get("message", "")))
        return answer

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        s = self.settings
        return random.uniform(0, min(s.retry_cap, s.retry_base * (2 ** attempt)))

    def call(self, action: str, params: Mapping[str, Any] | None = None,
             verb: str = "GET") -> dict[str, Any]:
        """A call with the retry policy: transient failures again, anything else raised."""
        answer = self._retrying(action, params, verb, adopt=None)
        assert answer is not None  # without ``adopt`` the loop only ends with an answer
        return answer

    def create(self, action: str, params: Mapping[str, Any],
               adopt: Callable[[], dict[str, Any] | None], verb: str = "GET") -> dict[str, Any] | None:
        """A create that never duplicates: look for the named object before every attempt.

        Returns the create answer, or None when an existing object was found (``adopt``
        returned it) — including one the cloud made from an attempt that answered with an
        error (an HTTP failure after the request was accepted).
        """
        return self._retrying(action, params, verb, adopt=adopt)

    def _retrying(self, action: str, params: Mapping[str, Any] | None, verb: str,
                  adopt: Callable[[], dict[str, Any] | None] | None) -> dict[str, Any] | None:
        """The one retry policy: refusals because of the object's state are waited out
        (bounded by the job timeout), transient failures retried with backoff, the rest
        raised. With ``adopt``, an object that already exists ends the loop (None)."""
        attempts = max(1, self.settings.retry_attempts)
        busy_until = time.monotonic() + self.settings.job_timeout
        attempt = 0
        while True:
            if adopt is not None and adopt() is not None:
                return None
            try:
                return self.call_once(action, params, verb)
            except QingCloudError as exc:
                if exc.busy and time.monotonic() < busy_until:
                    self._sleep(self.settings.poll_interval)
                    continue
                attempt += 1
                if not exc.transient or attempt >= attempts:
                    raise
                self._sleep(self.backoff(attempt - 1))

    # --- jobs ----------------------------------------------------------------------------

    def wait_job(self, job_id: str, action: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll DescribeJobs until the job ends; only ``successful`` is success."""
        limit = self.settings.job_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            try:
                answer = self.call("DescribeJobs", {"jobs": [job_id]})
            except QingCloudError as exc:  # polling goes on until the deadline
                if not exc.transient or time.monotonic() >= deadline:
                    raise
                answer = {}
            jobs = answer.get("job_set") or []
            if jobs:
                job = jobs[0]
                status = job.get("status")
                if status == "successful":
                    return dict(job)
                if status == "failed":
                    codes = job.get("error_codes") or ""
                    raise JobFailed(action, None, f"job {job_id} failed {codes}".strip())
            if time.monotonic() >= deadline:
                raise Timeout(action, None, f"job {job_id} not done after {limit:g} s "
                                            f"(last status {jobs[0].get('status') if jobs else 'unknown'})")
            self._sleep(self.settings.poll_interval)

    def run_job(self, action: str, params: Mapping[str, Any],
                done: Callable[[], bool] | None = None) -> dict[str, Any]:
        """A change, its job waited for. With ``done`` the change is made safe to retry (see
        ``ensure``); without, only for calls that are harmless to repeat."""
        if done is not None:
            return self.ensure(action, params, done)
        answer = self.call(action, params)
        job_id = answer.get("job_id")
        if job_id:
            self.wait_job(str(job_id), action)
        return answer

    def ensure(self, action: str, params: Mapping[str, Any], done: Callable[[], bool],
               verb: str = "GET") -> dict[str, Any]:
        """A change that must happen exactly once, although answers get lost.

        ``done()`` says from the cloud's state whether the change has happened. It is asked
        before every attempt: after a transient failure (an answer lost after the cloud
        acted, an HTTP 500, a busy 5100) the change is not repeated if it is there. When a
        repeat is refused as "in progress" (1400) after such a failure, that is our first
        attempt still running: wait for ``done()`` instead of failing.
        """
        attempts = max(1, self.settings.retry_attempts)
        busy_until = time.monotonic() + self.settings.job_timeout
        uncertain = False
        attempt = 0
        while True:
            if done():
                return {}
            try:
                answer = self.call_once(action, params, verb)
            except QingCloudError as exc:
                if uncertain and exc.not_found:
                    return {}
                if exc.busy and time.monotonic() < busy_until:
                    # a transition or lease, or (after a lost answer) our own first attempt
                    self._sleep(self.settings.poll_interval)
                    continue
                if uncertain and exc.ret_code == 1400 and self._settles(done):
                    return {}  # refused because the lost attempt did (or is doing) it
                attempt += 1
                if exc.transient and attempt < attempts:
                    uncertain = True
                    self._sleep(self.backoff(attempt - 1))
                    continue
                raise
            job_id = answer.get("job_id")
            if job_id:
                self.wait_job(str(job_id), action)
            return answer

    def _settles(self, done: Callable[[], bool]) -> bool:
        """Whether ``done()`` becomes true within the job timeout (a job we lost track of)."""
        deadline = time.monotonic() + self.settings.job_timeout
        while not done():
            if time.monotonic() >= deadline:
                return False
            self._sleep(self.settings.poll_interval)
        return True

    # --- objects -------------------------------------------------------------------------

    def describe(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist (any more)."""
        k = KINDS[kind]
        try:
            answer = self.call(k.describe, {k.ids_param: [resource_id], "verbose": 1})
        except QingCloudError as exc:
            if exc.not_found:
                return None
            raise
        for item in answer.get(k.set_key) or []:
            if item.get(k.id_key) == resource_id and item.get("status") not in GONE_STATUSES:
                return dict(item)
        return None

    def find_by_name(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Live objects with exactly this name (search_word narrows; we compare exactly)."""
        k = KINDS[kind]
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            answer = self.call(k.describe, {"search_word": name, "offset": offset, "limit": 100,
                                            "verbose": 1})
            items = answer.get(k.set_key) or []
            found += [dict(i) for i in items
                      if i.get(k.name_key) == name and i.get("status") not in GONE_STATUSES]
            total = int(answer.get("total_count", len(items)))
            offset += len(items)
            if not items or offset >= total:
                return found

    def wait_stable(self, kind: str, resource_id: str,
                    ready: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any] | None:
        """Wait out ``transition_status``; None if the object is gone.

        ``ready`` adds a condition (e.g. an instance ``running`` before AttachNics).
        """
        deadline = time.monotonic() + self.settings.job_timeout
        while True:
            try:
                item = self.describe(kind, resource_id)
            except QingCloudError as exc:  # polling goes on until the deadline
                if not exc.transient or time.monotonic() >= deadline:
                    raise
                self._sleep(self.settings.poll_interval)
                continue
            if item is None:
                return None
            busy = bool(item.get("transition_status"))
            if not busy and (ready is None or ready(item)):
                return item
            if time.monotonic() >= deadline:
                raise Timeout(f"wait for {kind} {resource_id}", None,
                              f"still {item.get('transition_status') or item.get('status')} "
                              f"after {self.settings.job_timeout:g} s")
            self._sleep(self.settings.poll_interval)

    def gone(self, kind: str, resource_id: str) -> bool:
        return self.describe(kind, resource_id) is None

    def delete(self, kind: str, resource_id: str, action: str, params: Mapping[str, Any]) -> None:
        """Delete after waiting the object out; "not found" (before or during) is done."""
        if self.wait_stable(kind, resource_id) is None:
            return
        try:
            self.ensure(action, params, lambda: self.gone(kind, resource_id))
        except QingCloudError as exc:
            if exc.not_found:
                return
            raise
