"""Resource changes: create/update/replace/delete, with the replace rules asked of their owners."""

from __future__ import annotations

from typing import Any

from netweave.deploy.plan import Plan, PlannedResource
from netweave.diff.resources import resource_changes
from netweave.providers.qingcloud.vxnet import VxnetProvider
from pulumi import dynamic
from pulumi.dynamic.dynamic import serialize_provider

INSTANCE = "vultr:index/instance:Instance"
VPC = "vultr:index/vpc:Vpc"


def res(type_: str, name_: str, provider: str | None = None, secrets: dict[str, str] | None = None,
        **inputs: Any) -> PlannedResource:
    return PlannedResource(f"urn:pulumi:s::netweave::{type_}::{name_}", type_, name_, None, True, inputs, (),
                           secrets or {}, provider)


def changes(old: list[PlannedResource], new: list[PlannedResource], vcpes: tuple[str, ...] = ("vcpe01",)
            ) -> list[tuple[str, str, tuple[str, ...], bool]]:
    return [(c.op, c.name, c.replace_fields, c.interrupts_traffic)
            for c in resource_changes(Plan("s", "f", old), Plan("s", "f", new), vcpes)]


def test_vultr_user_data_change_replaces_the_vcpe_and_interrupts_traffic() -> None:
    old = res(INSTANCE, "vcpe01", secrets={"userData": "aaa"}, userData="[secret]", region="ams")
    new = res(INSTANCE, "vcpe01", secrets={"userData": "bbb"}, userData="[secret]", region="ams")
    assert changes([old], [new]) == [("replace", "vcpe01", ("userData",), True)]


def test_vultr_hostname_change_is_an_update() -> None:
    assert changes([res(INSTANCE, "vcpe01", hostname="a")], [res(INSTANCE, "vcpe01", hostname="b")]) == \
        [("update", "vcpe01", (), False)]


def test_vultr_vpc_description_updates_but_region_replaces() -> None:
    assert changes([res(VPC, "v", description="a")], [res(VPC, "v", description="b")])[0][0] == "update"
    assert changes([res(VPC, "v", region="ams")], [res(VPC, "v", region="fra")])[0][:3] == \
        ("replace", "v", ("region",))


def test_created_and_deleted_resources() -> None:
    assert changes([res(VPC, "old")], [res(VPC, "new")]) == [
        ("delete", "old", (), False), ("create", "new", (), False)]


def test_deleting_a_vcpe_instance_is_called_out() -> None:
    assert changes([res(INSTANCE, "vcpe01")], []) == [("delete", "vcpe01", (), True)]


def test_qingcloud_replace_rules_come_from_the_provider_itself() -> None:
    blob = serialize_provider(VxnetProvider())
    typ = "pulumi-python:dynamic/qingcloud:Vxnet"
    base: dict[str, Any] = dict(zone="pek3a", name="n", router_id="[unknown]", ip_network="10.0.0.0/24")
    old = res(typ, "vx", blob, **base)
    assert changes([old], [res(typ, "vx", blob, **{**base, "ip_network": "10.0.1.0/24"})]) == \
        [("replace", "vx", ("ip_network",), False)]
    assert changes([old], [res(typ, "vx", blob, **{**base, "name": "m"})]) == [("update", "vx", (), False)]


class ColourProvider(dynamic.ResourceProvider):
    """A provider with a rule no table in netweave knows: only asking it can find it."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return dynamic.DiffResult(changes=olds != news, replaces=["colour"] if olds != news else [])


def test_an_unknown_dynamic_provider_rule_is_honoured() -> None:
    blob = serialize_provider(ColourProvider())
    typ = "pulumi-python:dynamic/toy:Paint"
    assert changes([res(typ, "p", blob, colour="red")], [res(typ, "p", blob, colour="blue")]) == \
        [("replace", "p", ("colour",), False)]


def test_a_provider_that_fails_is_reported_as_an_update_with_a_note() -> None:
    typ = "pulumi-python:dynamic/toy:Paint"
    (change,) = resource_changes(Plan("s", "f", [res(typ, "p", "bm90IGEgcGlja2xl", colour="red")]),
                                 Plan("s", "f", [res(typ, "p", "bm90IGEgcGlja2xl", colour="blue")]))
    assert change.op == "update" and change.note and "diff failed" in change.note
