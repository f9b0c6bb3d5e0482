"""Resource changes between two offline plans: create, update, replace, delete.

Resources are matched by URN, as the engine matches old state and new program. Whether
a changed resource is updated in place or replaced comes from where the rule lives:
- our QingCloud dynamic resources: their own provider's ``diff()`` (the provider object
  the program pickled into the plan), so the rules are never written twice;
- Vultr resources: the fields the Vultr provider marks force-new (below);
- anything else (components, ...): updated in place.
A replaced vCPE instance is called out: its tunnels and the routes through it go down
while the new VM boots.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netweave.deploy.plan import Plan, PlannedResource, short_type

# Vultr fields that force a new resource (terraform-provider-vultr ``ForceNew``; the
# Vultr API cannot change them on a live object). ``user_data`` replaces the instance:
# cloud-init only reads it at first boot.
VULTR_FORCE_NEW: Mapping[str, frozenset[str]] = {
    "vultr:index/instance:Instance": frozenset({
        "userData", "osId", "region", "appId", "imageId", "snapshotId", "isoId",
        "reservedIpId", "enableIpv6"}),
    "vultr:index/vpc:Vpc": frozenset({"region", "v4Subnet", "v4SubnetMask"}),
    "vultr:index/reservedIp:ReservedIp": frozenset({"region", "ipType"}),
    "vultr:index/firewallRule:FirewallRule": frozenset({
        "firewallGroupId", "protocol", "ipType", "subnet", "subnetSize", "port", "source", "notes"}),
    "vultr:index/firewallGroup:FirewallGroup": frozenset(),
    "vultr:index/sshKey:SshKey": frozenset({"sshKey"}),
}
OPS = ("replace", "delete", "create", "update")
HOST_CONFIG = "pulumi-python:dynamic/netweave:HostConfig"
INSTANCE_TYPES = ("pulumi-python:dynamic/qingcloud:Instance", "vultr:index/instance:Instance")


@dataclass(frozen=True)
class ResourceChange:
    op: str  # "create" | "update" | "replace" | "delete"
    urn: str
    type: str
    name: str
    fields: tuple[str, ...] = ()  # inputs that changed
    replace_fields: tuple[str, ...] = ()  # those that force the replacement
    vcpe: str | None = None  # the vCPE this resource is (instance of), if any
    note: str | None = None  # e.g. why the replacement rule could not be asked

    @property
    def interrupts_traffic(self) -> bool:
        return self.vcpe is not None and self.op in ("replace", "delete")

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "urn": self.urn, "type": self.type, "name": self.name,
                "fields": list(self.fields), "replace_fields": list(self.replace_fields),
                "vcpe": self.vcpe, "interrupts_traffic": self.interrupts_traffic, "note": self.note}


def comparable_inputs(r: PlannedResource) -> dict[str, Any]:
    """Inputs with each secret replaced by its keyed digest: equal iff the secret is."""
    out = dict(r.inputs)
    for key, digest in r.secrets.items():
        out[key] = f"[secret:{digest}]"
    return out


def _provider(r: PlannedResource) -> Any:
    import dill  # pulumi's own dependency, used the way `python -m pulumi.dynamic` does
    assert r.provider is not None
    return dill.loads(base64.b64decode(r.provider))


def _dynamic_replaces(old: PlannedResource, new: PlannedResource, changed: list[str]
                      ) -> tuple[list[str], str | None]:
    """Ask the resource's own provider (as pickled by the program) what it would replace."""
    if new.provider is None:
        return [], "no provider recorded: shown as an update"
    try:
        provider = _provider(new)
        result = provider.diff(f"{old.name}-id", comparable_inputs(old), comparable_inputs(new))
    except Exception as exc:  # a provider's diff must not take the whole report down
        return [], f"the provider's diff failed ({type(exc).__name__}: {exc}): shown as an update"
    replaces = list(getattr(result, "replaces", None) or [])
    if getattr(result, "changes", True) is False and not replaces:
        return [], "the provider sees no change"
    return replaces, None


