"""In-place reconfiguration: the HostConfig provider, its SSH transport and the host's
apply script (run here against a scratch root with every system tool replaced by a
recorder, so nothing on this machine is touched)."""

from __future__ import annotations

import os
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from netweave.lint import lint_file
from netweave.providers import hostconfig, ssh
from netweave.render import render_topology
from netweave.render.material import placeholder_keys

from tests.support.fakes import fake_pem

ROOT = Path(__file__).resolve().parents[1]
S1, S2 = ROOT / "stacks" / "s1-one-to-one.yaml", ROOT / "stacks" / "s2-many-to-many.yaml"


def files_of(stack: Path, host: str) -> dict[str, dict[str, Any]]:
    linted = lint_file(str(stack))
    assert linted.topology is not None
    rendered = render_topology(linted.topology, linted.index, keys=placeholder_keys(linted.topology))
    return {f.path: {"content": f.content, "mode": f.mode} for f in rendered.hosts[host].files}


SETTINGS = ssh.SshSettings(fake_pem(),
                        attempts=3)


# --- the transport --------------------------------------------------------------------

def test_ssh_pins_the_delivered_host_key_and_never_trusts_on_first_use(tmp_path: Path) -> None:
    argv = ssh.ssh_argv(SETTINGS, "vcpe01", "203.0.113.5", tmp_path / "id", tmp_path / "kh")
    options = {argv[i + 1] for i, a in enumerate(argv) if a == "-o"}
    assert {"StrictHostKeyChecking=yes", "HostKeyAlias=netweave-vcpe01", "BatchMode=yes",
            f"UserKnownHostsFile={tmp_path / 'kh'}", "GlobalKnownHostsFile=/dev/null",
            "HostKeyAlgorithms=ssh-ed25519", "IdentitiesOnly=yes"} <= options
    assert not any("StrictHostKeyChecking=no" in a or "accept-new" in a for a in argv)
    assert argv[-2] == "root@203.0.113.5"


def test_a_non_root_login_runs_the_apply_through_sudo(tmp_path: Path) -> None:
    s = ssh.SshSettings("k", user="debian")
    argv = ssh.ssh_argv(s, "vcpe01", "203.0.113.5", tmp_path / "id", tmp_path / "kh")
    assert argv[-2] == "debian@203.0.113.5" and argv[-1].startswith("sudo -n sh -c ")


def test_settings_without_the_stack_key_say_how_to_give_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETWEAVE_SSH_PRIVATE_KEY", raising=False)
    ssh.configure({})
    with pytest.raises(ssh.SshError, match="pulumi config set --secret netweave:sshPrivateKey"):
        ssh.settings()


def test_settings_never_show_the_key() -> None:
    assert "PRIVATE" not in repr(SETTINGS) and "fake" not in repr(SETTINGS)


class FakeSsh:
    """Stands in for the ssh binary: answers with the given (exit code, stdout, stderr)."""

    def __init__(self, answers: list[tuple[int, str, str]]) -> None:
        self.answers, self.calls = answers, []  # type: list[tuple[int, str, str]], list[dict[str, Any]]

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        key = Path(argv[argv.index("-i") + 1])
        kh = Path(next(a for a in argv if a.startswith("UserKnownHostsFile=")).split("=", 1)[1])
        self.calls.append({"argv": argv, "input": kwargs["input"], "key_mode": key.stat().st_mode & 0o777,
                           "known_hosts": kh.read_text()})
        code, out, err = self.answers.pop(0)
        return subprocess.CompletedProcess(argv, code, out.encode(), err.encode())


def apply_with(monkeypatch: pytest.MonkeyPatch, answers: list[tuple[int, str, str]]
               ) -> tuple[FakeSsh, ssh.Applied | ssh.SshError]:
    fake = FakeSsh(answers)
    monkeypatch.setattr(ssh.subprocess, "run", fake)
    files = files_of(S1, "vcpe01")
    try:
        return fake, ssh.apply(SETTINGS, "vcpe01", "203.0.113.5", "ssh-ed25519 AAAAkey", files,
                               sleep=lambda _s: None)
    except ssh.SshError as exc:
        return fake, exc


