"""The HTTP side: ``GET /iaas/?...`` (and ``POST /iaas/`` for uploads) exactly as the
unmodified qingcloud-sdk sends them, plus a small control API under ``/_emulator/``.

Serves on loopback addresses only, and answers only requests meant for loopback: a
``Host`` that is not a loopback name (DNS rebinding) or an ``Origin`` that is not a
loopback origin (a web page posting to ``/_emulator/reset``) gets 403. A body needs a
valid ``Content-Length`` (missing on POST, negative, not a number or over 8 MiB: 400) and
must arrive within ``BODY_SECONDS``: nothing a client sends can make it wait forever."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import secrets
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from .actions import ACTIONS, READ_ONLY, VIEWS, Ctx, load_all, public
from .errors import BAD_FORMAT, NO_SUCH_ACTION, ApiError, bad
from .faults import Faults
from .params import Params
from .profiles import job_durations
from .signing import verify
from .store import KINDS, Record, Store

API_PATH = "/iaas/"
CONTROL_PREFIX = "/_emulator/"
MAX_BODY = 8 * 1024 * 1024
BODY_SECONDS = 10.0
LOOPBACK_NAMES = ("localhost",)
load_all()


def is_loopback_name(host: str) -> bool:
    """``127.0.0.1``, ``[::1]``, ``localhost`` (any port): the names a local client uses."""
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    if name.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a killed provider host) is not an emulator error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_loopback(host: str) -> str:
    """The emulator accepts unsigned control calls and fake credentials: never expose it."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"refusing to listen on {host!r}: the QingCloud emulator serves loopback "
                     "addresses only (127.0.0.1, ::1, localhost)")


