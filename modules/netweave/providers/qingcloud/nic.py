"""NIC: ``CreateNics`` with a fixed private address, ``AttachNics`` to a running instance;
detached (``DetachNics``) before ``DeleteNics``. The NIC id is a MAC address.

AttachNics takes an instance in state running (yunify/qingcloud-docs
``content/development_docs/api/command_list/nic/attach_nics.md``); the console guide
``content/compute/vm/manual/nic.md`` shows the new NIC usable at once with no reboot, which
is what day-2 changes rely on to add a NIC to a running vCPE (README: the reboot is implied
by that example, not stated)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netaddr
import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client


def running(item: Mapping[str, Any]) -> bool:
    return item.get("status") == "running"


class NicProvider(Provider):
    kind = "nic"
    fields = ("zone", "name", "vxnet_id", "private_ip", "instance_id")
    required = ("zone", "name", "vxnet_id", "private_ip")
    replace_on = frozenset({"zone", "vxnet_id", "private_ip"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        ip = inputs.get("private_ip")
        if ip:
            try:
                netaddr.IPAddress(str(ip), flags=netaddr.INET_PTON)
            except (netaddr.AddrFormatError, ValueError):
                return [("private_ip", f"private_ip {ip!r} is not an IPv4 address like 192.168.129.5")]
        return []

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["nics"][0]["nic_id"])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        nic_id, _ = self.create_or_adopt(c, inputs["name"], "CreateNics", {
            "vxnet": inputs["vxnet_id"], "nic_name": inputs["name"], "count": 1,
            "private_ips": [inputs["private_ip"]]})
        if inputs.get("instance_id"):
            self.attach(c, nic_id, str(inputs["instance_id"]))
        return nic_id

    def attach(self, c: Client, nic_id: str, instance_id: str) -> None:
        item = c.wait_stable(self.kind, nic_id) or {}
        if item.get("instance_id") == instance_id:
            return
        if item.get("instance_id"):
            self.detach(c, nic_id)
        c.wait_stable("instance", instance_id, ready=running)
        c.run_job("AttachNics", {"nics": [nic_id], "instance": instance_id},
                  done=lambda: (c.describe(self.kind, nic_id) or {}).get("instance_id") == instance_id)

    def detach(self, c: Client, nic_id: str) -> None:
        c.run_job("DetachNics", {"nics": [nic_id]},
                  done=lambda: not (c.describe(self.kind, nic_id) or {}).get("instance_id"))
        c.wait_stable(self.kind, nic_id, ready=lambda n: not n.get("instance_id"))

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"nic_id": item.get("nic_id"), "attached_instance_id": item.get("instance_id") or None,
                "status": item.get("status")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("nic_name"), "vxnet_id": item.get("vxnet_id"),
                "private_ip": item.get("private_ip"), "instance_id": item.get("instance_id") or None}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if "name" in changed:
            c.call("ModifyNicAttributes", {"nic": id_, "nic_name": inputs["name"]})
        if "instance_id" in changed:
            if inputs.get("instance_id"):
                self.attach(c, id_, str(inputs["instance_id"]))
            elif (c.describe(self.kind, id_) or {}).get("instance_id"):
                self.detach(c, id_)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        item = c.wait_stable(self.kind, id_)
        if item is None:
            return
        if item.get("instance_id"):
            self.detach(c, id_)
        c.delete(self.kind, id_, "DeleteNics", {"nics": [id_]})


class NicResource(dynamic.Resource, module="qingcloud", name="Nic"):
    """An extra NIC with a fixed address, attached to ``instance_id``. Outputs: ``nic_id``."""

    nic_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 vxnet_id: pulumi.Input[str], private_ip: pulumi.Input[str],
                 instance_id: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NicProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "vxnet_id": vxnet_id, "private_ip": private_ip,
            "instance_id": instance_id, "nic_id": None, "attached_instance_id": None,
            "status": None}, opts)
