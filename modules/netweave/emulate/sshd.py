"""The in-place path inside the lab: a real sshd in each vCPE namespace, and the lab's
answers to the apply script's systemd/apt hooks.

sshd listens on the vCPE's public (underlay) address with the host key the render
delivered (``/etc/ssh/netweave_host_ed25519_key`` of the host's rootfs) and admits the
deploying machine's key only. The apply script runs against the vCPE's rendered rootfs
(``NETWEAVE_ROOT``: a namespace has no /etc of its own) and sources ``NETWEAVE_HOOKS``:
what systemd does on a VM (start wireguard-go for a new tunnel, restart an OpenVPN
tunnel, reload FRR with the lab's vty socket and lab timers) is done the lab's way, with
every process it starts leaving a pid file the lab adopts (ended by PID at teardown).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from netweave.emulate.layout import VcpeLayout
from netweave.emulate.processes import Processes, Tracked
from netweave.emulate.vcpe import LAB_TIMERS_LABEL, Booted

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")  # sshd's privilege separation directory (openssh-server)


def deployer_key(run_dir: Path) -> tuple[str, str]:
    """A fresh Ed25519 login key for the lab's deploying machine: (private, public)."""
    from netweave.render.material import new_ssh_host_key
    key = new_ssh_host_key()
    folder = run_dir / "deployer"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "authorized_keys").write_text(key.public_key + "\n")
    return key.private_key, key.public_key


def sshd_config(plan: VcpeLayout, root: Path, run_dir: Path, hooks: Path) -> str:
    assert plan.public is not None
    return "\n".join([
        f"# netweave emulate: sshd of {plan.name} (namespace {plan.ns})",
        f"ListenAddress {plan.public.ip}",
        f"HostKey {root / 'etc/ssh/netweave_host_ed25519_key'}",
        f"PidFile {run_dir / f'sshd-{plan.name}.pid'}",
        f"AuthorizedKeysFile {run_dir / 'deployer' / 'authorized_keys'}",
        "PermitRootLogin prohibit-password", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "X11Forwarding no", "AllowTcpForwarding no",
        f"SetEnv NETWEAVE_ROOT={root} NETWEAVE_HOOKS={hooks}", ""])