class Emulator:
    """A local QingCloud IaaS API for tests, benchmarks and credential-free ``pulumi up``.

    >>> with Emulator(job_seconds=0.05) as emu:
    ...     conn = emu.connection("pek3a")           # the real qingcloud-sdk client
    ...     conn.create_vxnets(vxnet_name="v1")["ret_code"]
    0
    """

    def __init__(self, access_key_id: str | None = None, secret: str | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, zones: set[str] | None = None,
                 job_seconds: float = 0.2, profile: str = "fast", scale: float = 1.0,
                 job_overrides: dict[str, float] | None = None, lease_seconds: float = 0.0,
                 faults: Faults | None = None, seed: int | None = None,
                 state_file: Path | str | None = None, log: bool = False) -> None:
        self.host = check_loopback(host)
        self.requested_port = port
        self.access_key_id = access_key_id or "EMULATOR" + secrets.token_hex(6).upper()
        self.secret = secret or secrets.token_urlsafe(30)
        self.credentials = {self.access_key_id: self.secret}
        self.seed = seed
        self.faults = self._seeded(faults or Faults())
        self.log = log
        self.store = Store(seed=seed, job_duration=job_durations(profile, job_seconds, scale, job_overrides),
                           job_fails=lambda action: self.faults.job_fails(action),
                           lease_seconds=lease_seconds, zones=zones,
                           state_file=Path(state_file) if state_file else None)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> int:
        if self._httpd is not None:
            return self.port
        httpd = _Server((self.host, self.requested_port), _Handler)
        httpd.emulator = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="qingcloud-emulator", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point netweave's QingCloud providers at this emulator."""
        return {"QY_ENDPOINT": self.endpoint, "QY_ACCESS_KEY_ID": self.access_key_id,
                "QY_SECRET_ACCESS_KEY": self.secret}

    def connection(self, zone: str = "pek3a", **kwargs: Any) -> Any:
        """A real qingcloud-sdk APIConnection pointed at this emulator."""
        from qingcloud.iaas.connection import APIConnection
        return APIConnection(self.access_key_id, self.secret, zone, host=self.host, port=self.port,
                             protocol="http", **kwargs)

    # ---- test helpers ---------------------------------------------------------------------------
    def _seeded(self, faults: Faults) -> Faults:
        """Faults without a seed of their own draw from the emulator's seed."""
        if faults.seed is None and self.seed is not None:
            return dataclasses.replace(faults, seed=self.seed)
        return faults

    def set_faults(self, faults: Faults) -> None:
        self.faults = self._seeded(faults)

    def snapshot(self, zone: str | None = None) -> dict[str, list[Record]]:
        """Every live user resource by kind (the default security group left out), as
        Describe* with verbose=1 shows it; instances also show their user data digest."""
        out: dict[str, list[Record]] = {kind: [] for kind in KINDS}
        with self.store.lock:
            self.store.advance()
            for name, z in sorted(self.store.zones.items()):
                if zone is not None and name != zone:
                    continue
                for kind in KINDS:
                    for rec in z.live(kind):
                        if rec.get("_builtin"):
                            continue
                        item = VIEWS[kind](z, rec, True) if kind in VIEWS else public(rec)
                        item["zone_id"] = name
                        if kind == "instance" and rec.get("_userdata_type"):
                            item["userdata"] = {"type": rec["_userdata_type"], "size": rec["_userdata_size"],
                                                "sha256": rec["_userdata_sha256"]}
                        out[kind].append(item)
        return out

    def reset(self) -> None:
        self.store.reset()

    def wait_for_jobs(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.store.pending_jobs():
            if time.monotonic() > deadline:
                raise TimeoutError("emulator jobs still running")
            time.sleep(0.01)

    # ---- request handling -----------------------------------------------------------------------
    def handle(self, verb: str, path: str, raw: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """Answer one API call: (HTTP status, JSON body or None for an empty 500)."""
        action_name = raw.get("action", "")
        faults = self.faults
        if faults.latency and faults.applies(action_name):
            time.sleep(faults.latency)
        try:
            verify(self.credentials, verb, path, raw)
            if faults.http500(action_name):
                return 500, None
            injected = faults.api_error(action_name)
            if injected is not None:
                return 200, injected.body()
            handler = ACTIONS.get(action_name)
            if handler is None:
                # content/network/vpc/api/error_code.md: 1101 for a method that does not exist
                raise ApiError(NO_SUCH_ACTION, f"InvalidAction, action [{action_name}] is not valid")
            zone_name = raw.get("zone", "")
            if not zone_name:
                raise bad("parameter [zone] should not be empty")
            allowed = self.store.allowed_zones
            if allowed is not None and zone_name not in allowed:
                raise ApiError(BAD_FORMAT, f"InvalidParameterValue, zone [{zone_name}] is not one of "
                                           f"{sorted(allowed)}")
            with self.store.lock:
                self.store.advance()
                zone = self.store.zone(zone_name)
                body = handler(Ctx(zone=zone, p=Params(raw), now=self.store.clock()))
                if action_name not in READ_ONLY:
                    self.store.save()
        except ApiError as exc:
            return 200, exc.body()
        if faults.lose_response(action_name):
            return 500, None
        return 200, {"action": f"{action_name}Response", "ret_code": 0, **body}

    def control(self, verb: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        name = path[len(CONTROL_PREFIX):].strip("/")
        if name == "faults" and verb == "GET":
            return 200, self.faults.to_json()
        if name == "faults" and verb == "POST":
            try:
                self.set_faults(Faults.from_json(json.loads(body or b"{}")))
            except (ApiError, TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}
            return 200, self.faults.to_json()
        if name == "snapshot" and verb == "GET":
            return 200, self.snapshot()
        if name == "reset" and verb == "POST":
            self.reset()
            return 200, {"reset": True}
        return 404, {"error": f"no control endpoint {verb} {path}; use GET/POST /_emulator/faults, "
                              "GET /_emulator/snapshot, POST /_emulator/reset"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "netweave-qingcloud-emulator"
    # one write per answer and no Nagle: keep-alive calls otherwise wait out delayed ACKs
    wbufsize = -1
    disable_nagle_algorithm = True

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry signatures: never print them

    def _send(self, status: int, body: dict[str, Any] | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _check_origin(self) -> None:
        host = self.headers.get("Host")
        if not host or not is_loopback_name(host.strip()):
            raise BadRequest(403, f"Host {host!r} is not a loopback name: the emulator answers "
                                  "only requests meant for 127.0.0.1, ::1 or localhost")
        origin = self.headers.get("Origin")
        if origin is not None:
            parts = urllib.parse.urlsplit(origin)
            if parts.scheme not in ("http", "https") or not is_loopback_name(parts.netloc):
                raise BadRequest(403, f"Origin {origin!r} is not local: cross-origin requests "
                                      "(a web page calling the emulator) are refused")

    def _read_body(self, verb: str) -> bytes:
        text = self.headers.get("Content-Length")
        if text is None:
            if verb == "POST" or self.headers.get("Transfer-Encoding"):
                raise BadRequest(400, "a request body needs a Content-Length")
            return b""
        if not text.strip().isdigit():
            raise BadRequest(400, f"Content-Length {text!r} is not a byte count")
        length = int(text)
        if length > MAX_BODY:
            raise BadRequest(400, f"request body of {length} bytes is too large (at most {MAX_BODY})")
        if not length:
            return b""
        self.connection.settimeout(BODY_SECONDS)
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            raise BadRequest(400, f"the request body did not arrive within {BODY_SECONDS:g} s") from None
        finally:
            self.connection.settimeout(None)
        if len(data) != length:
            raise BadRequest(400, f"the request body ended after {len(data)} of {length} bytes")
        return data

    def _dispatch(self, verb: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        try:
            self._check_origin()
            body = self._read_body(verb)
        except BadRequest as exc:
            self.close_connection = True
            self._send(exc.status, {"error": str(exc)})
            return
        if url.path.startswith(CONTROL_PREFIX):
            self._send(*self.emulator.control(verb, url.path, body))
            return
        if url.path != API_PATH:
            self._send(404, {"ret_code": BAD_FORMAT, "message": f"no API at {url.path}; use {API_PATH}"})
            return
        text = url.query if verb == "GET" else body.decode("utf-8", "replace")
        raw = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        status, answer = self.emulator.handle(verb, API_PATH, raw)
        if self.emulator.log:
            code = answer.get("ret_code") if answer else "-"
            print(f"{verb} {raw.get('action', '?')} zone={raw.get('zone', '?')} -> {status} "
                  f"ret_code={code}", flush=True)
        self._send(status, answer)

    def _guarded(self, verb: str) -> None:
        try:
            self._dispatch(verb)
        except Exception:  # an emulator bug: an HTTP 500 the client can see, the trace on stderr
            traceback.print_exc()
            self.close_connection = True
            self._send(500, {"error": "internal error of the emulator (see its stderr)"})

    def do_GET(self) -> None:
        self._guarded("GET")

    def do_POST(self) -> None:
        self._guarded("POST")
