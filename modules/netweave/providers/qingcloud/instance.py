"""Instance: the vCPE VM. ``RunInstances`` with a fixed primary address (``vxnet-id|ip``)
and the boot configuration as QingCloud user data (see ``userdata``); ``TerminateInstances``.

User data is the first boot only: a later change of it is no change of the instance (the
running host gets its new configuration in place, ``netweave.providers.hostconfig``). Only
what a running VM cannot change replaces it: zone, image, instance type, primary vxnet and
address, login key pair. ``RunInstances`` documents ``login_keypair`` at creation only."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud import userdata
from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client


def running(item: Mapping[str, Any]) -> bool:
    return item.get("status") == "running"


class InstanceProvider(Provider):
    kind = "instance"
    fields = ("zone", "name", "image_id", "instance_type", "vxnet_id", "private_ip",
              "security_group_id", "login_keypair", "userdata_type", "userdata")
    required = ("zone", "name", "image_id", "instance_type", "vxnet_id", "private_ip", "login_keypair")
    replace_on = frozenset({"zone", "image_id", "instance_type", "vxnet_id", "private_ip",
                            "login_keypair"})
    # User data is read by the image at its first boot (qingcloud-docs
    # content/compute/vm/manual/userdata.md; RunInstances has the only userdata_* parameters,
    # no Modify call takes them): a change travels in place (HostConfig), not by replacement.
    first_boot_only = frozenset({"userdata", "userdata_type"})
    secret_fields = frozenset({"userdata"})
    unreadable = frozenset({"userdata", "userdata_type"})
    cloud_defaults = frozenset({"security_group_id"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        kind = inputs.get("userdata_type")
        if kind is not None and kind not in userdata.TYPES:
            return [("userdata_type", f"userdata_type is one of {', '.join(userdata.TYPES)} "
                                      f"(QingCloud has no cloud-init), not {kind!r}")]
        if not inputs.get("login_keypair"):
            problems.append(("login_keypair", "QingCloud needs a login mode and netweave uses SSH key "
                                              "pairs, never passwords: `pulumi config set "
                                              "netweave:qingcloudLoginKeypair kp-...`"))
        if "userdata" in inputs or not inputs.get("userdata_type"):  # unknown at preview: later
            why = userdata.problem(inputs.get("userdata_type"), inputs.get("userdata"))
            if why:
                problems.append(("userdata", why))
        return problems

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["instances"][0])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        params: dict[str, Any] = {
            "image_id": inputs["image_id"], "instance_type": inputs["instance_type"], "count": 1,
            "instance_name": inputs["name"],
            "vxnets": [f"{inputs['vxnet_id']}|{inputs['private_ip']}"],
            "security_group": inputs.get("security_group_id")}
        params.update(login_mode="keypair", login_keypair=inputs["login_keypair"])
        kind = inputs.get("userdata_type")
        existing = self.adopt(c, inputs["name"])
        if kind and existing is None:
            params.update(need_userdata=1, userdata_type=kind,
                          userdata_value=self.upload(c, inputs["name"], kind, inputs["userdata"]))
        instance_id, answer = self.create_or_adopt(c, inputs["name"], "RunInstances", params)
        if answer.get("job_id"):
            c.wait_job(str(answer["job_id"]), "RunInstances")
        c.wait_stable(self.kind, instance_id, ready=running)
        return instance_id

    def upload(self, c: Client, name: str, kind: str, data: Any) -> str:
        """The user data value: an attachment id for tar, the base64 text otherwise."""
        body = userdata.encoded(kind, data)
        if kind != "tar":
            return body.decode()
        answer = c.call("UploadUserDataAttachment", {
            "attachment_content": base64.b64encode(body).decode(),
            "attachment_name": userdata.attachment_name(name, body)}, verb="POST")
        return str(answer["attachment_id"])

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        vxnets = item.get("vxnets") or []
        return {"instance_id": item.get("instance_id"), "status": item.get("status"),
                "primary_ip": vxnets[0].get("private_ip") if vxnets else None}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        vxnets = item.get("vxnets") or [{}]
        groups = item.get("security_group") or {}
        keypairs = item.get("keypair_ids") or []
        return {"name": item.get("instance_name"),
                "image_id": (item.get("image") or {}).get("image_id") or item.get("image_id"),
                "instance_type": item.get("instance_type"), "vxnet_id": vxnets[0].get("vxnet_id"),
                "private_ip": vxnets[0].get("private_ip"),
                "security_group_id": groups.get("security_group_id") if isinstance(groups, dict) else None,
                "login_keypair": keypairs[0] if keypairs else None}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        c.wait_stable(self.kind, id_)
        if "name" in changed:
            c.call("ModifyInstanceAttributes", {"instance": id_, "instance_name": inputs["name"]})
        if "security_group_id" in changed and inputs.get("security_group_id"):
            group = inputs["security_group_id"]
            c.run_job("ApplySecurityGroup", {"security_group": group, "instances": [id_]},
                      done=lambda: ((c.describe(self.kind, id_) or {}).get("security_group") or {})
                      .get("security_group_id") == group)
            c.wait_stable(self.kind, id_)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        c.delete(self.kind, id_, "TerminateInstances", {"instances": [id_]})


class InstanceResource(dynamic.Resource, module="qingcloud", name="Instance"):
    """A vCPE VM. ``userdata``: files (tar) or a script (exec); pass it as a secret."""

    instance_id: pulumi.Output[str]
    primary_ip: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 image_id: pulumi.Input[str], instance_type: pulumi.Input[str],
                 vxnet_id: pulumi.Input[str], private_ip: pulumi.Input[str],
                 security_group_id: pulumi.Input[str] | None = None,
                 login_keypair: pulumi.Input[str] | None = None,
                 userdata_type: pulumi.Input[str] | None = None,
                 userdata: pulumi.Input[Any] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(InstanceProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "image_id": image_id, "instance_type": instance_type,
            "vxnet_id": vxnet_id, "private_ip": private_ip, "security_group_id": security_group_id,
            "login_keypair": login_keypair, "userdata_type": userdata_type,
            "userdata": pulumi.Output.secret(userdata) if userdata is not None else None,
            "instance_id": None, "status": None, "primary_ip": None, "userdata_sha256": None}, opts)
