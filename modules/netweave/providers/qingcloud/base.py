"""What every QingCloud dynamic provider does the same way.

- ``check``: defaults filled in, input errors returned as CheckFailure (never raised);
  values still unknown at preview time are not judged.
- ``diff``: compares the declared inputs with the state; properties in ``replace_on``
  force a replacement, always *delete before replace* — names are deterministic and
  private addresses fixed, so old and new cannot coexist.
- ``create``: with ``adopt_id``, takes over that existing object once it matches the
  inputs (the engine's ``import_`` cannot reach a dynamic provider: see ``adopt_by_id``);
  otherwise adopts an object that already carries the deterministic name (a create the
  cloud accepted before the engine recorded it), or creates it.
- ``read``: refresh and ``pulumi import``: the cloud's view, inputs rebuilt from it.
- ``delete``: "not found" is done.

Providers hold no state at all: a connection is opened per operation from ``client.settings()``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from netweave.providers.qingcloud import client
from netweave.providers.qingcloud.client import Client, QingCloudError

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN
PROVIDER_KEY = "__provider"
ADOPT_KEY = "adopt_id"  # an input of the adoptable types, never diffed


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def integral(value: Any) -> Any:
    """gRPC carries every number as a double: give whole numbers back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def digest(value: Any) -> str:
    """A stable hash of a (secret) input: state keeps this, never the value."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class AdoptionError(QingCloudError):
    def __str__(self) -> str:
        return f"QingCloud {self.action}: {self.message}"


class Provider(ResourceProvider):
    """Base class; subclasses set the class attributes and implement the ``_`` methods."""

    kind: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]          # the inputs, in order
    required: ClassVar[tuple[str, ...]] = ("zone", "name")
    defaults: ClassVar[Mapping[str, Any]] = {}
    replace_on: ClassVar[frozenset[str]] = frozenset({"zone"})
    secret_fields: ClassVar[frozenset[str]] = frozenset()  # kept in state as sha256 only
    # Inputs the cloud fills in when left out (e.g. a default security group): None = any.
    cloud_defaults: ClassVar[frozenset[str]] = frozenset()
    # Inputs the cloud cannot show back (user data): an imported object is not judged on them.
    unreadable: ClassVar[frozenset[str]] = frozenset()
    # Inputs the object reads once, when it is created (user data: first boot). Later
    # changes are not changes of this object (Pulumi's ignore_changes, decided here so
    # that every diff — the engine's and netweave's offline one — agrees).
    first_boot_only: ClassVar[frozenset[str]] = frozenset()

    # --- engine entry points ------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        client.configure(req.config)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: integral(v) for k, v in news.items() if k != PROVIDER_KEY}
        for key, value in self.defaults.items():
            if inputs.get(key) is None:
                inputs[key] = copy.deepcopy(value)
        failures = [CheckFailure(key, f"{key} is required") for key in self.required
                    if inputs.get(key) in (None, "")]
        known = {k: v for k, v in inputs.items() if not is_unknown(v)}
        failures += [CheckFailure(prop, reason) for prop, reason in self.validate(known)]
        return CheckResult(inputs, failures)

    def changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        old, new = self.comparable(olds), self.comparable(news)
        return [k for k in self.fields
                if k not in self.first_boot_only
                and (old.get(k) != new.get(k) or is_unknown(new.get(k)))
                and not (k in self.cloud_defaults and new.get(k) is None)
                and not (k in self.unreadable and k not in olds and f"{k}_sha256" not in olds)]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self.changed(olds, news)
        replaces = [k for k in changed if k in self.replace_on]
        return DiffResult(changes=bool(changed), replaces=replaces,
                          delete_before_replace=bool(replaces) or None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        c = Client(inputs["zone"])
        adopt_id = props.get(ADOPT_KEY)
        resource_id = self.adopt_by_id(c, str(adopt_id), inputs) if adopt_id else self._create(c, inputs)
        return CreateResult(resource_id, self.outputs(c, resource_id, inputs))

    def adopt_by_id(self, c: Client, id_: str, inputs: dict[str, Any]) -> str:
        """Take over an existing object: what ``pulumi import`` / ``import_`` would do, here
        because the engine cannot import through a dynamic provider (its Read request for an
        import carries neither properties nor inputs, so the provider host cannot find the
        pickled provider: pulumi/pulumi#16175; tests/test_qingcloud_engine.py shows it).
        Like an import, it is refused when the object differs from the inputs; its name is
        then set to the deterministic one, and from here on the stack owns (and deletes) it."""
        found = self._read(c, id_, inputs)
        if found is None:
            raise AdoptionError(f"adopt {self.kind} {id_}", 2100, f"no {self.kind} {id_} in zone {c.zone}")
        reported = {k: v for k, v in self.state_inputs(found).items() if v is not None}
        want, have = self.comparable(inputs), self.comparable({**inputs, **reported})
        differ = [k for k in self.fields if k not in ("zone", "name") and k not in self.unreadable
                  and want.get(k) != have.get(k) and not (k in self.cloud_defaults and inputs.get(k) is None)]
        if differ:
            detail = "; ".join(f"{k} is {have.get(k)!r}, the topology says {want.get(k)!r}" for k in differ)
            raise AdoptionError(f"adopt {self.kind} {id_}", None, f"it differs from the topology: {detail}")
        if reported.get("name") != inputs.get("name"):
            self._update(c, id_, {}, inputs, {"name"})
        return id_

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        zone = props.get("zone") or props.get("__zone")
        if not zone:
            raise client.ConfigurationError("read needs the zone input (pulumi import: pass zone)")
        c = Client(zone)
        found = self._read(c, id_, self.inputs(props))
        if found is None:
            return ReadResult("", {})
        # What the cloud reports wins (drift shows); what it cannot report (a user data
        # hash, inputs left to defaults) is carried over from the state.
        known = {k: v for k, v in props.items() if k != PROVIDER_KEY and v is not None}
        reported = {k: v for k, v in self.state_inputs(found).items() if v is not None}
        inputs = {**{k: known[k] for k in self.fields if k in known}, **reported, "zone": zone}
        outs = {**known, **reported, "zone": zone, **self.outputs_from(found)}
        return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.inputs(news)
        c = Client(inputs["zone"])
        changed = set(self.changed(olds, news))
        self._update(c, id_, olds, inputs, changed)
        return UpdateResult(self.outputs(c, id_, inputs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        c = Client(props["zone"])
        try:
            self._delete(c, id_, props)
        except QingCloudError as exc:
            if not exc.not_found:
                raise

    # --- helpers for subclasses -----------------------------------------------------------

    def inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        values = {k: integral(props.get(k)) for k in self.fields}
        for key, value in self.defaults.items():
            if values.get(key) is None:
                values[key] = copy.deepcopy(value)
        return values

    def comparable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs as the diff sees them: secret ones by hash (the state keeps only that)."""
        values = self.inputs(props)
        for key in self.secret_fields:
            if f"{key}_sha256" in props and key not in props:
                values[key] = props[f"{key}_sha256"]
            elif values.get(key) is not None and not is_unknown(values[key]):
                values[key] = digest(values[key])
        return values

    def outputs(self, c: Client, resource_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """State: the inputs (secrets hashed) plus what the cloud says now."""
        found = self._read(c, resource_id, dict(inputs))
        outs = {k: v for k, v in inputs.items() if k not in self.secret_fields}
        for key in self.secret_fields:
            if inputs.get(key) is not None:
                outs[f"{key}_sha256"] = digest(inputs[key])
        if found is not None:
            outs.update(self.outputs_from(found))
        return outs

    def adopt(self, c: Client, name: str) -> dict[str, Any] | None:
        """The one live object with this name, None if there is none."""
        found = c.find_by_name(self.kind, name)
        if len(found) > 1:
            ids = ", ".join(str(f.get(client.KINDS[self.kind].id_key)) for f in found)
            raise AdoptionError(f"adopt {self.kind} {name}", None,
                                f"{len(found)} objects carry this name ({ids}); delete the extra "
                                "ones or `pulumi import` the right one")
        return found[0] if found else None

    def create_or_adopt(self, c: Client, name: str, action: str,
                        params: Mapping[str, Any], verb: str = "GET") -> tuple[str, dict[str, Any]]:
        """(id, create answer or {} when adopted). Never creates a second object of a name."""
        adopted: list[dict[str, Any]] = []

        def find() -> dict[str, Any] | None:
            item = self.adopt(c, name)
            if item is not None:
                adopted.append(item)
            return item

        answer = c.create(action, params, adopt=find, verb=verb)
        if answer is None:
            return str(adopted[-1][client.KINDS[self.kind].id_key]), {}
        return self.created_id(answer), answer

    # --- to implement ----------------------------------------------------------------------

    def validate(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def created_id(self, answer: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _create(self, c: Client, inputs: dict[str, Any]) -> str:
        raise NotImplementedError

    def _read(self, c: Client, id_: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
        return c.describe(self.kind, id_)

    def outputs_from(self, item: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def state_inputs(self, item: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _update(self, c: Client, id_: str, olds: Mapping[str, Any], inputs: dict[str, Any],
                changed: set[str]) -> None:
        raise NotImplementedError

    def _delete(self, c: Client, id_: str, props: Mapping[str, Any]) -> None:
        raise NotImplementedError
