"""Schema stage: raw YAML data -> :class:`~modules.model.Topology`, or findings saying why not.

Pydantic's errors are turned into findings in network terms with a location and a
hint: the nearest valid key for a typo, the network address for a CIDR with host bits
set. Literal secrets are refused here, before anything else looks at the data.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from modules.findings import Finding, finding
from modules.model import NAME_PATTERN, Topology
from modules.source import PathKey, Source

# Keys that would carry secret material. They are never part of the schema: secrets come
# from Pulumi secret config or are generated and kept (encrypted) in Pulumi state.
SECRET_KEYS = frozenset({
    "private_key", "privatekey", "private-key", "preshared_key", "presharedkey",
    "pre_shared_key", "psk_value", "password", "passwd", "secret", "secret_key",
    "access_key_id", "secret_access_key", "api_key", "apikey", "token", "shared_secret",
    "key_material",
})
_WG_KEY = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|-----BEGIN OpenVPN Static key")


def dotted(path: PathKey) -> str:
    """``("vpcs", "vpc01", "route_push", 0)`` -> ``vpcs.vpc01.route_push[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass
class SchemaResult:
    topology: Topology | None
    findings: list[Finding]


def _secret_hint(key: str) -> str:
    return ("remove it: WireGuard keys and PSKs are generated and kept encrypted in Pulumi "
            "state; passwords and cloud keys come from `pulumi config set --secret "
            f"netweave:<name>` (got a literal '{key}')")


def _strip_secrets(data: Any, path: PathKey, out: list[Finding]) -> Any:
    """Report and remove literal secrets, so the rest of the file can still be checked.

    Runs over every node of the file: scalars are screened inline (a child's path is
    built only for containers and suspects) and the regexes run only on text that can
    match (a WireGuard key is 44 characters, PEM blocks start with '-----BEGIN')."""
    if isinstance(data, dict):
        kept: dict[str, Any] = {}
        for raw_key, value in data.items():
            # YAML 1.2 reads a key like 10 as a number; names are text, and so is the path.
            key = raw_key if isinstance(raw_key, str) else str(raw_key)
            if key.lower() in SECRET_KEYS:
                out.append(finding("V504", f"'{key}' at {dotted((*path, key))} would put a secret "
                                   "into the topology file, which lives in git",
                                   (*path, key), _secret_hint(key), at_key=True))
                continue
            if isinstance(value, dict | list) or (isinstance(value, str) and _suspect(value)):
                kept[key] = _strip_secrets(value, (*path, key), out)
            else:
                kept[key] = value
        return kept
    if isinstance(data, list):
        return [_strip_secrets(v, (*path, i), out)
                if isinstance(v, dict | list) or (isinstance(v, str) and _suspect(v)) else v
                for i, v in enumerate(data)]
    if isinstance(data, str) and _suspect(data) and (
            _WG_KEY.match(data.strip()) or _PEM.search(data)):
        out.append(finding("V504", f"the value at {dotted(path)} looks like key material",
                           path, _secret_hint(str(path[-1]) if path else "value")))
        return "<redacted>"
    return data


_SCALARS = (int, float, bool, type(None))


def _plainly_clean(data: Any) -> bool:
    """True when no key is a secret's name, every key is text and no string could be
    key material: then :func:`_strip_secrets` would return the data unchanged and report
    nothing. One loop over a stack, no copies and no paths, so a clean 100k-prefix file
    costs a fraction of the full walk; anything unusual falls back to that walk."""
    stack = [data]
    pop, push, secret = stack.pop, stack.append, SECRET_KEYS
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            for key, value in node.items():
                if type(key) is not str or key.lower() in secret:
                    return False
                vkind = type(value)
                if vkind is str:
                    if len(value) >= 44 or "-----BEGIN" in value:
                        return False
                elif vkind is dict or vkind is list:
                    push(value)
                elif vkind not in _SCALARS:
                    return False
        elif kind is list:
            for value in node:
                vkind = type(value)
                if vkind is str:
                    if len(value) >= 44 or "-----BEGIN" in value:
                        return False
                elif vkind is dict or vkind is list:
                    push(value)
                elif vkind not in _SCALARS:
                    return False
        elif kind is str:
            if len(node) >= 44 or "-----BEGIN" in node:
                return False
        elif kind not in _SCALARS:
            return False
    return True


def _suspect(text: str) -> bool:
    """Whether the key-material patterns could match at all (cheap, exact pre-checks)."""
    return len(text) >= 44 or "-----BEGIN" in text


# --- walking the schema along an error location --------------------------------------

def _unwrap(ann: Any) -> Any:
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(members) == 1:
                ann = members[0]
                continue
        return ann


def _union_members(ann: Any) -> list[type[BaseModel]]:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(ann)
                if isinstance(a, type) and issubclass(a, BaseModel)]
    return []


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Keys as written in YAML (aliases) -> annotation."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _resolve(loc: tuple[Any, ...]) -> tuple[PathKey, Any]:
    """Map a pydantic error location to a document path and the schema type found there."""
    ann: Any = Topology
    path: list[str | int] = []
    for part in loc:
        ann = _unwrap(ann)
        if part == "[key]":
            continue
        members = _union_members(ann)
        if members and isinstance(part, str):
            chosen = [m for m in members if part in _tags(m)]
            if chosen:  # the discriminator value pydantic inserts into locations
                ann = chosen[0]
                continue
        path.append(part)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            ann = _fields(ann).get(str(part), Any)
        elif typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
        elif typing.get_origin(ann) is list:
            ann = typing.get_args(ann)[0]
        else:
            ann = Any
    return tuple(path), _unwrap(ann)


