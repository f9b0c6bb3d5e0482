"""HostConfig: a running host's netweave configuration, applied in place.

One per vCPE and VPN server. Its inputs are the host's rendered file set (a secret), the
address the deploying machine reaches it at, and the public half of the host key netweave
delivered in the host's user data. The first boot applies the same files from user data,
so ``create`` only records them; every later **update is the apply**: the new files go
over SSH (``netweave.providers.ssh``) and the host's apply script applies what changed
with the real tools (frr-reload.py, wg syncconf, ip, iptables-restore). The instance
itself ignores later user data changes, so a configuration change never replaces it.

State keeps a sha256 per file (which files changed is what a reviewer and the next diff
need), never a file's content. Credentials are read at call time, never pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi import dynamic

from netweave.providers import ssh
from netweave.providers.ssh import changed_files, file_digests

FIELDS = ("host", "address", "host_public_key")
PROVIDER_KEY = "__provider"


class HostConfigProvider(dynamic.ResourceProvider):
    def configure(self, req: dynamic.ConfigureRequest) -> None:
        ssh.configure(req.config)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        inputs = {k: v for k, v in news.items() if k != PROVIDER_KEY}
        failures = [dynamic.CheckFailure(k, f"{k} is required") for k in FIELDS if not inputs.get(k)]
        files = inputs.get("files")
        if isinstance(files, Mapping) and ssh.APPLY not in files:
            failures.append(dynamic.CheckFailure("files", f"the file set has no {ssh.APPLY}"))
        return dynamic.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        moved = [k for k in FIELDS if olds.get(k) != news.get(k)]
        files = changed_files(olds, news)
        # Never a replacement: a host's configuration is applied to the host it is.
        return dynamic.DiffResult(changes=bool(moved or files), replaces=[],
                                  delete_before_replace=False)

    def _outputs(self, inputs: Mapping[str, Any], applied: list[str], how: str) -> dict[str, Any]:
        return {"host": inputs["host"], "address": inputs["address"],
                "host_public_key": inputs["host_public_key"],
                "file_digests": file_digests(inputs["files"]), "applied": applied, "how": how}

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        # The instance boots with these very files (user data): nothing to send yet.
        return dynamic.CreateResult(f"hostconfig-{props['host']}",
                                    self._outputs(props, [], "first boot (user data)"))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        done = ssh.apply(ssh.settings(), str(news["host"]), str(news["address"]),
                         str(news["host_public_key"]), news["files"])
        return dynamic.UpdateResult(self._outputs(news, done.lines, "in place over SSH"))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the files stay on the host; the host goes with its instance


class HostConfig(dynamic.Resource, module="netweave", name="HostConfig"):
    """The configuration of one running host: an update re-applies it live over SSH."""

    file_digests: pulumi.Output[dict[str, str]]
    applied: pulumi.Output[list[str]]

    def __init__(self, resource_name: str, *, host: str, address: pulumi.Input[str],
                 host_public_key: pulumi.Input[str], files: pulumi.Input[dict[str, Any]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(HostConfigProvider(), resource_name, {
            "host": host, "address": address, "host_public_key": host_public_key,
            "files": pulumi.Output.secret(files), "file_digests": None, "applied": None,
            "how": None}, opts)
