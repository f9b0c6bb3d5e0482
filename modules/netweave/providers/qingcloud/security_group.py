"""Security group: ``CreateSecurityGroup``, rules synced with ``AddSecurityGroupRules`` /
``DeleteSecurityGroupRules``, and applied with ``ApplySecurityGroup`` (rules do nothing before)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
from pulumi import dynamic

from netweave.providers.qingcloud.base import Provider
from netweave.providers.qingcloud.client import Client

PROTOCOLS = ("tcp", "udp", "icmp", "gre", "esp", "ah", "ipip")
RULE_KEYS = ("protocol", "priority", "action", "direction", "val1", "val2", "val3")


def rule_key(rule: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes two rules the same (names and ids aside)."""
    return tuple("" if rule.get(k) is None else str(rule.get(k)) for k in RULE_KEYS)


def rule_problem(i: int, rule: Any) -> str | None:
    if not isinstance(rule, Mapping):
        return f"rules[{i}] is a mapping"
    if rule.get("protocol") not in PROTOCOLS:
        return f"rules[{i}].protocol is one of {', '.join(PROTOCOLS)}, not {rule.get('protocol')!r}"
    if rule.get("action") not in ("accept", "drop"):
        return f"rules[{i}].action is accept or drop"
    if rule.get("direction") not in (0, 1):
        return f"rules[{i}].direction is 0 (ingress) or 1 (egress)"
    if not isinstance(rule.get("priority"), int) or not 0 <= rule["priority"] <= 100:
        return f"rules[{i}].priority is 0-100 (lower first)"
    return None


class SecurityGroupProvider(Provider):
    kind = "security_group"
    fields = ("zone", "name", "rules")
    defaults: ClassVar[Mapping[str, Any]] = {"rules": []}

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        rules = inputs.get("rules") or []
        if not isinstance(rules, list):
            return [("rules", "rules is a list")]
        return [("rules", why) for i, r in enumerate(rules) if (why := rule_problem(i, r))]

    def comparable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Rules compare as a set of what they do (order, names, ids and types aside)."""
        values = super().comparable(props)
        rules = values.get("rules")
        if isinstance(rules, list):
            values["rules"] = sorted(rule_key(r) for r in rules if isinstance(r, Mapping))
        return values

    def created_id(self, answer: Mapping[str, Any]) -> str:
        return str(answer["security_group_id"])

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        group_id, _ = self.create_or_adopt(c, inputs["name"], "CreateSecurityGroup", {
            "security_group_name": inputs["name"]})
        self.sync_rules(c, group_id, inputs.get("rules") or [])
        return group_id

    def current_rules(self, c: Client, group_id: str) -> list[dict[str, Any]]:
        answer = c.call("DescribeSecurityGroupRules", {"security_group": group_id, "limit": 1000})
        return list(answer.get("security_group_rule_set") or [])

    def sync_rules(self, c: Client, group_id: str, rules: list[Mapping[str, Any]]) -> None:
        """Make the cloud's rules exactly ``rules``, then apply them."""
        current = self.current_rules(c, group_id)
        wanted = {rule_key(r) for r in rules}
        have = {rule_key(r) for r in current}
        stale = [r["security_group_rule_id"] for r in current if rule_key(r) not in wanted]
        missing = [dict(r) for r in rules if rule_key(r) not in have]
        if stale:
            c.ensure("DeleteSecurityGroupRules", {"security_group_rules": stale},
                     done=lambda: not set(stale) & {r["security_group_rule_id"]
                                                    for r in self.current_rules(c, group_id)})
        if missing:
            c.ensure("AddSecurityGroupRules", {"security_group": group_id, "rules": [
                {k: v for k, v in r.items() if v is not None} for r in missing]},
                done=lambda: wanted <= {rule_key(r) for r in self.current_rules(c, group_id)})
        if stale or missing or not current:
            c.run_job("ApplySecurityGroup", {"security_group": group_id},
                      done=lambda: (c.describe(self.kind, group_id) or {}).get("is_applied") == 1)

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"security_group_id": item.get("security_group_id"),
                "is_applied": item.get("is_applied")}

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": item.get("security_group_name"),
                "rules": [{k: r.get(k) for k in RULE_KEYS} for r in item.get("rules") or []]}

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        item = c.describe(self.kind, id_)
        if item is not None:
            item["rules"] = [{k: r.get(k) for k in (*RULE_KEYS, "security_group_rule_name")}
                             for r in self.current_rules(c, id_)]
        return item

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        if "name" in changed:
            c.call("ModifySecurityGroupAttributes", {"security_group": id_,
                                                     "security_group_name": inputs["name"]})
        if "rules" in changed:
            self.sync_rules(c, id_, inputs.get("rules") or [])

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        c.delete(self.kind, id_, "DeleteSecurityGroups", {"security_groups": [id_]})


class SecurityGroupResource(dynamic.Resource, module="qingcloud", name="SecurityGroup"):
    """Rules: ``{protocol, priority, action, direction (0 in / 1 out), val1, val2, val3}``
    (ports or ICMP type/code in val1/val2, source network in val3)."""

    security_group_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, zone: pulumi.Input[str], name: pulumi.Input[str],
                 rules: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None,
                 adopt_id: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(SecurityGroupProvider(), resource_name, {
            "adopt_id": adopt_id,
            "zone": zone, "name": name, "rules": rules, "security_group_id": None,
            "is_applied": None}, opts)