def hooks_text(booted: Booted, run_dir: Path, wg_names: dict[str, str], openvpn_pids: dict[str, int],
               overrides: Path) -> str:
    """The apply script's hook functions, the lab's way (sourced by its /bin/sh)."""
    pids = run_dir / "hooks" / booted.name
    vty = booted.vty
    cases = "".join(f"    {shlex.quote(i)}) echo {shlex.quote(s)} ;;\n" for i, s in sorted(wg_names.items()))
    ovpn = "".join(f"    {shlex.quote(i)}) echo {p} ;;\n" for i, p in sorted(openvpn_pids.items()))
    return f"""# netweave emulate: the apply script's hooks for {booted.name} (no systemd, no apt here)
ensure_packages() {{ :; }}
wg_device() {{
  case "$1" in
{cases}    *) echo "$1" ;;
  esac
}}
lab_openvpn_pid() {{
  if [ -e {pids}/openvpn-$1.pid ]; then cat {pids}/openvpn-$1.pid; return; fi
  case "$1" in
{ovpn}    *) echo "" ;;
  esac
}}
tunnel_up() {{  # unit interface config: what wg-quick@ / openvpn@ would start
  mkdir -p {pids}
  case "$1" in
    wg-quick)
      sock=$(wg_device "$2")
      setsid wireguard-go -f "$sock" >> {run_dir}/wireguard-go-$sock.log 2>&1 < /dev/null &
      echo $! > {pids}/wireguard-go-$sock.pid
      n=0
      while [ ! -S /var/run/wireguard/$sock.sock ]; do
        n=$((n + 1)); [ $n -lt 100 ] || return 1; sleep 0.05
      done
      wg-quick strip "$3" > {run_dir}/secrets/$sock.conf
      wg setconf "$sock" {run_dir}/secrets/$sock.conf
      mtu=$(sed -n 's/^MTU *= *//p' "$3")
      [ -z "$mtu" ] || ip link set "$sock" mtu "$mtu"
      ip link set "$sock" name "$2"
      for a in $(sed -n 's/^Address *= *//p' "$3" | tr ',' ' '); do ip addr add "$a" dev "$2"; done
      ip link set "$2" up ;;
    *)
      setsid openvpn --config "$3" --cd "$(dirname "$3")" --disable-dco \\
        --writepid {pids}/openvpn-$2.pid --log-append {run_dir}/openvpn-{booted.name}-$2.log \\
        < /dev/null > /dev/null 2>&1 &
      n=0
      while ! ip link show dev "$2" >/dev/null 2>&1; do
        n=$((n + 1)); [ $n -lt 100 ] || return 1; sleep 0.05
      done ;;
  esac
}}
tunnel_down() {{
  case "$1" in
    wg-quick) ip link del "$2" 2>/dev/null || true ;;  # wireguard-go ends with its link
    *) pid=$(lab_openvpn_pid "$2"); [ -z "$pid" ] || kill "$pid" 2>/dev/null || true ;;
  esac
}}
tunnel_restart() {{ tunnel_down "$@"; n=0; while ip link show dev "$2" >/dev/null 2>&1; do
  n=$((n + 1)); [ $n -lt 100 ] || return 1; sleep 0.05; done; tunnel_up "$@"; }}
sysctl_apply() {{  # only net.* keys are per namespace; anything else would change this machine
  grep -E '^[[:space:]]*-?net\\.' "$1" | tr -d ' ' | sed 's/^-//' | while read -r kv; do
    sysctl -qw "$kv"
  done
}}
frr_running() {{ [ -S {vty}/bgpd.vty ] || [ -S {vty}/zebra.vty ]; }}
frr_reload() {{  # the rendered file plus the lab's BGP timers, as the lab booted it
  {{ cat "$1"; echo; echo {shlex.quote(LAB_TIMERS_LABEL)}; cat {overrides}; }} > {vty}/frr-reload.conf
  /usr/lib/frr/frr-reload.py --reload --stdout --bindir /usr/bin --confdir {vty} --rundir {vty} \\
    --vty_socket {vty} {vty}/frr-reload.conf
}}
frr_start() {{
  echo "lab: FRR is not running on {booted.name}; a vCPE that gains BGP is not rehearsed" >&2
  return 1
}}
sshd_reload() {{ :; }}  # the lab's sshd runs its own config (host key from the same rootfs)
"""


def write_hooks(booted: Booted, run_dir: Path, wg_names: dict[str, str],
                openvpn_pids: dict[str, int], overrides_text: str) -> Path:
    folder = run_dir / "hooks"
    folder.mkdir(mode=0o700, exist_ok=True)
    overrides = folder / f"{booted.name}.frr-lab-timers"
    overrides.write_text(overrides_text)
    path = folder / f"{booted.name}.sh"
    path.write_text(hooks_text(booted, run_dir, wg_names, openvpn_pids, overrides))
    return path


def start_sshd(plan: VcpeLayout, root: Path, run_dir: Path, hooks: Path, procs: Processes) -> Tracked:
    conf = run_dir / f"sshd-{plan.name}.conf"
    conf.write_text(sshd_config(plan, root, run_dir, hooks))
    os.chmod(conf, 0o600)
    return procs.start(plan.ns, [SSHD, "-D", "-e", "-f", str(conf)], f"sshd@{plan.name}",
                       run_dir / f"sshd-{plan.name}.log")


def adopt_hook_processes(booted: Booted, run_dir: Path, procs: Processes, known: set[Path]) -> None:
    """Daemons the apply script started through the hooks (new tunnels): ours, by PID."""
    folder = run_dir / "hooks" / booted.name
    for pidfile in sorted(folder.glob("*.pid")) if folder.is_dir() else []:
        if pidfile in known:
            continue
        known.add(pidfile)
        procs.adopt_pidfile(booted.ns, pidfile, f"{pidfile.stem}@{booted.name}", timeout=2.0)
