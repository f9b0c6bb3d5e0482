"""EIP: ``AllocateEips`` (its own resource, so the address exists before the vCPE's boot
configuration is rendered), and ``EipAssociation`` (``AssociateEip`` / ``DissociateEips``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client, QingCloudError


def associated_instance(item: Mapping[str, Any]) -> str | None:
    resource = item.get("resource") or {}
    return resource.get("resource_id") or None if isinstance(resource, dict) else None


def dissociate(c: Client, eip_id: str) -> None:
    c.wait_stable("eip", eip_id)
    c.run_job("DissociateEips", {"eips": [eip_id]},
              done=lambda: not associated_instance(c.describe("eip", eip_id) or {}))
    c.wait_stable("eip", eip_id)


class EipProvider(Provider):
    kind = "eip"
    fields = ("zone", "name", "bandwidth", "billing_mode")
    defaults: ClassVar[Mapping[str, Any]] = {"bandwidth": 10, "billing_mode": "traffic"}
    replace_on = frozenset({"zone", "billing_mode"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        bandwidth = inputs.get("bandwidth")
        if not isinstance(bandwidth, int | float) or not 1 <= bandwidth <= 1000:
            problems.append(("bandwidth", f"bandwidth is 1-1000 Mbps, not {bandwidth!r}"))
        if inputs.get("billing_mode") not in ("bandwidth", "traffic"):
            problems.append(("billing_mode", "billing_mode is bandwidth or traffic"))
        return problems

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["eips"][0])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        eip_id, answer = self.create_or_adopt(c, inputs["name"], "AllocateEips", {
            "bandwidth": int(inputs["bandwidth"]), "billing_mode": inputs["billing_mode"],
            "count": 1, "eip_name": inputs["name"]})
        if answer.get("job_id"):
            c.wait_job(str(answer["job_id"]), "AllocateEips")
        c.wait_stable(self.kind, eip_id)
        return eip_id

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"eip_id": item.get("eip_id"), "eip_addr": item.get("eip_addr"),
                "status": item.get("status")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("eip_name"), "bandwidth": item.get("bandwidth"),
                "billing_mode": item.get("billing_mode")}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        c.wait_stable(self.kind, id_)
        if "name" in changed:
            c.call("ModifyEipAttributes", {"eip": id_, "eip_name": inputs["name"]})
        if "bandwidth" in changed:
            wanted = int(inputs["bandwidth"])
            c.run_job("ChangeEipsBandwidth", {"eips": [id_], "bandwidth": wanted},
                      done=lambda: (c.describe("eip", id_) or {}).get("bandwidth") == wanted)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        item = c.wait_stable(self.kind, id_)
        if item is None:
            return
        if associated_instance(item):
            dissociate(c, id_)
        c.delete(self.kind, id_, "ReleaseEips", {"eips": [id_]})


class EipResource(dynamic.Resource, module="qingcloud", name="Eip"):
    """A public address. Outputs: ``eip_id``, ``eip_addr``."""

    eip_id: pulumi.Output[str]
    eip_addr: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 bandwidth: pulumi.Input[int] | None = None, billing_mode: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(EipProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "bandwidth": bandwidth, "billing_mode": billing_mode,
            "eip_id": None, "eip_addr": None, "status": None}, opts)


class EipAssociationProvider(Provider):
    """id = ``<eip id>|<instance id>``; every input change replaces (dissociate, associate)."""

    kind = "eip"
    fields = ("zone", "eip_id", "instance_id")
    required = ("zone", "eip_id", "instance_id")
    replace_on = frozenset(fields)

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        eip_id, instance_id = str(inputs["eip_id"]), str(inputs["instance_id"])
        item = c.wait_stable("eip", eip_id)
        if item is None:
            raise QingCloudError("AssociateEip", 2100, f"eip {eip_id} does not exist")
        current = associated_instance(item)
        if current != instance_id:
            if current:
                dissociate(c, eip_id)
            c.wait_stable("instance", instance_id, ready=lambda i: i.get("status") == "running")
            c.run_job("AssociateEip", {"eip": eip_id, "instance": instance_id},
                      done=lambda: associated_instance(c.describe("eip", eip_id) or {}) == instance_id)
            c.wait_stable("eip", eip_id)
        return f"{eip_id}|{instance_id}"

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        eip_id, _, instance_id = id_.partition("|")
        item = c.describe("eip", eip_id)
        if item is None or associated_instance(item) != instance_id:
            return None
        return item

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"eip_addr": item.get("eip_addr")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"eip_id": item.get("eip_id"), "instance_id": associated_instance(item)}

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        if self._read(c, id_, {}) is None:
            return
        eip_id = id_.partition("|")[0]
        dissociate(c, eip_id)


class EipAssociationResource(dynamic.Resource, module="qingcloud", name="EipAssociation"):
    """Binds an EIP to the vCPE instance (after the instance runs)."""

    eip_addr: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], eip_id: pulumi.Input[str],
                 instance_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(EipAssociationProvider(), resource_name, {
            "zone": zone, "eip_id": eip_id, "instance_id": instance_id, "eip_addr": None}, opts)
