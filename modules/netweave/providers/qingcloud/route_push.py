"""Route push: routes to the vCPEs, delivered to the VMs of a vxnet — the ONE place that
maps netweave's ``route_push`` onto QingCloud's API, so the mapping can change alone.

QingCloud's console "route push" page has no API of its own. The documented
destination -> next-hop API is the VPC route table:

    CreateRouteTable(routing_table_name, routing_table_type=0, rtable_rtype=2 (vxnet))
        -> routing_table
    AddRoutes(routing_table, rules.n.{routing_table_rule_name, network, nexthop,
              nexthop_type=3 (an IP address)})             -> routing_table_rules
    RemoveRoutes(routing_table, routing_table_rules.n)
    DescribeRoutes(routing_table)                           -> routing_table_rule_set
    DescribeRouteTables(routing_tables.n)   -> routing_table_set[{rtable_id, rtable_name,
                                               resources[{resource_id}], is_applied}]
    AssociateRouteTable(routing_table, resource=<vxnet>)    -> job
    DissociateRouteTable(routing_table, resource=<vxnet>)   -> job
    UpdateRouteTable(routing_table)                         -> job (the "apply")
    DeleteRouteTables(routing_tables.n)

so one ``RoutePush`` resource = the route table of one vxnet (every push that vxnet's
VMs receive), bound to that vxnet and applied. The alternative, a type-3 DHCP router
static per instance (inferred from the console), would replace only the functions below
``# --- API mapping``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import netaddr
import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client, QingCloudError

NEXTHOP_IP = 3


def route_key(route: Mapping[str, Any]) -> tuple[str, str]:
    return str(route.get("destination")), str(route.get("next_hop"))


class RoutePushProvider(Provider):
    kind = "routing_table"
    fields = ("zone", "name", "vxnet_id", "routes")
    required = ("zone", "name", "vxnet_id")
    defaults: ClassVar[Mapping[str, Any]] = {"routes": []}
    replace_on = frozenset({"zone", "vxnet_id"})

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        routes = inputs.get("routes") or []
        if not isinstance(routes, list):
            return [("routes", "routes is a list of {destination, next_hop}")]
        for i, route in enumerate(routes):
            try:
                net = netaddr.IPNetwork(str(route["destination"]))
                if net.ip != net.network:
                    problems.append(("routes", f"routes[{i}].destination {net} has host bits set: "
                                               f"did you mean {net.cidr}?"))
                netaddr.IPAddress(str(route["next_hop"]), flags=netaddr.INET_PTON)
            except (KeyError, TypeError, netaddr.AddrFormatError, ValueError):
                problems.append(("routes", f"routes[{i}] must be {{destination: CIDR, next_hop: address}}"))
        return problems

    def comparable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Routes compare as a set of destination -> next hop."""
        values = super().comparable(props)
        routes = values.get("routes")
        if isinstance(routes, list):
            values["routes"] = sorted(route_key(r) for r in routes if isinstance(r, Mapping))
        return values

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["routing_table"])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        table_id, _ = self.create_or_adopt(c, inputs["name"], "CreateRouteTable", {
            "routing_table_name": inputs["name"], "routing_table_type": 0, "rtable_rtype": 2})
        sync_routes(c, table_id, inputs["name"], inputs.get("routes") or [])
        bind(c, table_id, str(inputs["vxnet_id"]))
        apply(c, table_id)
        return table_id

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        item = c.describe(self.kind, id_)
        if item is not None:
            item["routes"] = [{"destination": r.get("network"), "next_hop": r.get("nexthop")}
                              for r in current_routes(c, id_)]
            item["vxnet_ids"] = bound_vxnets(item)
        return item

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"routing_table_id": item.get("rtable_id"), "bound_vxnets": item.get("vxnet_ids"),
                "is_applied": item.get("is_applied")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        vxnets = item.get("vxnet_ids") or [None]
        return {"name": item.get("rtable_name"), "vxnet_id": vxnets[0],
                "routes": item.get("routes") or []}

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if "name" in changed:
            c.call("ModifyRouteTableAttributes", {"routing_table": id_,
                                                  "routing_table_name": inputs["name"]})
        if "routes" in changed:
            sync_routes(c, id_, inputs["name"], inputs.get("routes") or [])
            apply(c, id_)

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        item = c.wait_stable(self.kind, id_)
        if item is None:
            return
        for vxnet in bound_vxnets(item):
            try:
                unbind(c, id_, vxnet)
            except QingCloudError as exc:
                if not exc.not_found:
                    raise
        c.delete(self.kind, id_, "DeleteRouteTables", {"routing_tables": [id_]})