def _vcpe_of(r: PlannedResource, vcpes: Iterable[str]) -> str | None:
    """The vCPE an instance resource is: its name is the vCPE's (or starts with it)."""
    if not r.type.lower().endswith(":instance"):
        return None
    for name in vcpes:
        if r.name == name or r.name.startswith(f"{name}-"):
            return name
    return None


def resource_changes(base: Plan, head: Plan, vcpes: Iterable[str] = ()) -> list[ResourceChange]:
    vcpe_names = sorted(set(vcpes), key=len, reverse=True)  # longest prefix wins
    old, new = base.by_urn(), head.by_urn()
    out: list[ResourceChange] = []
    for urn in new.keys() - old.keys():
        r = new[urn]
        out.append(ResourceChange("create", urn, r.type, r.name, vcpe=_vcpe_of(r, vcpe_names)))
    for urn in old.keys() - new.keys():
        r = old[urn]
        out.append(ResourceChange("delete", urn, r.type, r.name, vcpe=_vcpe_of(r, vcpe_names)))
    for urn in new.keys() & old.keys():
        a, b = old[urn], new[urn]
        ia, ib = comparable_inputs(a), comparable_inputs(b)
        # ignore_changes: the engine keeps the old value, so there is no change to judge
        changed = sorted(k for k in ia.keys() | ib.keys()
                         if ia.get(k) != ib.get(k) and k not in b.ignore_changes)
        if not changed and a.parent == b.parent:
            continue
        note = None
        if b.dynamic:
            replaces, note = _dynamic_replaces(a, b, changed)
            if note == "the provider sees no change":
                continue
        else:
            force_new = VULTR_FORCE_NEW.get(b.type, frozenset())
            replaces = [k for k in changed if k in force_new]
        if a.parent != b.parent:
            note = "moved to another parent: the engine replaces it unless an alias is declared"
            replaces = replaces or ["parent"]
        op = "replace" if replaces else "update"
        out.append(ResourceChange(op, urn, b.type, b.name, tuple(changed), tuple(sorted(replaces)),
                                  _vcpe_of(b, vcpe_names), note))
    order = {op: i for i, op in enumerate(OPS)}
    return sorted(out, key=lambda c: (not c.interrupts_traffic, order[c.op], short_type(c.type), c.name))


def summary(changes: Iterable[ResourceChange]) -> dict[str, int]:
    counts = dict.fromkeys(OPS, 0)
    for c in changes:
        counts[c.op] += 1
    return counts


@dataclass(frozen=True)
class HostChange:
    """What a change does to one running host (vCPE or VPN server), in an operator's words."""

    host: str
    how: str                  # "in place" | "replaced" | "created" | "deleted"
    why: tuple[str, ...] = ()  # the inputs that force a replacement

    @property
    def outage(self) -> bool:
        return self.how in ("replaced", "deleted")

    def label(self) -> str:
        return {"in place": "reconfigured in place (no outage)",
                "replaced": "replaced (outage)", "created": "created (new host)",
                "deleted": "deleted (outage)"}[self.how]

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "how": self.how, "label": self.label(), "outage": self.outage,
                "why": list(self.why)}


def host_changes(changes: Iterable[ResourceChange], hosts: Iterable[str]) -> list[HostChange]:
    """Per host: replaced (its instance is, with the inputs that force it), else reconfigured
    in place (its ``HostConfig`` is updated: the new files are applied over SSH)."""
    instances: dict[str, ResourceChange] = {}
    configs: dict[str, ResourceChange] = {}
    names = set(hosts)
    for c in changes:
        if c.type in INSTANCE_TYPES and c.name in names:
            instances[c.name] = c
        elif c.type == HOST_CONFIG and c.name.removesuffix("-config") in names:
            configs[c.name.removesuffix("-config")] = c
    out = []
    for host in sorted(instances.keys() | configs.keys()):
        instance = instances.get(host)
        if instance is not None and instance.op in ("replace", "delete", "create"):
            how = {"replace": "replaced", "delete": "deleted", "create": "created"}[instance.op]
            out.append(HostChange(host, how, instance.replace_fields))
        elif host in configs and configs[host].op == "update":
            out.append(HostChange(host, "in place"))
    return out
