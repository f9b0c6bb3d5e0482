"""vxnet: ``CreateVxnets`` (managed) then ``JoinRouter`` with its ip_network; delete leaves first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netaddr
import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client, QingCloudError


def gateway_of(ip_network: str) -> str:
    """The router's address in a vxnet: the first host address (``.1``)."""
    return str(netaddr.IPNetwork(ip_network).network + 1)


def joined_router(item: Mapping[str, Any]) -> str | None:
    return item.get("vpc_router_id") or (item.get("router") or {}).get("router_id") or None


class VxnetProvider(Provider):
    kind = "vxnet"
    fields = ("zone", "name", "router_id", "ip_network", "manager_ip")
    required = ("zone", "name", "router_id", "ip_network")
    replace_on = frozenset({"zone", "router_id", "ip_network", "manager_ip"})

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        result = super().check(olds, news)
        net = result.inputs.get("ip_network")
        if not result.inputs.get("manager_ip") and isinstance(net, str) and not result.failures:
            result.inputs["manager_ip"] = gateway_of(net)
        return result

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        text = inputs.get("ip_network")
        if not text:
            return []
        try:
            net = netaddr.IPNetwork(str(text))
        except (netaddr.AddrFormatError, ValueError):
            return [("ip_network", f"ip_network {text!r} is not a network like 192.168.128.0/24")]
        if net.ip != net.network:
            return [("ip_network", f"ip_network {text} has host bits set: did you mean {net.cidr}?")]
        if net.version != 4 or not 16 <= net.prefixlen <= 28:
            return [("ip_network", f"ip_network {text}: a vxnet is an IPv4 /16 to /28")]
        manager = inputs.get("manager_ip")
        if manager and netaddr.IPAddress(str(manager)) not in net:
            return [("manager_ip", f"manager_ip {manager} is outside {text}")]
        return []

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["vxnets"][0])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        vxnet_id, _ = self.create_or_adopt(c, inputs["name"], "CreateVxnets", {
            "vxnet_name": inputs["name"], "vxnet_type": 1, "count": 1})
        item = c.wait_stable(self.kind, vxnet_id)
        joined = (item or {}).get("vpc_router_id") or ((item or {}).get("router") or {}).get("router_id")
        if joined and joined != inputs["router_id"]:
            raise QingCloudError("JoinRouter", None,
                                 f"vxnet {vxnet_id} ({inputs['name']}) is joined to router {joined}, "
                                 f"not {inputs['router_id']}")
        if not joined:
            c.wait_stable("router", inputs["router_id"], ready=lambda r: r.get("status") == "active")
            c.run_job("JoinRouter", {
                "vxnet": vxnet_id, "router": inputs["router_id"], "ip_network": inputs["ip_network"],
                "manager_ip": inputs.get("manager_ip") or gateway_of(inputs["ip_network"])},
                done=lambda: joined_router(c.describe(self.kind, vxnet_id) or {}) == inputs["router_id"])
            c.wait_stable(self.kind, vxnet_id)
        return vxnet_id

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        router = item.get("router") or {}
        return {"vxnet_id": item.get("vxnet_id"),
                "vpc_router_id": item.get("vpc_router_id") or router.get("router_id")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        router = item.get("router") or {}
        return {"name": item.get("vxnet_name"),
                "router_id": item.get("vpc_router_id") or router.get("router_id"),
                "ip_network": router.get("ip_network"), "manager_ip": router.get("manager_ip")}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if "name" in changed:
            c.call("ModifyVxnetAttributes", {"vxnet": id_, "vxnet_name": inputs["name"]})

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        item = c.wait_stable(self.kind, id_)
        if item is None:
            return
        router_id = item.get("vpc_router_id") or (item.get("router") or {}).get("router_id")
        if router_id:
            if c.wait_stable("router", router_id) is not None:
                try:
                    c.run_job("LeaveRouter", {"router": router_id, "vxnets": [id_]},
                              done=lambda: not joined_router(c.describe(self.kind, id_) or {}))
                except QingCloudError as exc:
                    if not exc.not_found:
                        raise
            c.wait_stable(self.kind, id_)
        c.delete(self.kind, id_, "DeleteVxnets", {"vxnets": [id_]})


class VxnetResource(dynamic.Resource, module="qingcloud", name="Vxnet"):
    """A managed vxnet joined to its VPC router. Outputs: ``vxnet_id``."""

    vxnet_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 router_id: pulumi.Input[str], ip_network: pulumi.Input[str],
                 manager_ip: pulumi.Input[str] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(VxnetProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "router_id": router_id, "ip_network": ip_network,
            "manager_ip": manager_ip, "vxnet_id": None, "vpc_router_id": None}, opts)
