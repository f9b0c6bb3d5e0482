"""Route push, per-instance mechanism (``mechanism: instance``, the default): what the
console's VPC → 管理配置 → 路由推送 → "添加云服务器路由" does — routes for ONE instance of a
vxnet (content/sd-wan/sdwan_new/qs/10_qs_2vxnet_access.md 步骤五: 私有网络, 实例 ID, 静态路由
目标网络 + 路由 IP, 提交, 应用修改).

The API that matches (content/network/vpc/api/vpc_api/add_router_statics.md):
``AddRouterStatics(router, vxnet, statics.1.{static_type=3 "DHCP 选项", val1=<instance id>,
val2=<DHCP settings key=value;...>, router_static_name})`` then ``UpdateRouters``
("在增加 VPC 网络规则后，你需要执行 UpdateRouters 才能使之生效"); delete with
``DeleteRouterStatics`` + ``UpdateRouters`` (delete_router_statics.md). The routes go into
``val2`` through ``dhcp_routes.encode`` — the one undocumented part, isolated there.

The instance is one the user already runs (``hosts.<name>.instance``): by id, by exact name
(DescribeInstances ``search_word`` matches id or name, describe_instances.md; the name is
compared exactly here), or by its private address in the vxnet (no API searches by address:
DescribeVxnetInstances lists the vxnet's instances with their ``private_ip``,
describe_vxnet_instances.md). Not found, ambiguous, or at another address than the
topology says: a clear error, nothing created.

One resource = one DHCP-option static (one instance, one vxnet); id ``rtrs-…``. Any change
replaces it (delete, add, apply): modify_router_static_attributes.md names its value
parameters two ways (``statics.n.valN`` in its table, ``valN`` in its example).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import netaddr
import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud import dhcp_routes
from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import GONE_STATUSES, Client, QingCloudError
from netweave.providers.qingcloud.routes import comparable_routes, route_key, routes_problems
from netweave.providers.qingcloud.vpc import apply_router

DHCP_OPTION = 3
LOOKUPS = ("id", "name", "address")


class LookupError_(QingCloudError):
    """The instance a host names is not there, not unique, or not where the topology says."""

    def __str__(self) -> str:
        return f"QingCloud {self.action}: {self.message}"


def _pages(c: Client, action: str, params: Mapping[str, Any], set_key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        answer = c.call(action, {**params, "offset": offset, "limit": 100})
        page = answer.get(set_key) or []
        items += [dict(i) for i in page]
        offset += len(page)
        if not page or offset >= int(answer.get("total_count", offset)):
            return items


def vxnet_instances(c: Client, vxnet_id: str, instance_id: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"vxnet": vxnet_id}
    if instance_id:
        params["instances"] = [instance_id]
    return [i for i in _pages(c, "DescribeVxnetInstances", params, "instance_set")
            if i.get("status") not in GONE_STATUSES]


def resolve(c: Client, host: str, vxnet_id: str, address: str, instance: Mapping[str, Any]) -> str:
    """The id of the instance ``hosts.<host>.instance`` names, checked to be at ``address`` in
    the vxnet; LookupError_ otherwise."""
    what = f"hosts.{host}.instance"
    if instance.get("id"):
        wanted = str(instance["id"])
        found = [i for i in _pages(c, "DescribeInstances", {"instances": [wanted]}, "instance_set")
                 if i.get("instance_id") == wanted and i.get("status") not in GONE_STATUSES]
        if not found:
            raise LookupError_("DescribeInstances", None, f"{what}: no instance {wanted} in this zone")
        instance_id = wanted
    elif instance.get("name"):
        name = str(instance["name"])
        found = [i for i in _pages(c, "DescribeInstances", {"search_word": name}, "instance_set")
                 if i.get("instance_name") == name and i.get("status") not in GONE_STATUSES]
        if not found:
            raise LookupError_("DescribeInstances", None, f"{what}: no instance is named {name!r}")
        if len(found) > 1:
            ids = ", ".join(sorted(str(i["instance_id"]) for i in found))
            raise LookupError_("DescribeInstances", None,
                               f"{what}: {len(found)} instances are named {name!r} ({ids}); "
                               "name one by id: instance: i-...")
        instance_id = str(found[0]["instance_id"])
    else:
        at = [i for i in vxnet_instances(c, vxnet_id) if i.get("private_ip") == address]
        if not at:
            raise LookupError_("DescribeVxnetInstances", None,
                               f"{what}: no instance has the address {address} in vxnet {vxnet_id}; "
                               "a per-instance route push reaches VMs that exist at deploy time "
                               "(mechanism: route-table also reaches VMs created later)")
        if len(at) > 1:
            ids = ", ".join(sorted(str(i["instance_id"]) for i in at))
            raise LookupError_("DescribeVxnetInstances", None,
                               f"{what}: {len(at)} instances have the address {address} ({ids})")
        return str(at[0]["instance_id"])
    placed = vxnet_instances(c, vxnet_id, instance_id)
    if not placed:
        raise LookupError_("DescribeVxnetInstances", None,
                           f"{what}: instance {instance_id} has no NIC in vxnet {vxnet_id}")
    if placed[0].get("private_ip") != address:
        raise LookupError_("DescribeVxnetInstances", None,
                           f"{what}: instance {instance_id} is at {placed[0].get('private_ip')} in "
                           f"vxnet {vxnet_id}, the topology says {host} is {address}")
    return instance_id


def dhcp_options(c: Client, router_id: str, vxnet_id: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"router": router_id, "static_type": DHCP_OPTION}
    if vxnet_id:
        params["vxnet"] = vxnet_id
    return _pages(c, "DescribeRouterStatics", params, "router_static_set")


def routes_of(val2: str) -> list[dict[str, str]]:
    """The routes netweave wrote into a DHCP option's val2 (other settings are not ours)."""
    for item in val2.split(";"):
        try:
            return [{"destination": d, "next_hop": h} for d, h in dhcp_routes.decode(item)]
        except ValueError:
            continue
    return []


