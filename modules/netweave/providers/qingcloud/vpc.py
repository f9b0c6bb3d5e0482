"""VPC = a QingCloud router (``CreateRouters``); changes are applied with ``UpdateRouters``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import netaddr
import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client

# QingCloud VPC networks: a /16 of 192.168.0.0/16 or of 172.16.0.0/12.
VPC_RANGES = (netaddr.IPNetwork("192.168.0.0/16"), netaddr.IPNetwork("172.16.0.0/12"))


def vpc_network_problem(text: str) -> str | None:
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError):
        return f"vpc_network {text!r} is not a network like 192.168.0.0/16"
    if net.prefixlen != 16 or net.ip != net.network or not any(net in r for r in VPC_RANGES):
        return (f"vpc_network {text} must be a /16 inside 192.168.0.0/16 or 172.16.0.0/12 "
                "(QingCloud's VPC ranges), e.g. 192.168.0.0/16 or 172.17.0.0/16")
    return None


class VpcProvider(Provider):
    kind = "router"
    fields = ("zone", "name", "vpc_network", "router_type", "security_group_id")
    required = ("zone", "name", "vpc_network")
    defaults: ClassVar[Mapping[str, Any]] = {"router_type": 1}
    replace_on = frozenset({"zone", "vpc_network", "router_type"})
    cloud_defaults = frozenset({"security_group_id"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if inputs.get("vpc_network"):
            problem = vpc_network_problem(str(inputs["vpc_network"]))
            if problem:
                problems.append(("vpc_network", problem))
        if inputs.get("router_type") not in (0, 1, 2, 3):
            problems.append(("router_type", "router_type is 0 (small) to 3 (extra large)"))
        return problems

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["routers"][0])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        router_id, answer = self.create_or_adopt(c, inputs["name"], "CreateRouters", {
            "router_name": inputs["name"], "router_type": inputs["router_type"],
            "vpc_network": inputs["vpc_network"], "security_group": inputs.get("security_group_id"),
            "count": 1})
        if answer.get("job_id"):
            c.wait_job(str(answer["job_id"]), "CreateRouters")
        c.wait_stable(self.kind, router_id, ready=lambda r: r.get("status") == "active")
        return router_id

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"router_id": item.get("router_id"), "private_ip": item.get("private_ip"),
                "status": item.get("status"), "is_applied": item.get("is_applied")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("router_name"), "vpc_network": item.get("vpc_network"),
                "router_type": item.get("router_type"),
                "security_group_id": item.get("security_group_id") or None}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if not changed & {"name", "security_group_id"}:
            return
        c.wait_stable(self.kind, id_)
        c.call("ModifyRouterAttributes", {
            "router": id_,
            "router_name": inputs["name"] if "name" in changed else None,
            "security_group": inputs.get("security_group_id") if "security_group_id" in changed else None})
        apply_router(c, id_)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        c.delete(self.kind, id_, "DeleteRouters", {"routers": [id_]})


def apply_router(c: Client, router_id: str) -> None:
    """UpdateRouters: pending changes take effect only now (the Terraform provider forgot)."""
    c.wait_stable("router", router_id, ready=lambda r: r.get("status") == "active")
    c.run_job("UpdateRouters", {"routers": [router_id]},
              done=lambda: (c.describe("router", router_id) or {}).get("is_applied") == 1)
    c.wait_stable("router", router_id)


class VpcResource(dynamic.Resource, module="qingcloud", name="Vpc"):
    """A QingCloud VPC (router). Outputs: ``router_id``, ``private_ip``."""

    router_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 vpc_network: pulumi.Input[str], router_type: pulumi.Input[int] | None = None,
                 security_group_id: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(VpcProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "vpc_network": vpc_network, "router_type": router_type,
            "security_group_id": security_group_id,
            "router_id": None, "private_ip": None, "status": None, "is_applied": None}, opts)
