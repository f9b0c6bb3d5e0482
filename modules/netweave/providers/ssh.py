"""The in-place transport: OpenSSH from the deploying machine to the host, pinned host key.

Why SSH from the deploying machine (and not a pull agent on the vCPE): ``pulumi up`` is
where a change is decided, so it is where it must succeed or fail, per host, before the
next resource depends on it; a pull agent would report back later, if at all, and would
need credentials on every vCPE. The OpenSSH client (``ssh``) is on every machine that
runs Pulumi, verifies host keys itself and honours the user's own ``~/.ssh/config``
(bastions) — nothing to reimplement.

Security:
- The host key is pinned: netweave generated it (``SshHostKey`` in state, a secret) and
  delivered it in the host's user data, so the known_hosts entry exists before the host
  first answers — ``StrictHostKeyChecking=yes``, never ``no``, never trust on first use.
- The login key is the stack's key pair, given as secret config
  (``pulumi config set --secret netweave:sshPrivateKey < ~/.ssh/id_ed25519``) and read at
  call time from the config the engine hands the provider (``configure``), kept in this
  module's process-global, never on a provider object (dill would pickle it into state).
  For the length of one call it is a 0600 file in a 0700 temporary directory, removed after.
- Nothing secret is printed: the remote apply script names files, never their content.

Retries: the connection (ssh exit 255: refused, timed out, reset) is retried with
exponential backoff; the apply script is idempotent, so a retry after a dropped
connection is safe. A failing apply script is not retried: its message is the answer.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_KEYS = {
    "private_key": ("netweave:sshPrivateKey", "NETWEAVE_SSH_PRIVATE_KEY"),
    "user": ("netweave:sshUser", "NETWEAVE_SSH_USER"),
    "port": ("netweave:sshPort", "NETWEAVE_SSH_PORT"),
    "jump": ("netweave:sshJump", "NETWEAVE_SSH_JUMP"),
    "attempts": ("netweave:sshAttempts", "NETWEAVE_SSH_ATTEMPTS"),
    "connect_timeout": ("netweave:sshConnectTimeout", "NETWEAVE_SSH_CONNECT_TIMEOUT"),
}
APPLY = "/etc/netweave/apply.sh"
# One connection: unpack the new files into a private staging directory, run the new apply
# script on them, remove the staging directory whatever happened.
REMOTE = ('set -e; umask 077; d=$(mktemp -d /tmp/netweave-apply.XXXXXX); '
          'trap \'rm -rf "$d"\' EXIT; tar -x -f - -C "$d"; '
          f'/bin/sh "$d{APPLY}" "$d"')
CONNECTION_FAILED = 255  # ssh's own exit status for "could not connect / lost the connection"
APPLY_TIMEOUT = 900.0    # one apply (apt-get of a missing package included)

_CONFIG: dict[str, str] = {}
_LOCK = threading.Lock()


class SshError(Exception):
    """An in-place apply that failed for good: names the host and what went wrong."""


def configure(config: Any) -> None:
    """Remember this stack's SSH settings (from the provider's ``configure``)."""
    found: dict[str, str] = {}
    getter = getattr(config, "get", None)
    for key, _ in CONFIG_KEYS.values():
        value = getter(key) if getter else None
        if value is not None and value != "":
            found[key] = str(value)
    with _LOCK:
        _CONFIG.clear()
        _CONFIG.update(found)


def _setting(name: str) -> str | None:
    config_key, env_key = CONFIG_KEYS[name]
    with _LOCK:
        value = _CONFIG.get(config_key)
    return value or os.environ.get(env_key) or None


@dataclass(frozen=True)
class SshSettings:
    private_key: str
    user: str = "root"
    port: int = 22
    jump: str | None = None
    attempts: int = 6
    connect_timeout: float = 10.0
    retry_base: float = 2.0
    retry_cap: float = 30.0

    def __repr__(self) -> str:  # never print the key
        return f"SshSettings(user={self.user}, port={self.port}, jump={self.jump})"


def settings() -> SshSettings:
    key = _setting("private_key")
    if not key:
        raise SshError("in-place reconfiguration needs the stack's SSH private key: "
                       "`pulumi config set --secret netweave:sshPrivateKey < ~/.ssh/id_ed25519` "
                       "(the key of the login key pair the hosts were created with)")
    return SshSettings(key if key.endswith("\n") else key + "\n", user=_setting("user") or "root",
                    port=int(_setting("port") or 22), jump=_setting("jump"),
                    attempts=int(_setting("attempts") or 6),
                    connect_timeout=float(_setting("connect_timeout") or 10))


def archive(files: Mapping[str, Mapping[str, Any]]) -> bytes:
    """``{path: {"content": text, "mode": int}}`` -> an uncompressed tar rooted at ``/``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            data = str(files[path]["content"]).encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), int(files[path]["mode"]), 0
            info.uid = info.gid = 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@dataclass(frozen=True)