class InstanceRoutesProvider(Provider):
    kind = "router_static"
    fields = ("zone", "name", "host", "router_id", "vxnet_id", "address", "instance", "routes")
    required = ("zone", "name", "router_id", "vxnet_id", "address", "instance", "routes")
    defaults: ClassVar[Mapping[str, Any]] = {"routes": []}
    replace_on = frozenset({"zone", "name", "router_id", "vxnet_id", "address", "instance", "routes"})
    # how the instance was named: the static records only its id (``val1``)
    unreadable = frozenset({"host", "address", "instance"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = routes_problems(inputs.get("routes"))
        if "routes" in inputs and not inputs.get("routes"):
            problems.append(("routes", "a DHCP option route push needs at least one route"))
        instance = inputs.get("instance")
        named = {k for k, v in instance.items() if v} if isinstance(instance, Mapping) else set()
        if instance is not None and not any(named == {k} for k in LOOKUPS):
            problems.append(("instance", "instance is one of {id: i-...}, {name: ...}, {address: true}"))
        address = inputs.get("address")
        if address is not None:
            try:
                netaddr.IPAddress(str(address), 4, flags=netaddr.INET_PTON)
            except (netaddr.AddrFormatError, ValueError):
                problems.append(("address", f"address {address!r} is not an IPv4 address"))
        return problems

    def comparable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        values = super().comparable(props)
        values["routes"] = comparable_routes(values.get("routes"))
        return values

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        router_id, vxnet_id, name = str(inputs["router_id"]), str(inputs["vxnet_id"]), str(inputs["name"])
        instance_id = resolve(c, str(inputs.get("host") or name), vxnet_id, str(inputs["address"]),
                              inputs["instance"])
        val2 = dhcp_routes.encode(route_key(r) for r in inputs["routes"])
        found: list[dict[str, Any]] = []

        def ours() -> dict[str, Any] | None:
            mine = [s for s in dhcp_options(c, router_id, vxnet_id) if s.get("router_static_name") == name]
            if mine:
                found.append(mine[0])
                return mine[0]
            return None

        if ours() is None:
            other = next((s for s in dhcp_options(c, router_id, vxnet_id)
                          if s.get("val1") == instance_id), None)
            if other is not None:
                raise QingCloudError("AddRouterStatics", None,
                                     f"instance {instance_id} already has a DHCP option in vxnet {vxnet_id} "
                                     f"({other.get('router_static_id')}, named "
                                     f"{other.get('router_static_name')!r}); how two combine is not "
                                     "documented: delete it, or merge its settings by hand")
            c.wait_stable("router", router_id, ready=lambda r: r.get("status") == "active")
            answer = c.create("AddRouterStatics", {
                "router": router_id, "vxnet": vxnet_id, "statics": [{
                    "static_type": DHCP_OPTION, "val1": instance_id, "val2": val2,
                    "router_static_name": name}]}, adopt=ours)
            static_id = str(answer["router_statics"][0]) if answer else str(found[-1]["router_static_id"])
        else:
            static_id = str(found[-1]["router_static_id"])
        apply_router(c, router_id)
        return static_id

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        answer = c.call("DescribeRouterStatics", {"router_statics": [id_]})
        item = next((dict(s) for s in answer.get("router_static_set") or []
                     if s.get("router_static_id") == id_), None)
        if item is None:
            return None
        item["routes"] = routes_of(str(item.get("val2") or ""))
        return item

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"router_static_id": item.get("router_static_id"), "instance_id": item.get("val1"),
                "val2": item.get("val2")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("router_static_name"), "router_id": item.get("router_id"),
                "vxnet_id": item.get("vxnet_id") or None, "routes": item.get("routes") or []}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        pass  # only ``host`` (a label for messages) changes in place

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        item = self._read(c, id_, {})
        if item is None:
            return
        router_id = str(item.get("router_id") or props.get("router_id"))
        if c.wait_stable("router", router_id) is None:
            return  # the VPC is gone and its statics with it
        c.ensure("DeleteRouterStatics", {"router_statics": [id_]},
                 done=lambda: self._read(c, id_, {}) is None)
        apply_router(c, router_id)


class InstanceRoutes(dynamic.Resource, module="qingcloud", name="InstanceRoutes"):
    """The routes one existing instance receives from its VPC (a DHCP-option router static).

    ``instance``: ``{"id": "i-..."}``, ``{"name": "..."}`` or ``{"address": True}`` (the
    instance at ``address`` in the vxnet)."""

    router_static_id: pulumi.Output[str]
    instance_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 host: pulumi.Input[str], router_id: pulumi.Input[str], vxnet_id: pulumi.Input[str],
                 address: pulumi.Input[str], instance: pulumi.Input[Mapping[str, Any]],
                 routes: pulumi.Input[Sequence[Mapping[str, str]]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(InstanceRoutesProvider(), resource_name, {
            "zone": zone, "name": name, "host": host, "router_id": router_id, "vxnet_id": vxnet_id,
            "address": address, "instance": instance, "routes": routes,
            "router_static_id": None, "instance_id": None, "val2": None}, opts)
