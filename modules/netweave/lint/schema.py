"""Schema stage: raw YAML data -> :class:`~netweave.model.topology.Topology`, or findings saying why not.

Pydantic's errors are turned into findings in network terms with a location and a
hint: the nearest valid key for a typo, the network address for a CIDR with host bits
set. Literal secrets are refused here, before anything else looks at the data.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from netweave.lint.findings import Finding, finding
from netweave.lint.secrets import SHORTEST, key_material
from netweave.lint.typos import NameIndex
from netweave.model.source import MAX_NUMBER_DIGITS, PathKey, Source, number_digits
from netweave.model.topology import NAME_PATTERN, Topology

# Keys that would carry secret material. They are never part of the schema: secrets come
# from Pulumi secret config or are generated and kept (encrypted) in Pulumi state.
SECRET_KEYS = frozenset({
    "private_key", "privatekey", "private-key", "preshared_key", "presharedkey",
    "pre_shared_key", "psk_value", "password", "passwd", "secret", "secret_key",
    "access_key_id", "secret_access_key", "api_key", "apikey", "token", "shared_secret",
    "key_material",
    # OpenVPN and other key files pasted inline
    "key", "static_key", "tls_auth", "tls_crypt", "tls_auth_key", "tls_crypt_key", "ta_key",
    "ca_key", "client_key", "server_key", "passphrase", "credentials", "api_token",
    "access_key", "secret_access_key_id",
})
# Keys whose schema value is a switch (``psk: true``): a string there is the secret itself.
SECRET_SWITCHES = frozenset({"psk"})
_PUTTY = "PuTTY-User-Key-File-"
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


# Mappings whose keys are object names, not settings: a vxnet may be called 'token'.
_NAME_MAPS = frozenset({"clouds", "vpcs", "vxnets", "hosts", "vcpes", "vpn_servers",
                        "security_groups"})


def _oversized(digits: int, path: PathKey, at_key: bool = False) -> Finding:
    return finding("S005", f"{dotted(path)}: a number of {digits:,} digits; no value in a "
                   f"topology has more than {MAX_NUMBER_DIGITS} (an AS number has 10)", path,
                   "check what was pasted here; quote it if it is text", at_key=at_key)


def _unusual(value: Any) -> bool:
    """Not a plain YAML scalar the schema can judge: a number too long to convert."""
    return number_digits(value) is not None


def _strip_secrets(data: Any, path: PathKey, out: list[Finding]) -> Any:
    """Report and remove literal secrets, so the rest of the file can still be checked.

    Runs over every node of the file: scalars are screened inline (a child's path is
    built only for containers and suspects) and the patterns run only on text that
    :func:`_suspect` lets through. Numbers too long to be converted to text are reported
    and removed here too (S005): nothing after this stage can print them."""
    digits = number_digits(data)
    if digits is not None:
        out.append(_oversized(digits, path))
        return None
    if isinstance(data, dict):
        kept: dict[str, Any] = {}
        names = bool(path) and path[-1] in _NAME_MAPS
        for raw_key, value in data.items():
            digits = number_digits(raw_key)
            if digits is not None:
                out.append(_oversized(digits, path))
                continue
            # YAML 1.2 reads a key like 10 as a number; names are text, and so is the path.
            key = raw_key if isinstance(raw_key, str) else str(raw_key)
            lowered = key.lower()
            if not names and (lowered in SECRET_KEYS or (lowered in SECRET_SWITCHES
                                                         and isinstance(value, str))):
                out.append(finding("V504", f"'{key}' at {dotted((*path, key))} would put a secret "
                                   "into the topology file, which lives in git",
                                   (*path, key), _secret_hint(key), at_key=True))
                continue
            if value is None:  # `key:` with nothing after it, or `key: ~`
                out.append(_null(path, key))
                kept[key] = value
            elif isinstance(value, dict | list) or (isinstance(value, str) and _suspect(value)) \
                    or _unusual(value):
                kept[key] = _strip_secrets(value, (*path, key), out)
            else:
                kept[key] = value
        return kept
    if isinstance(data, list):
        return [_strip_secrets(v, (*path, i), out)
                if isinstance(v, dict | list) or (isinstance(v, str) and _suspect(v))
                or _unusual(v) else v
                for i, v in enumerate(data)]
    material = key_material(data) if isinstance(data, str) else None
    if material:
        out.append(finding("V504", f"the value at {dotted(path)} looks like {material}",
                           path, _secret_hint(str(path[-1]) if path else "value")))
        return "<redacted>"
    return data


# and int, when short enough (see _plainly_clean); null is not among them: a null value
# takes the full walk, which reports it (_null)
_SCALARS = (float, bool)
_BIG = 10 ** MAX_NUMBER_DIGITS


def _null(path: PathKey, key: str) -> Finding:
    """No key takes null (the JSON Schema has no null branch either): an optional key is
    left out, so an empty value is a slip — often a value that went missing."""
    return finding("S102", f"{dotted((*path, key))} is empty (null)", (*path, key),
                   f"give '{key}' a value, or leave the key out (optional keys have defaults)")


def _plainly_clean(data: Any) -> bool:
    """True when no key is a secret's name, every key is text and no string could be
    key material: then :func:`_strip_secrets` would return the data unchanged and report
    nothing. One loop over a stack, no copies and no paths, so a clean 100k-prefix file
    costs a fraction of the full walk; anything unusual falls back to that walk."""
    stack = [data]
    pop, push, secret = stack.pop, stack.append, SECRET_KEYS | SECRET_SWITCHES
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            for key, value in node.items():
                # conservative: a switch, or a secret-named object in a name map, takes the walk
                if type(key) is not str or key.lower() in secret:
                    return False
                vkind = type(value)
                if vkind is str:
                    if _suspect(value):
                        return False
                elif vkind is dict or vkind is list:
                    push(value)
                elif vkind is int:
                    if not -_BIG < value < _BIG:
                        return False
                elif vkind not in _SCALARS:
                    return False
        elif kind is list:  # the dict branch's value test, inlined: a shared helper costs ~40%
            for value in node:
                vkind = type(value)
                if vkind is str:
                    if _suspect(value):
                        return False
                elif vkind is dict or vkind is list:
                    push(value)
                elif vkind is int:
                    if not -_BIG < value < _BIG:
                        return False
                elif vkind not in _SCALARS:
                    return False
        elif kind is str:
            if _suspect(node):
                return False
        elif kind is int:
            if not -_BIG < node < _BIG:
                return False
        elif kind not in _SCALARS:
            return False
    return True


def _suspect(text: str) -> bool:
    """Whether the text holds key material (:func:`~netweave.lint.secrets.key_material`);
    the length test first, so the short strings most of a stack is made of cost nothing."""
    return (len(text) >= SHORTEST or "-----BEGIN" in text or _PUTTY in text) \
        and key_material(text) is not None


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
    """The closest candidate by spelling, for 'did you mean' hints (one query; build a
    :class:`~netweave.lint.typos.NameIndex` to ask many against one pool)."""
    return NameIndex(candidates).nearest(word, cutoff)


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


def _without_missing_keys_explained_by_typos(findings: list[Finding]) -> list[Finding]:
    """`cdir:` for `cidr:` is one mistake: the unknown key whose hint names the missing key
    says it all, so the "missing 'cidr'" finding next to it is left out."""
    guessed = {(f.path[:-1], f.hint) for f in findings if f.code == "S101" and f.path}
    return [f for f in findings
            if not (f.code == "S103" and f.hint and f.hint.startswith("add '")
                    and (f.path, f"did you mean '{f.hint[5:-2]}'?") in guessed)]


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
            hint = (f"add '{key}:'" if path != ("version",) else
                    "add 'version: 1' at the top: the schema version the file is written for")
            owner = dotted(path[:-1]) if path[:-1] else "the file"
            yield finding("S103", f"{owner} is missing the required key '{key}'", path[:-1], hint)
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
                          f"not {_describe(err.get('input'))}", path, _TYPE_HINTS.get(_field(path)))
        elif kind in _BOUNDS:
            yield _out_of_range(path, where, err.get("input"), kind, ctx)
        elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
            yield _bad_length(path, where, err.get("input"), kind, ctx)
        elif kind == "string_pattern_mismatch" and _field(path) == "ports":
            yield finding("S106", f"{where}: '{err.get('input')}' is not a port or port range",
                          path, "write one port (443) or a range (8000-8100)")
        else:
            yield finding("S106", f"{where}: {err['msg']}", path, ctx.get("hint"))
    return


# --- messages in network terms for range and length errors ----------------------------

_BOUNDS = {"greater_than_equal": "ge", "less_than_equal": "le", "greater_than": "gt",
           "less_than": "lt"}
_PRIVATE_ASN_HINT = "use a private AS: 64512-65534 or 4200000000-4294967294"
# field -> (what it is, the allowed range in words, hint)
_RANGES: dict[str, tuple[str, str, str]] = {
    "asn": ("the AS number", "BGP AS numbers are 1 to 4294967295", _PRIVATE_ASN_HINT),
    "mtu": ("the MTU", "an MTU is 576 (the IPv4 minimum) to 9000 (jumbo frames)",
            "1500 for a normal underlay; leave tunnel MTUs out to get underlay minus overhead"),
    "port": ("the port", "UDP/TCP ports are 1 to 65535",
             "WireGuard listens on 51820 by default, OpenVPN on 1194"),
    "keepalive": ("the keepalive", "a keepalive is 0 (off) to 3600 seconds",
                  "25 seconds keeps NAT mappings open"),
}
_TYPE_HINTS = {
    "asn": "write the number alone, e.g. 65001 (not 'AS65001')",
    "psk": "psk: true adds a pre-shared key generated and kept in Pulumi state",
    "public_ip": "true gives the machine an EIP (QingCloud) / reserved IP (Vultr)",
    "advertise": "true announces the destination over BGP",
    "full_tunnel": "false keeps clients on a split tunnel (recommended)",
    "mtu": "a number of bytes, e.g. 1400", "port": "a number, e.g. 51820",
}
_LENGTH_WORDS: dict[str, tuple[str, str]] = {
    "nics": ("{owner} has no NICs: a vCPE needs at least its primary NIC",
             "add nics: [{vxnet: <vxnet>, address: <address>}]; the first NIC is the primary"),
    "zone": ("'{value}' is not a QingCloud zone", "zones look like pek3a, sh1a, gd2a"),
    "region": ("'{value}' is not a Vultr region", "regions look like ams, fra, sgp, ewr"),
}


def _field(path: PathKey) -> str:
    return next((str(p) for p in reversed(path) if isinstance(p, str)), "")


def _owner(path: PathKey) -> str:
    """The named object a path belongs to: ``("vcpes", "vcpe01", "nics")`` -> vcpe01."""
    return str(path[1]) if len(path) > 1 else dotted(path)


def _out_of_range(path: PathKey, where: str, value: Any, kind: str, ctx: dict[str, Any]) -> Finding:
    name = _field(path)
    limit = next((ctx[k] for k in ("ge", "le", "gt", "lt") if k in ctx), "?")
    side = "below" if kind in ("greater_than_equal", "greater_than") else "above"
    what, allowed, hint = _RANGES.get(name, (name or "the value", f"the limit is {limit}", ""))
    return finding("S106", f"{where}: {what} {value!r} is {side} {limit}: {allowed}", path,
                   hint or None)


def _bad_length(path: PathKey, where: str, value: Any, kind: str, ctx: dict[str, Any]) -> Finding:
    name = _field(path)
    if name in _LENGTH_WORDS:
        text, hint = _LENGTH_WORDS[name]
        return finding("S106", f"{where}: " + text.format(owner=_owner(path), value=value), path, hint)
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        need = "at least" if kind == "too_short" else "at most"
        return finding("S106", f"{where} needs {need} {bound} item{'s' if bound != 1 else ''}", path)
    bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
    need = "at least" if kind == "string_too_short" else "at most"
    return finding("S106", f"{where}: '{value}' is too {'short' if need == 'at least' else 'long'} "
                   f"({need} {bound} characters)", path)


def validate(source: Source) -> SchemaResult:
    """Build the topology model from loaded YAML, collecting every schema problem."""
    findings: list[Finding] = []
    if not isinstance(source.data, dict):
        findings.append(finding("S102", "the top level of a topology file must be a mapping "
                                f"(clouds:, vpcs:, ...), not {_describe(source.data)}", ()))
        return SchemaResult(None, findings)
    data = source.data if _plainly_clean(source.data) else _strip_secrets(source.data, (),
                                                                              findings)
    nulls = {f.path for f in findings if f.code == "S102" and f.message.endswith("is empty (null)")}
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        # a value already reported as too long (S005) or empty (null) is not also of the
        # wrong type
        said = {f.path for f in findings if f.code == "S005"} | nulls
        findings.extend(f for f in _without_missing_keys_explained_by_typos(
            list(_schema_findings(exc))) if f.path not in said)
        return SchemaResult(None, findings)
    except RecursionError:
        findings.append(finding("S102", "the document is nested too deeply to be a topology", ()))
        return SchemaResult(None, findings)
    if nulls:
        return SchemaResult(None, findings)
    return SchemaResult(topology, findings)
