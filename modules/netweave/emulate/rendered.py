"""Reading the render output (``netweave render --out DIR``) the way a booted vCPE
would see it: ``DIR/manifest.json`` says what each host runs, ``DIR/<host>/rootfs/``
holds the files at their absolute paths. The emulator runs exactly these files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class NetplanRoute:
    to: str                      # "default" normalised to 0.0.0.0/0
    via: str | None = None
    table: int | None = None
    scope: str | None = None
    metric: int | None = None

    def ip_args(self) -> str:
        args = [self.to]
        if self.via:
            args += ["via", self.via]
        if self.scope:
            args += ["scope", self.scope]
        if self.metric is not None:
            args += ["metric", str(self.metric)]
        if self.table is not None:
            args += ["table", str(self.table)]
        return " ".join(args)


@dataclass(frozen=True)
class NetplanRule:
    from_: str | None
    to: str | None
    table: int
    priority: int | None

    def ip_args(self) -> str:
        args = []
        if self.from_:
            args += ["from", self.from_]
        if self.to:
            args += ["to", self.to]
        args += ["table", str(self.table)]
        if self.priority is not None:
            args += ["priority", str(self.priority)]
        return " ".join(args)


@dataclass(frozen=True)
class NetplanInterface:
    name: str
    addresses: tuple[str, ...]
    mtu: int | None
    routes: tuple[NetplanRoute, ...]
    rules: tuple[NetplanRule, ...]
    dhcp4: bool


@dataclass(frozen=True)
class WgConfig:
    """A wg-quick file split into what ``wg setconf`` takes and what wg-quick does itself."""

    setconf: str                      # [Interface]/[Peer] keys wg(8) understands
    addresses: tuple[str, ...]
    mtu: int | None
    table: str | None
    ignored: tuple[str, ...]          # wg-quick keys the emulator does not run (PostUp, DNS...)


@dataclass
class RenderedHost:
    name: str
    root: Path                        # DIR/<name>/rootfs
    entry: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def interfaces(self) -> list[dict[str, Any]]:
        return list(self.entry.get("interfaces", []))

    @property
    def tunnels(self) -> list[dict[str, Any]]:
        return list(self.entry.get("tunnels", []))

    def netplan(self) -> dict[str, NetplanInterface]:
        found: dict[str, NetplanInterface] = {}
        for file in sorted((self.root / "etc" / "netplan").glob("*.yaml")):
            found.update(parse_netplan(file.read_text()))
        return found

    def sysctl(self) -> list[tuple[str, str]]:
        rel = self.entry.get("sysctl")
        return parse_sysctl(self.path(rel).read_text()) if rel else []

    def iptables(self) -> Path | None:
        rel = self.entry.get("iptables")
        return self.path(rel) if rel else None

    def frr_config(self) -> Path | None:
        frr = self.entry.get("frr")
        return self.path(frr["config"]) if frr and frr.get("config") else None

    def frr_lab_overrides(self) -> str:
        """The render's hook for lab BGP timers (manifest ``frr.lab_overrides``)."""
        hook = (self.entry.get("frr") or {}).get("lab_overrides")
        if not hook or not hook.get("lines"):
            return ""
        return "\n".join([hook["router"], *(f" {line}" for line in hook["lines"]), "exit", ""])

    def frr_daemons(self) -> list[str]:
        frr = self.entry.get("frr") or {}
        return list(frr.get("daemons", ["zebra", "bgpd", "staticd"]))


@dataclass
class RenderOutput:
    dir: Path
    manifest: dict[str, Any]

    @classmethod
    def load(cls, out_dir: Path) -> RenderOutput:
        return cls(out_dir, json.loads((out_dir / "manifest.json").read_text()))

    def host(self, name: str) -> RenderedHost:
        entry = self.manifest.get("hosts", {}).get(name)
        if entry is None:
            raise KeyError(f"the render output {self.dir} has no host '{name}'")
        return RenderedHost(name, self.dir / name / "rootfs", entry)

    def vpc(self, name: str) -> dict[str, Any]:
        return dict(self.manifest.get("vpcs", {}).get(name, {}))


def parse_netplan(text: str) -> dict[str, NetplanInterface]:
    data = yaml.safe_load(text) or {}
    network = data.get("network", {}) if isinstance(data, dict) else {}
    found = {}
    for name, conf in (network.get("ethernets") or {}).items():
        conf = conf or {}
        routes = []
        for route in conf.get("routes") or []:
            to = str(route.get("to"))
            routes.append(NetplanRoute("0.0.0.0/0" if to == "default" else to,
                                       str(route["via"]) if route.get("via") else None,
                                       route.get("table"), route.get("scope"), route.get("metric")))
        if conf.get("gateway4"):
            routes.append(NetplanRoute("0.0.0.0/0", str(conf["gateway4"])))
        rules = [NetplanRule(r.get("from"), r.get("to"), int(r["table"]), r.get("priority"))
                 for r in conf.get("routing-policy") or [] if r.get("table") is not None]
        found[name] = NetplanInterface(name, tuple(str(a) for a in conf.get("addresses") or []),
                                       conf.get("mtu"), tuple(routes), tuple(rules),
                                       bool(conf.get("dhcp4")))
    return found


def parse_sysctl(text: str) -> list[tuple[str, str]]:
    settings = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            settings.append((key.lstrip("-"), value))
    return settings


_WG_NATIVE = {"privatekey", "listenport", "fwmark", "publickey", "presharedkey",
              "allowedips", "endpoint", "persistentkeepalive"}


def parse_wg_quick(text: str) -> WgConfig:
    keep: list[str] = []
    addresses: list[str] = []
    mtu: int | None = None
    table: str | None = None
    ignored: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if re.match(r"^\[.*\]$", line):
            keep.append(line)
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        low = key.lower()
        if low in _WG_NATIVE:
            keep.append(f"{key} = {value}")
        elif low == "address":
            addresses += [a.strip() for a in value.split(",") if a.strip()]
        elif low == "mtu":
            mtu = int(value)
        elif low == "table":
            table = value
        else:
            ignored.append(key)
    return WgConfig("\n".join(keep) + "\n", tuple(addresses), mtu, table, tuple(ignored))