def test_apply_sends_the_files_as_one_tar_with_a_private_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, done = apply_with(monkeypatch, [(0, "netweave-apply vcpe01: no change\n", "")])
    assert isinstance(done, ssh.Applied) and done.lines == ["netweave-apply vcpe01: no change"]
    (call,) = fake.calls
    assert call["key_mode"] == 0o600
    assert call["known_hosts"] == "netweave-vcpe01 ssh-ed25519 AAAAkey\n"
    with tarfile.open(fileobj=BytesIO(call["input"])) as tar:
        names = tar.getnames()
    assert "etc/netweave/apply.sh" in names and "etc/frr/frr.conf" in names


def test_apply_retries_a_connection_that_failed_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, done = apply_with(monkeypatch, [(255, "", "ssh: connect to host 203.0.113.5 port 22: "
                                           "Connection refused"), (0, "netweave-apply vcpe01: done\n", "")])
    assert isinstance(done, ssh.Applied) and done.attempts == 2 and len(fake.calls) == 2


def test_apply_gives_up_after_its_attempts_and_says_what_to_open(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = (255, "", "ssh: connect to host 203.0.113.5 port 22: Connection timed out")
    fake, done = apply_with(monkeypatch, [refused] * 3)
    assert isinstance(done, ssh.SshError) and len(fake.calls) == 3
    assert "vcpe01: could not reach 203.0.113.5 over SSH after 3 attempts" in str(done)
    assert "netweave:manageFrom" in str(done)


def test_a_failing_apply_script_is_reported_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, done = apply_with(monkeypatch, [(1, "netweave-apply vcpe01: installed /etc/frr/frr.conf\n",
                                           "netweave-apply vcpe01: FAILED during: FRR (exit 1)")])
    assert isinstance(done, ssh.SshError) and len(fake.calls) == 1
    assert "vcpe01: the apply script failed on the host (exit 1)" in str(done)
    assert "FAILED during: FRR" in str(done)


def test_a_host_presenting_another_key_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, done = apply_with(monkeypatch, [(255, "", "Host key verification failed.")])
    assert isinstance(done, ssh.SshError) and len(fake.calls) == 1
    assert "did not present the host key netweave delivered" in str(done)


# --- the provider -----------------------------------------------------------------------

def test_host_config_create_records_the_first_boot_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh, "apply", lambda *a, **k: pytest.fail("create must not connect"))
    files = files_of(S1, "vcpe01")
    made = hostconfig.HostConfigProvider().create(
        {"host": "vcpe01", "address": "203.0.113.5", "host_public_key": "ssh-ed25519 AAAA", "files": files})
    assert made.outs["how"] == "first boot (user data)"
    assert "files" not in made.outs, "state keeps digests, never the files (keys inside)"
    assert set(made.outs["file_digests"]) == set(files)


def test_host_config_diff_names_a_change_but_never_replaces() -> None:
    provider = hostconfig.HostConfigProvider()
    base = {"host": "vcpe01", "address": "203.0.113.5", "host_public_key": "ssh-ed25519 AAAA"}
    olds = provider.create({**base, "files": files_of(S1, "vcpe01")}).outs
    same = provider.diff("id", olds, {**base, "files": files_of(S1, "vcpe01")})
    assert same.changes is False
    changed = provider.diff("id", olds, {**base, "files": files_of(S2, "vcpe01")})
    assert (changed.changes, changed.replaces) == (True, [])
    assert "/etc/frr/frr.conf" in hostconfig.changed_files(olds, {"files": files_of(S2, "vcpe01")})


def test_host_config_update_is_the_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []

    def fake_apply(s: ssh.SshSettings, host: str, address: str, key: str, files: Any) -> ssh.Applied:
        seen.append((host, address))
        return ssh.Applied(host, ["netweave-apply vcpe01: done: 2 files changed"], 1)

    monkeypatch.setattr(ssh, "apply", fake_apply)
    monkeypatch.setenv("NETWEAVE_SSH_PRIVATE_KEY", "key")
    base = {"host": "vcpe01", "address": "203.0.113.5", "host_public_key": "ssh-ed25519 AAAA"}
    updated = hostconfig.HostConfigProvider().update("id", {}, {**base, "files": files_of(S2, "vcpe01")})
    assert seen == [("vcpe01", "203.0.113.5")]
    assert updated.outs["applied"] == ["netweave-apply vcpe01: done: 2 files changed"]
    assert updated.outs["how"] == "in place over SSH"


# --- the apply script, with every tool a recorder --------------------------------------

TOOLS = ("ip", "sysctl", "iptables-restore", "wg", "wg-quick", "systemctl", "dpkg-query", "apt-get",
         "chown")


