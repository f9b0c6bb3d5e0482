"""Route push, VPC-level mechanism (``mechanism: route_table``): routes in the VPC route
table already bound to a vxnet, so that the VPC router forwards every VM's packets of
every vxnet bound to that table — VMs created later included — to the next hop.

The documented rules it follows (yunify/qingcloud-docs):

- content/network/vpc/manual/routing/01_route_description.md: every VPC has a default
  route table, bound to all its vxnets (later ones too), that cannot be deleted. netweave
  never creates a table and never binds one: it adds its rules to the table the vxnet is
  bound to (the default one unless the user bound another).
- 02_route_function.md: "一个资源只能绑定一个路由表" — a vxnet binds one table only, so a
  second binding is never attempted; "添加路由规则前，需要先将路由表绑定" — the table is
  found through its binding, so rules are only ever added to a bound table; every change
  needs "应用修改" (UpdateRouteTable).
- routing_table/describe_routing_table_resources.md: the binding is read with
  DescribeRoutingTableResources (``resources.n`` = the vxnet); DescribeRouteTables has no
  bound-resource field.
- routing_table/add_routes.md: ``rules.n.{routing_table_rule_name, network, nexthop,
  nexthop_type}``; ``nexthop_type=3`` = an IP address (the console offers only router and
  NAT gateway next hops; type 3 is API-only, documented there and in describe_routes.md).

The table is shared (the user's rules, the NAT gateway's default route, the system rule of
each bound vxnet): netweave touches only the rules named ``<name> <destination>``.
One resource = the routes netweave keeps in the table of one vxnet; id ``<rtable_id>|<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client, QingCloudError
from netweave.providers.qingcloud.routes import comparable_routes, route_key, routes_problems

NEXTHOP_IP = 3


def rule_name(name: str, destination: str) -> str:
    return f"{name} {destination}"


class RouteTableRoutesProvider(Provider):
    kind = "routing_table"
    fields = ("zone", "name", "vxnet_id", "routes")
    required = ("zone", "name", "vxnet_id")
    defaults: ClassVar[Mapping[str, Any]] = {"routes": []}
    replace_on = frozenset({"zone", "name", "vxnet_id"})
    # a table binds many vxnets (the default one: all of the VPC's): which one anchored it is ours
    unreadable = frozenset({"vxnet_id"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        return routes_problems(inputs.get("routes"))

    def comparable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        values = super().comparable(props)
        values["routes"] = comparable_routes(values.get("routes"))
        return values

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        vxnet_id = str(inputs["vxnet_id"])
        table_id = bound_table(c, vxnet_id)
        if table_id is None:
            raise QingCloudError("DescribeRoutingTableResources", None,
                                 f"vxnet {vxnet_id} is bound to no route table (every vxnet of a VPC "
                                 "is bound to one: content/network/vpc/intro/40_concept.md)")
        sync_rules(c, table_id, inputs["name"], inputs.get("routes") or [])
        apply(c, table_id)
        return f"{table_id}|{inputs['name']}"

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        table_id, _, name = id_.partition("|")
        item = c.describe(self.kind, table_id)
        if item is None:
            return None
        vxnets = bound_vxnets(c, table_id)
        wanted = inputs.get("vxnet_id")
        if wanted and wanted not in vxnets:
            return None  # the vxnet was rebound to another table: these rules do not route it
        item["routes"] = [{"destination": r.get("network"), "next_hop": r.get("nexthop")}
                          for r in own_rules(c, table_id, name)]
        item["name"] = name
        item["vxnet_ids"] = vxnets
        return item

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"routing_table_id": item.get("rtable_id"), "bound_vxnets": item.get("vxnet_ids"),
                "is_applied": item.get("is_applied")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("name"), "routes": item.get("routes") or []}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if "routes" in changed:
            table_id = id_.partition("|")[0]
            sync_rules(c, table_id, inputs["name"], inputs.get("routes") or [])
            apply(c, table_id)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        table_id, _, name = id_.partition("|")
        if c.wait_stable(self.kind, table_id) is None:
            return
        if own_rules(c, table_id, name):
            sync_rules(c, table_id, name, [])
            apply(c, table_id)


# --- API mapping ---------------------------------------------------------------------------

def bound_table(c: Client, vxnet_id: str) -> str | None:
    """The one route table a vxnet is bound to (DescribeRoutingTableResources)."""
    answer = c.call("DescribeRoutingTableResources", {"resources": [vxnet_id]})
    tables = {str(i["rtable_id"]) for i in answer.get("resource_user_group_set") or []
              if i.get("resource_id") == vxnet_id}
    if len(tables) > 1:
        raise QingCloudError("DescribeRoutingTableResources", None,
                             f"vxnet {vxnet_id} reports {len(tables)} route tables; a vxnet binds one")
    return tables.pop() if tables else None


def bound_vxnets(c: Client, table_id: str) -> list[str]:
    answer = c.call("DescribeRoutingTableResources", {"rtables": [table_id]})
    return sorted(str(i["resource_id"]) for i in answer.get("resource_user_group_set") or []
                  if i.get("rtable_id") == table_id)


def own_rules(c: Client, table_id: str, name: str) -> list[dict[str, Any]]:
    """The rules of the table this resource wrote (named ``<name> <destination>``)."""
    rules: list[dict[str, Any]] = []
    offset = 0
    while True:
        answer = c.call("DescribeRoutes", {"routing_table": table_id, "offset": offset, "limit": 100})
        items = answer.get("routing_table_rule_set") or []
        rules += [dict(r) for r in items if str(r.get("rtable_rule_name", "")).startswith(f"{name} ")]
        offset += len(items)
        if not items or offset >= int(answer.get("total_count", offset)):
            return rules


def sync_rules(c: Client, table_id: str, name: str, routes: Sequence[Mapping[str, Any]]) -> None:
    """Make this resource's rules in the table exactly ``routes``; others stay untouched."""
    wanted = {route_key(r) for r in routes}

    def have() -> list[dict[str, Any]]:
        return own_rules(c, table_id, name)

    current = have()
    stale = [r["rtable_rule_id"] for r in current
             if (str(r.get("network")), str(r.get("nexthop"))) not in wanted]
    if stale:
        c.wait_stable("routing_table", table_id)
        c.ensure("RemoveRoutes", {"routing_table_rules": stale},
                 done=lambda: not set(stale) & {r["rtable_rule_id"] for r in have()})
    present = {(str(r.get("network")), str(r.get("nexthop"))) for r in current}
    missing = sorted(wanted - present)
    if missing:
        c.wait_stable("routing_table", table_id)
        c.ensure("AddRoutes", {"routing_table": table_id, "rules": [
            {"routing_table_rule_name": rule_name(name, dest), "network": dest, "nexthop": hop,
             "nexthop_type": NEXTHOP_IP} for dest, hop in missing]},
            done=lambda: set(missing) <= {(str(r.get("network")), str(r.get("nexthop"))) for r in have()})


def apply(c: Client, table_id: str) -> None:
    """UpdateRouteTable: the console's 应用修改; rules take effect only then."""
    c.wait_stable("routing_table", table_id)
    c.run_job("UpdateRouteTable", {"routing_table": table_id},
              done=lambda: (c.describe("routing_table", table_id) or {}).get("is_applied") == 1)


class RouteTableRoutes(dynamic.Resource, module="qingcloud", name="RouteTableRoutes"):
    """Routes in the route table bound to ``vxnet_id``: ``routes = [{destination, next_hop}]``."""

    routing_table_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 vxnet_id: pulumi.Input[str], routes: pulumi.Input[Sequence[Mapping[str, str]]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RouteTableRoutesProvider(), resource_name, {
            "zone": zone, "name": name, "vxnet_id": vxnet_id, "routes": routes,
            "routing_table_id": None, "bound_vxnets": None, "is_applied": None}, opts)
