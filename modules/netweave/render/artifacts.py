"""What rendering produces: files at their absolute paths on a host, and the manifest.

Everything here is plain data so that the same render feeds three consumers: the
delivery channels (cloud-init, QingCloud user data), ``netweave render --out`` and the
emulator, which runs exactly these files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netweave.design.errors import DesignError


class RenderError(DesignError):
    """The topology cannot be rendered as asked (a refused feature, a size limit...)."""


@dataclass(frozen=True, slots=True)
class File:
    path: str  # absolute path on the host, e.g. /etc/frr/frr.conf
    content: str
    mode: int = 0o644
    secret: bool = False  # holds key material: 0600 and never printed

    @property
    def data(self) -> bytes:
        return self.content.encode()


@dataclass
class HostRender:
    """One vCPE or VPN host: its files, its boot commands and its manifest entry."""

    name: str
    kind: str  # "vcpe" | "vpn_server"
    cloud: str  # "qingcloud" | "vultr"
    files: list[File] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)  # delivery file name -> bytes
    client_profiles: dict[str, str] = field(default_factory=dict)  # VPN client -> profile

    def add(self, file: File) -> None:
        if any(f.path == file.path for f in self.files):
            raise RenderError(f"{self.name}: two rendered files for {file.path}")
        self.files.append(file)

    def file(self, path: str) -> File:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def sorted_files(self) -> list[File]:
        return sorted(self.files, key=lambda f: f.path)


@dataclass
class Rendered:
    hosts: dict[str, HostRender] = field(default_factory=dict)
    vpc_files: dict[str, dict[str, str]] = field(default_factory=dict)  # vpc -> {name: text}
    manifest: dict[str, Any] = field(default_factory=dict)
    placeholder_keys: bool = False
    placeholder_addresses: bool = False