@pytest.fixture
def host_root(tmp_path: Path) -> dict[str, Path]:
    """A scratch root, a stage, fake tools on PATH recording every call to calls.log."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in TOOLS:
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\n'
                          + ('echo "Status: install ok installed"\n' if tool == "dpkg-query" else "")
                          # NICs exist, tunnel interfaces do not (yet): new tunnels are brought up
                          + ('case "$*" in "link show dev wg"*) exit 1 ;; esac\n' if tool == "ip" else ""))
        script.chmod(0o755)
    hooks = tmp_path / "hooks.sh"
    hooks.write_text(f'frr_running() {{ return 0; }}\nfrr_reload() {{ echo "frr_reload $1" >> {log}; }}\n'
                     f'tunnel_up() {{ echo "tunnel_up $*" >> {log}; }}\n'
                     f'sshd_reload() {{ echo "sshd_reload" >> {log}; }}\n')
    return {"root": tmp_path / "root", "bin": bin_dir, "log": log, "hooks": hooks, "tmp": tmp_path}


def run_apply(env: dict[str, Path], files: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    stage = env["tmp"] / f"stage{len(list(env['tmp'].glob('stage*')))}"
    for path, f in files.items():
        target = stage / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f["content"])
        target.chmod(f["mode"])
    env["log"].write_text("")
    proc = subprocess.run(["/bin/sh", str(stage / "etc/netweave/apply.sh"), str(stage)],
                          capture_output=True, text=True, check=False,
                          env={"PATH": f"{env['bin']}:/usr/bin:/bin", "NETWEAVE_ROOT": str(env["root"]),
                               "NETWEAVE_HOOKS": str(env["hooks"])})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines(), env["log"].read_text().splitlines()


def test_apply_script_installs_everything_on_a_bare_host(host_root: dict[str, Path]) -> None:
    said, calls = run_apply(host_root, files_of(S1, "vcpe01"))
    want = files_of(S1, "vcpe01")["/etc/frr/frr.conf"]["content"]
    assert (host_root["root"] / "etc/frr/frr.conf").read_text() == want
    assert oct((host_root["root"] / "etc/wireguard/wg-vcpe02.conf").stat().st_mode & 0o777) == "0o600"
    assert said[-1].startswith("netweave-apply vcpe01: done: ")
    assert any(c.startswith("tunnel_up wg-quick wg-vcpe02") for c in calls)


def test_apply_script_run_twice_changes_nothing_the_second_time(host_root: dict[str, Path]) -> None:
    run_apply(host_root, files_of(S1, "vcpe01"))
    said, calls = run_apply(host_root, files_of(S1, "vcpe01"))
    assert said == ["netweave-apply vcpe01: no change"]
    assert [c for c in calls if not c.startswith("dpkg-query")] == []


def test_apply_script_s1_to_s2_reloads_frr_and_sets_up_the_new_nic(host_root: dict[str, Path]) -> None:
    run_apply(host_root, files_of(S1, "vcpe01"))
    said, calls = run_apply(host_root, files_of(S2, "vcpe01"))
    assert "ip addr replace 192.168.129.5/24 dev eth1" in calls
    assert "ip rule add from 192.168.129.5 table 101 priority 101" in calls
    assert f"frr_reload {host_root['root']}/etc/frr/frr.conf" in calls
    assert not any(c.startswith(("tunnel_up", "wg ", "iptables-restore", "systemctl")) for c in calls)
    assert ("netweave-apply vcpe01: FRR: frr-reload.py --reload applied the difference to the "
            "running daemons") in said


def test_apply_script_never_prints_a_key(host_root: dict[str, Path]) -> None:
    files = files_of(S1, "vcpe01")
    said, _ = run_apply(host_root, files)
    secret = files["/etc/ssh/netweave_host_ed25519_key"]["content"].splitlines()[1]
    assert not any(secret in line for line in said)


@pytest.mark.skipif(not os.access("/bin/sh", os.X_OK), reason="needs /bin/sh")
def test_apply_script_is_valid_posix_sh() -> None:
    for stack, host in ((S1, "vcpe01"), (S2, "vcpe01"), (S2, "vcpe02")):
        text = files_of(stack, host)["/etc/netweave/apply.sh"]["content"]
        subprocess.run(["/bin/sh", "-n"], input=text, text=True, check=True)