class Applied:
    host: str
    lines: list[str]       # what the apply script said it did
    attempts: int


def ssh_argv(s: SshSettings, host: str, address: str, key_file: Path, known_hosts: Path) -> list[str]:
    alias = f"netweave-{host}"
    argv = ["ssh", "-i", str(key_file), "-p", str(s.port),
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", f"HostKeyAlias={alias}", "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
            "-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "UpdateHostKeys=no",
            "-o", "BatchMode=yes", "-o", f"ConnectTimeout={s.connect_timeout:g}",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6", "-o", "LogLevel=ERROR"]
    if s.jump:
        argv += ["-J", s.jump]
    remote = REMOTE if s.user == "root" else f"sudo -n sh -c {shlex.quote(REMOTE)}"
    return [*argv, f"{s.user}@{address}", remote]


def apply(s: SshSettings, host: str, address: str, host_public_key: str,
          files: Mapping[str, Mapping[str, Any]], *,
          sleep: Callable[[float], None] = time.sleep) -> Applied:
    """Upload ``files`` to ``host`` at ``address`` and run its apply script on them."""
    if APPLY not in files:
        raise SshError(f"{host}: the file set has no {APPLY}; nothing could apply it")
    body = archive(files)
    with tempfile.TemporaryDirectory(prefix="netweave-ssh-") as tmp:
        key_file, known_hosts = Path(tmp) / "id", Path(tmp) / "known_hosts"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(s.private_key)
        known_hosts.write_text(f"netweave-{host} {host_public_key.strip()}\n")
        argv = ssh_argv(s, host, address, key_file, known_hosts)
        last = ""
        for attempt in range(1, max(s.attempts, 1) + 1):
            try:
                proc = subprocess.run(argv, input=body, capture_output=True, timeout=APPLY_TIMEOUT,
                                      check=False)
            except subprocess.TimeoutExpired:
                raise SshError(f"{host}: the apply over SSH ({address}) did not finish within "
                               f"{APPLY_TIMEOUT:.0f} s") from None
            stdout = proc.stdout.decode(errors="replace")
            stderr = proc.stderr.decode(errors="replace").strip()
            if proc.returncode == 0:
                return Applied(host, [ln for ln in stdout.splitlines() if ln.strip()], attempt)
            if proc.returncode != CONNECTION_FAILED:
                said = [ln for ln in (stdout + "\n" + stderr).splitlines() if ln.strip()]
                raise SshError(f"{host}: the apply script failed on the host (exit "
                               f"{proc.returncode}): " + " | ".join(said[-8:]))
            last = stderr.splitlines()[-1] if stderr else "connection failed"
            if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION" in stderr:
                raise SshError(f"{host}: {address} did not present the host key netweave delivered "
                               "to it: refusing to send it anything (is it another machine, or a "
                               "host deployed before in-place reconfiguration existed? replace it "
                               "once: `pulumi up --replace URN`)")
            if "Permission denied" in stderr:
                raise SshError(f"{host}: {address} refused the stack's SSH key ({last}): "
                               "netweave:sshPrivateKey must match the hosts' login key pair")
            if attempt < s.attempts:
                sleep(min(s.retry_cap, s.retry_base * 2 ** (attempt - 1)))
        raise SshError(f"{host}: could not reach {address} over SSH after {s.attempts} attempts "
                       f"({last}); is tcp/22 open to this machine (netweave:manageFrom, or "
                       "netweave:sshJump through a bastion)?")


def file_digests(files: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """path -> sha256 of mode and content: what state keeps instead of the files."""
    return {path: hashlib.sha256(f"{int(f['mode']):o}\0{f['content']}".encode()).hexdigest()
            for path, f in sorted(files.items())}


def changed_files(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Paths added, removed or changed between the state (digests) and the new inputs.

    Two offline plans (``netweave diff``) hold the file set as one keyed digest each: then
    the answer is ``["files"]`` or nothing."""
    files = news.get("files")
    if not isinstance(files, Mapping):
        old = olds.get("files")
        return ["files"] if old is None or old != files else []
    before: Mapping[str, str] = olds.get("file_digests") or {}
    after = file_digests(files)
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