# --- API mapping ---------------------------------------------------------------------------

def current_routes(c: Client, table_id: str) -> list[dict[str, Any]]:
    answer = c.call("DescribeRoutes", {"routing_table": table_id, "limit": 1000})
    return list(answer.get("routing_table_rule_set") or [])


def sync_routes(c: Client, table_id: str, name: str, routes: list[Mapping[str, Any]]) -> None:
    """Make the table hold exactly ``routes`` (destination -> next-hop IP)."""
    current = current_routes(c, table_id)
    wanted = {route_key(r) for r in routes}
    have = {(str(r.get("network")), str(r.get("nexthop"))) for r in current}
    stale = [r["rtable_rule_id"] for r in current
             if (str(r.get("network")), str(r.get("nexthop"))) not in wanted]
    missing = sorted({route_key(r) for r in routes} - have)
    if stale:
        c.ensure("RemoveRoutes", {"routing_table": table_id, "routing_table_rules": stale},
                 done=lambda: not set(stale) & {r["rtable_rule_id"] for r in current_routes(c, table_id)})
    if missing:
        def added() -> bool:
            present = {(str(r.get("network")), str(r.get("nexthop"))) for r in current_routes(c, table_id)}
            return set(missing) <= present

        c.ensure("AddRoutes", {"routing_table": table_id, "rules": [
            {"routing_table_rule_name": f"{name}-{i}", "network": dest, "nexthop": hop,
             "nexthop_type": NEXTHOP_IP} for i, (dest, hop) in enumerate(missing)]}, done=added)


def bound_vxnets(item: Mapping[str, Any]) -> list[str]:
    resources = item.get("resources") or item.get("routing_table_resources") or []
    return [str(r.get("resource_id")) for r in resources if isinstance(r, Mapping) and r.get("resource_id")]


def bind(c: Client, table_id: str, vxnet_id: str) -> None:
    item = c.wait_stable("routing_table", table_id) or {}
    if vxnet_id not in bound_vxnets(item):
        c.run_job("AssociateRouteTable", {"routing_table": table_id, "resource": vxnet_id},
                  done=lambda: vxnet_id in bound_vxnets(c.describe("routing_table", table_id) or {}))


def unbind(c: Client, table_id: str, vxnet_id: str) -> None:
    c.run_job("DissociateRouteTable", {"routing_table": table_id, "resource": vxnet_id},
              done=lambda: vxnet_id not in bound_vxnets(c.describe("routing_table", table_id) or {}))


def apply(c: Client, table_id: str) -> None:
    """Pushes take effect only once applied (the console's "apply changes")."""
    c.wait_stable("routing_table", table_id)
    c.run_job("UpdateRouteTable", {"routing_table": table_id},
              done=lambda: (c.describe("routing_table", table_id) or {}).get("is_applied") == 1)


class RoutePush(dynamic.Resource, module="qingcloud", name="RoutePush"):
    """The routes one vxnet's VMs receive: ``routes = [{destination, next_hop}]``."""

    routing_table_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 vxnet_id: pulumi.Input[str], routes: pulumi.Input[Sequence[Mapping[str, str]]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RoutePushProvider(), resource_name, {
            "zone": zone, "name": name, "vxnet_id": vxnet_id, "routes": routes,
            "routing_table_id": None, "bound_vxnets": None, "is_applied": None}, opts)