def _tags(model: type[BaseModel]) -> set[str]:
    field = model.model_fields.get("provider")
    if field is None:
        return set()
    return set(typing.get_args(field.annotation))


def nearest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate by spelling, for 'did you mean' hints."""
    pool = list(candidates)
    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered),
                                                               n=1, cutoff=cutoff)]
    return found[0] if found else None


_TYPE_WORDS = {
    "dict_type": "a mapping (key: value pairs)", "model_type": "a mapping (key: value pairs)",
    "list_type": "a list", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "bool_type": "true or false",
    "bool_parsing": "true or false", "string_type": "a string", "float_type": "a number",
}
_ADDRESS_ERRORS = {"invalid_cidr", "invalid_address", "invalid_interface",
                   "address_with_prefix", "address_type"}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def _schema_findings(exc: ValidationError) -> Iterator[Finding]:
    for err in exc.errors(include_url=False):
        kind = err["type"]
        loc = tuple(err["loc"])
        path, _ann = _resolve(loc)
        where = dotted(path)
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            parent_path, parent = _resolve(loc[:-1])
            key = str(path[-1]) if path else "?"
            valid = sorted(_fields(parent)) if isinstance(parent, type) and issubclass(
                parent, BaseModel) else []
            guess = nearest(key, valid)
            hint = f"did you mean '{guess}'?" if guess else (
                f"valid keys here: {', '.join(valid)}" if valid else None)
            yield finding("S101", f"unknown key '{key}' in {dotted(parent_path)}", path, hint,
                          at_key=True)
        elif kind == "missing":
            key = str(path[-1]) if path else "?"
            yield finding("S103", f"{dotted(path[:-1])} is missing the required key '{key}'",
                          path[:-1], f"add '{key}:'")
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            tags = ctx.get("expected_tags", "qingcloud, vultr")
            if kind == "union_tag_not_found":
                yield finding("S103", f"{where} does not say which cloud provider it is",
                              path, f"add 'provider:' with one of {tags}")
            else:
                got = ctx.get("tag", "?")
                guess = nearest(str(got), [t.strip(" '") for t in str(tags).split(",")])
                yield finding("S106", f"unknown cloud provider '{got}' at {where}",
                              (*path, "provider"),
                              f"did you mean '{guess}'?" if guess else f"use one of {tags}")
        elif kind in _ADDRESS_ERRORS:
            yield finding("S104", f"{where}: {err['msg']}", path, ctx.get("hint"))
        elif kind == "cidr_host_bits":
            yield finding("S105", f"{where}: {err['msg']}", path, ctx.get("hint"))
        elif kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
            yield finding("S106", f"'{err.get('input')}' at {where} is not a valid name", path,
                          "names start with a letter and hold letters, digits, '-', '_' or '.' "
                          "(at most 63)", at_key="[key]" in loc)
        elif kind == "literal_error":
            expected = ctx.get("expected", "")
            options = [o.strip(" '") for o in re.split(r",| or ", str(expected)) if o.strip(" '")]
            guess = nearest(str(err.get("input")), options)
            yield finding("S106", f"{where}: {_describe(err.get('input'))} is not allowed here",
                          path, f"did you mean '{guess}'?" if guess else f"expected {expected}")
        elif kind in _TYPE_WORDS:
            yield finding("S102", f"{where} should be {_TYPE_WORDS[kind]}, "
                          f"not {_describe(err.get('input'))}", path)
        else:
            yield finding("S106", f"{where}: {err['msg']}", path)
    return


def validate(source: Source) -> SchemaResult:
    """Build the topology model from loaded YAML, collecting every schema problem."""
    findings: list[Finding] = []
    if not isinstance(source.data, dict):
        findings.append(finding("S102", "the top level of a topology file must be a mapping "
                                f"(clouds:, vpcs:, ...), not {_describe(source.data)}", ()))
        return SchemaResult(None, findings)
    data = source.data if _plainly_clean(source.data) else _strip_secrets(source.data, (),
                                                                              findings)
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        findings.extend(_schema_findings(exc))
        return SchemaResult(None, findings)
    except RecursionError:
        findings.append(finding("S102", "the document is nested too deeply to be a topology", ()))
        return SchemaResult(None, findings)
    return SchemaResult(topology, findings)
