"""The topology schema: what a stack file may say, in the cloud consoles' words.

This layer only checks *shape* (keys, types, address syntax). Whether the design
works — addresses inside their vxnets, next hops that exist, paths both ways — is
lint's job (``netweave.lint``), which works on the objects defined here.
"""

from __future__ import annotations

import functools
import re
import socket
from typing import Annotated, Any, Literal

import netaddr
from netaddr.strategy import ipv4 as _IPV4
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

SCHEMA_VERSION = 1

# --- scalar types ---------------------------------------------------------------------

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$"
# yaml-language-server shows ``patternErrorMessage`` instead of "String does not match the
# pattern of <regex>" (its JSON Schema extension; other validators ignore the keyword and
# have the property's description and the $defs name: Cidr, Address, ...).
NAME_MESSAGE = ("not a valid name: start with a letter, then letters, digits, '-', '_' or '.' "
                "(at most 63 characters)")
_NAME = re.compile(NAME_PATTERN)
Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN,
                    "patternErrorMessage": NAME_MESSAGE,
                    "description": "a name: letters, digits, '-', '_', '.'; starts with a letter"}),
]

def _text(value: Any, what: str) -> str:
    # Strict, as the JSON Schema says ("type": "string"): a number is not an address.
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "expected {what} as a string, got {got}",
                                  {"what": what, "got": type(value).__name__})
    return value.strip()


def _ipv4(text: str) -> int | None:
    """Dotted-quad IPv4 -> int, strictly (no leading zeros, no short forms); else None.

    netaddr's own parser costs ~12 us an address; stacks carry 100,000 of them. For
    ASCII text the C parser inet_pton has exactly this grammar (4x faster again).
    """
    if text.isascii():
        try:
            return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        except (OSError, ValueError):  # not dotted-quad; ValueError: a NUL in the text
            return None
    # other Unicode digits ('١') are digits to str.isdigit/int: keep the old reading
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part.isdigit() or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value << 8 | octet
    return value


def _split_prefix(text: str) -> tuple[str, int] | None:
    address, slash, length = text.partition("/")
    if not slash or not length.isdigit() or len(length) > 3:
        return None
    return address, int(length)


class IPNetwork(netaddr.IPNetwork):  # type: ignore[misc]  # netaddr has no type hints
    """A ``netaddr.IPNetwork`` whose ``first`` and ``last`` addresses are computed once.

    netaddr recomputes them (masks and all) on every access, and ``hash``, ``==`` and
    sorting go through them too; lint reads them hundreds of thousands of times on a big
    stack. Same class name, so ``repr`` is unchanged; every way netaddr changes a network
    in place (setters, ``+=``, unpickling) recomputes the span.
    """

    __slots__ = ("first", "last")
    first: int
    last: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._span()

    @classmethod
    def from_ipv4(cls, value: int, prefixlen: int) -> IPNetwork:
        """``IPNetwork((value, prefixlen), version=4)`` for a value and length already
        checked (0 <= value < 2**32, 0 <= prefixlen <= 32), without netaddr's argument
        sniffing: 4x cheaper, and stacks carry tens of thousands of networks."""
        net = cls.__new__(cls)
        net._value = value
        net._prefixlen = prefixlen
        net._module = _IPV4
        net._span()
        return net

    def _span(self) -> None:
        module = self._module
        hostmask = (1 << (module.width - self._prefixlen)) - 1
        self.first = self._value & (module.max_int ^ hostmask)
        self.last = self._value | hostmask

    def __setstate__(self, state: Any) -> None:
        super().__setstate__(state)
        self._span()

    def __iadd__(self, num: int) -> IPNetwork:
        super().__iadd__(num)
        self._span()
        return self

    def __isub__(self, num: int) -> IPNetwork:
        super().__isub__(num)
        self._span()
        return self

    def _set_value(self, value: int) -> None:
        super()._set_value(value)
        self._span()

    def _set_prefixlen(self, value: int) -> None:
        super()._set_prefixlen(value)
        self._span()

    value = property(lambda self: self._value, _set_value)
    prefixlen = property(lambda self: self._prefixlen, _set_prefixlen)


# Parsed values are shared between equal strings (a vxnet CIDR reappears as a route push
# destination and an advertisement): treat netaddr objects from the model as immutable.
@functools.lru_cache(maxsize=1 << 18)
def _network(text: str) -> netaddr.IPNetwork | None:
    split = _split_prefix(text)
    if split is None:
        return None
    value = _ipv4(split[0])
    if value is not None:
        if split[1] > 32:
            return None
        return IPNetwork.from_ipv4(value, split[1])
    if ":" not in split[0]:
        return None
    try:
        return IPNetwork(text, version=6)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=1 << 18)
def _address(text: str) -> netaddr.IPAddress | None:
    value = _ipv4(text)
    if value is not None:
        return netaddr.IPAddress(value, 4)
    if ":" not in text:
        return None
    try:
        return netaddr.IPAddress(text, 6, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=1 << 18)
def _network_has_host_bits(text: str) -> bool:
    net = _network(text)
    return net is not None and net.ip != net.network


@functools.lru_cache(maxsize=1 << 18)
def _valid_cidr(value: str) -> netaddr.IPNetwork | None:
    """The network a text names when it is a valid CIDR without host bits, else None
    (parse_cidr then works out what is wrong). One cache hit per value on big stacks."""
    net = _network(value.strip())
    return net if net is not None and net.value == net.first else None


@functools.lru_cache(maxsize=1 << 18)
def _valid_address(value: str) -> netaddr.IPAddress | None:
    text = value.strip()
    return None if "/" in text else _address(text)


def parse_cidr(value: Any) -> netaddr.IPNetwork:
    """A network in CIDR notation whose host bits are zero (``192.168.128.0/24``)."""
    if type(value) is str:
        found = _valid_cidr(value)
        if found is not None:
            return found
    elif isinstance(value, netaddr.IPNetwork):
        return value
    text = _text(value, "a network like 192.168.128.0/24")
    net = _network(text)
    if net is not None and not _network_has_host_bits(text):
        return net
    if net is None:
        if "/" not in text and _address(text) is not None:
            raise PydanticCustomError(
                "invalid_cidr", "'{value}' is an address; a network with a prefix length is "
                "expected here", {"value": text, "hint": f"e.g. {text}/24 (the whole vxnet) or "
                                                         f"{text}/32 (just this address)"})
        raise PydanticCustomError(
            "invalid_cidr", "'{value}' is not a valid network in CIDR notation",
            {"value": text, "hint": "write the network with its prefix length, "
                                    "e.g. 192.168.128.0/24"})
    raise PydanticCustomError(
        "cidr_host_bits",
        "'{value}' has host bits set: a /{prefixlen} network starts at {network}",
        {"value": text, "prefixlen": net.prefixlen, "network": str(net.network),
         "hint": f"did you mean {net.cidr}?"})


def parse_interface(value: Any) -> netaddr.IPNetwork:
    """An interface address with its prefix length (``169.254.10.1/30``)."""
    if type(value) is str:
        found = _network(value.strip())
        if found is not None:
            return found
    elif isinstance(value, netaddr.IPNetwork):
        return value
    text = _text(value, "an interface address like 169.254.10.1/30")
    net = _network(text)
    if net is None:
        hint = (f"add the prefix length, e.g. {text}/30" if _address(text) is not None
                else "e.g. 169.254.10.1/30")
        raise PydanticCustomError(
            "invalid_interface", "'{value}' is not an address with a prefix length",
            {"value": text, "hint": hint})
    return net


def parse_address(value: Any) -> netaddr.IPAddress:
    """A single address (``192.168.128.2``)."""
    if type(value) is str:
        found = _valid_address(value)
        if found is not None:
            return found
    elif isinstance(value, netaddr.IPAddress):
        return value
    text = _text(value, "an address like 192.168.128.2")
    if "/" in text:
        raise PydanticCustomError(
            "address_with_prefix", "'{value}' is a network; an address is expected here",
            {"value": text, "hint": f"did you mean {text.split('/')[0]}?"})
    address = _address(text)
    if address is None:
        raise PydanticCustomError("invalid_address", "'{value}' is not a valid IP address",
                                  {"value": text, "hint": "e.g. 192.168.128.2"})
    return address


# What editors can check while typing (the YAML language server applies these patterns);
# host bits and everything semantic are lint's job.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_V6 = r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}"
_V4_LEN, _V6_LEN = r"(3[0-2]|[12]?[0-9])", r"(12[0-8]|1[01][0-9]|[1-9]?[0-9])"
ADDRESS_PATTERN = rf"^({_V4}|{_V6})$"
PREFIX_PATTERN = rf"^({_V4}/{_V4_LEN}|{_V6}/{_V6_LEN})$"

Cidr = Annotated[
    netaddr.IPNetwork,
    BeforeValidator(parse_cidr),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": PREFIX_PATTERN,
                    "patternErrorMessage": "not a network in CIDR notation: an IPv4 address "
                                           "(four numbers 0-255) and a prefix length 0-32, "
                                           "e.g. 192.168.128.0/24",
                    "description": "a network, e.g. 192.168.128.0/24"}),
]
Interface = Annotated[
    netaddr.IPNetwork,
    BeforeValidator(parse_interface),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": PREFIX_PATTERN,
                    "patternErrorMessage": "not an interface address: an IPv4 address (four "
                                           "numbers 0-255) and its prefix length 0-32, "
                                           "e.g. 169.254.10.1/30",
                    "description": "an interface address with prefix, e.g. 169.254.10.1/30"}),
]
Address = Annotated[
    netaddr.IPAddress,
    BeforeValidator(parse_address),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": ADDRESS_PATTERN,
                    "patternErrorMessage": "not an IP address: four numbers 0-255 separated by "
                                           "dots, without a prefix length, e.g. 192.168.128.2",
                    "description": "an IP address, e.g. 192.168.128.2"}),
]


def parse_next_hop(value: Any) -> netaddr.IPAddress | str:
    """A route push's next hop: an address, or the name of the vCPE / VPN server whose
    address in the pushing VPC it is (``next_hop: vultr-vcpe``). Names start with a letter
    and hold no ':', so no text is both; the name form is how a push points at an address
    the cloud assigns at deploy (a Vultr VPC address)."""
    if type(value) is str and _valid_address(value) is None:
        text = value.strip()
        if text[:1].isalpha() and ":" not in text:
            if _NAME.match(text):
                return text
            raise PydanticCustomError(
                "invalid_next_hop", "'{value}' is neither an IP address nor the name of a vCPE "
                "or VPN server", {"value": text, "hint": "write an address (192.168.128.2) or "
                                  "the router's name (vultr-vcpe: its address in this VPC)"})
    return parse_address(value)


NextHop = Annotated[
    netaddr.IPAddress | str,
    BeforeValidator(parse_next_hop),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string",
                    "pattern": rf"^(({_V4}|{_V6})|{NAME_PATTERN[1:-1]})$",
                    "patternErrorMessage": "not an IP address (e.g. 192.168.128.2) nor the name of "
                                           "a vCPE or VPN server",
                    "description": "an IP address, or the name of the vCPE or VPN server whose "
                                   "address in this VPC it is (required where the cloud assigns "
                                   "that address at deploy: Vultr)"}),
]


# --- numbers, strictly as JSON Schema reads them ---------------------------------------
# Types are strict (``Strict.model_config``): ``true`` is not a number, ``"65001"`` is not
# a number and ``1400`` is not a string, in lint exactly as in the JSON Schema editors
# check against. JSON Schema's "integer" is any number without a fractional part
# (2020-12 core, section 6.3: 1.0 is an integer), so a whole float is read as that int.

def _whole_number(value: Any) -> Any:
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _version_number(value: Any) -> Any:
    # Literal[1] matches True (True == 1 in Python); JSON Schema's const does not.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer", {})
    return _whole_number(value)


WholeNumber = BeforeValidator(_whole_number)
# (the bounds come before the validator: after it, pydantic leaves them out of the schema)
Asn = Annotated[int, Field(ge=1, le=4294967295, description="BGP AS number (1-4294967295)"),
                WholeNumber]
Mtu = Annotated[int, Field(ge=576, le=9000, description="MTU in bytes"), WholeNumber]
Port = Annotated[int, Field(ge=1, le=65535), WholeNumber]
Seconds = Annotated[int, Field(ge=0, le=3600), WholeNumber]
PORT_RANGE_PATTERN = r"^\d{1,5}(-\d{1,5})?$"


def _port_range(value: Any) -> Any:
    """``ports: 443`` is as natural as ``ports: "8000-8100"``: a whole number is its text."""
    value = _whole_number(value)
    return str(value) if type(value) is int and 0 <= value <= 99999 else value


# A port or a range: text matching the pattern, or a number that reads as such text.
PortRange = Annotated[
    str,
    StringConstraints(pattern=PORT_RANGE_PATTERN),
    BeforeValidator(_port_range),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": PORT_RANGE_PATTERN,
                               "patternErrorMessage": "not a port or a port range: one port "
                                                      "(443) or a range (8000-8100)"},
                              {"type": "integer", "minimum": 0, "maximum": 99999}],
                    "description": "a port (443) or a range (8000-8100)"}),
]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True,
                              populate_by_name=True, hide_input_in_errors=True, strict=True)


def _text_field(description: str) -> Any:
    """An optional free-text key (``description:``): absent by default."""
    return Field(None, description=description)


NOTE = "a note for people reading the stack; netweave only shows it"

# --- clouds ---------------------------------------------------------------------------

class QingCloud(Strict):
    """A QingCloud zone (e.g. ``pek3a``, ``sh1a``, ``gd2a``)."""

    provider: Literal["qingcloud"] = Field(description="the cloud provider: qingcloud")
    zone: Annotated[str, StringConstraints(min_length=2, max_length=32)] = Field(
        description="the QingCloud zone, e.g. pek3a, sh1a, gd2a")
    mtu: Mtu = Field(1500, description="MTU of the public underlay the tunnels ride on")


class Vultr(Strict):
    """A Vultr location (e.g. ``ams``, ``fra``, ``sgp``)."""

    provider: Literal["vultr"] = Field(description="the cloud provider: vultr")
    region: Annotated[str, StringConstraints(min_length=2, max_length=16)] = Field(
        description="the Vultr region, e.g. ams, fra, sgp, ewr")
    mtu: Mtu = Field(1500, description="MTU of the public underlay the tunnels ride on")


Cloud = Annotated[QingCloud | Vultr, Field(discriminator="provider")]


# --- VPCs -----------------------------------------------------------------------------

class Vxnet(Strict):
    """A subnet of a VPC: a QingCloud vxnet, or the subnet of a Vultr VPC."""

    cidr: Cidr = Field(description="the vxnet's network, inside its VPC (QingCloud: a /24)")
    description: str | None = _text_field(NOTE)


class RoutePush(Strict):
    """A route the VPC pushes to its VMs: destination -> next hop.

    On QingCloud, ``mechanism`` says how (see the README, "Deploying with Pulumi"):
    ``instance`` (default; the console's 路由推送 → 添加云服务器路由) gives the route to each
    declared host of the receiving vxnets that names its ``instance`` (a DHCP option per
    instance); ``route-table`` puts it in the VPC route table bound to the next hop's
    vxnet (the default table: every vxnet of the VPC), so the VPC router forwards the
    packets of every VM, VMs created later included. Vultr workloads get pushes from
    cloud-init whatever the mechanism. By default a push goes to the vxnet(s) of this VPC
    that contain the next hop; ``vxnets`` narrows that (per-instance pushes only).
    ``next_hop`` is an address, or a vCPE / VPN server name standing for its address in
    this VPC — the only way to name an address Vultr assigns at deploy.
    """

    destination: Cidr = Field(description="the network the VMs route via the next hop")
    next_hop: NextHop = Field(
        description="where the VMs send it: a vCPE NIC (or VPN server) address in this VPC, or "
                    "the router's name (its address in this VPC; on Vultr, which assigns that "
                    "address at deploy, only the name)")
    vxnets: list[Name] | None = Field(
        None, description="vxnets whose VMs receive the route (default: the vxnet of the next hop)")
    mechanism: Literal["instance", "route-table"] | None = Field(
        None, description="QingCloud: instance (default; a DHCP option per declared instance, as the "
                          "console's route push) or route-table (the VPC route table: every VM, later "
                          "ones included)")
    description: str | None = _text_field(NOTE)


class Vpc(Strict):
    """A VPC (QingCloud VPC network / Vultr VPC) and the routes it pushes to its VMs."""

    cloud: Name = Field(description="the cloud (zone/region) this VPC lives in")
    cidr: Cidr = Field(description="the VPC's address range (QingCloud: a /16 of 192.168/16 or 172.16-31)")
    vxnets: dict[Name, Vxnet] = Field(default_factory=dict,
                                      description="the VPC's subnets, by name")
    route_push: list[RoutePush] = Field(default_factory=list,
                                        description="routes the VPC hands its VMs (DHCP option 121)")
    description: str | None = _text_field(NOTE)


# --- hosts and routers ----------------------------------------------------------------

INSTANCE_ID_PATTERN = r"^i-[a-z0-9]{8}$"


class InstanceRef(Strict):
    """The existing QingCloud instance a host is: by ``id``, by exact ``name``, or found by
    the host's address in its vxnet (``lookup: address``), at deploy time."""

    id: Annotated[str, StringConstraints(pattern=INSTANCE_ID_PATTERN)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    lookup: Literal["address"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_as_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            if not re.fullmatch(INSTANCE_ID_PATTERN, data):
                raise PydanticCustomError(
                    "instance_ref", "'{value}' is not a QingCloud instance id (i- and 8 letters or "
                    "digits)", {"value": data, "hint": f"to find the instance by its name write "
                                                      f"{{name: {data}}}"})
            return {"id": data}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> InstanceRef:
        given = [k for k in ("id", "name", "lookup") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "instance_ref", "an instance is named one way: an id (i-abcd1234), {name: ...} or "
                "{lookup: address}; got {given}", {"given": ", ".join(given) or "nothing"})
        return self

    def as_input(self) -> dict[str, Any]:
        """How the deploy passes it on: {"id": ...}, {"name": ...} or {"address": True}."""
        if self.id is not None:
            return {"id": self.id}
        if self.name is not None:
            return {"name": self.name}
        return {"address": True}


InstanceRefField = Annotated[
    InstanceRef,
    WithJsonSchema({"description": "an existing QingCloud instance: its id, {name: NAME} or "
                                   "{lookup: address}",
                    "anyOf": [{"type": "string", "pattern": INSTANCE_ID_PATTERN,
                               "patternErrorMessage": "not a QingCloud instance id: i- and 8 "
                                                      "lowercase letters or digits, e.g. i-abcd1234"},
                              {"type": "object",
                               "properties": {"name": {"type": "string", "minLength": 1,
                                                       "description": "the instance's exact name"}},
                               "required": ["name"], "additionalProperties": False},
                              {"type": "object",
                               "properties": {"lookup": {"const": "address",
                                                         "description": "address: the instance "
                                                                        "holding the host's "
                                                                        "address in its vxnet"}},
                               "required": ["lookup"], "additionalProperties": False}]}),
]


class Host(Strict):
    """A workload VM: used for reachability checks and emulation. netweave does not create
    it; ``instance`` names the QingCloud instance it is, for per-instance route pushes. It
    lives in a vxnet of a VPC, or in the LAN of a site (exactly one of ``vxnet`` and ``site``)."""

    vxnet: Name | None = Field(None, description="the vxnet the VM is in")
    site: Name | None = Field(None, description="the site whose LAN the host is in (instead of vxnet)")
    address: Address = Field(description="the VM's private address in its vxnet or site LAN")
    instance: InstanceRefField | None = Field(
        None, description="QingCloud: the existing instance this host is (route pushes with "
                          "mechanism instance are delivered to it)")
    security_groups: list[Name] = Field(default_factory=list,
                                        description="security groups applied to the VM")
    description: str | None = _text_field(NOTE)


class Nic(Strict):
    """A vCPE NIC; the first is the primary NIC. QingCloud: a fixed private address the
    topology gives (required). Vultr: the address is assigned by Vultr when the instance
    attaches to the VPC (the attach call has no address field), so it is left out and
    everything that needs it reads it after deploy (lint A211/A212)."""

    vxnet: Name = Field(description="the vxnet this NIC is in")
    address: Address | None = Field(
        None, description="the NIC's fixed private address in that vxnet (QingCloud: required); "
                          "left out on Vultr, which assigns the VPC address at deploy")
    mtu: Mtu | None = Field(None, description="the NIC's MTU (default: the cloud's); QingCloud only: "
                                              "Vultr's VPC MTU comes from its metadata, via cloud-init")


class StaticRoute(Strict):
    """A route on the vCPE itself. Without ``next_hop`` the destination must be a
    network the vCPE is connected to (the console's 'advertise a connected vxnet')."""

    destination: Cidr = Field(description="the network this route leads to")
    next_hop: Address | None = Field(
        None, description="an on-link router (default: none, the destination is connected)")
    advertise: bool = Field(False, description="announce this destination over BGP")
    description: str | None = _text_field(NOTE)


class Bgp(Strict):
    """eBGP on the vCPE: it speaks to every tunnel peer that has bgp too."""

    asn: Asn = Field(description="the vCPE's AS number (private: 64512-65534 or 4200000000-4294967294)")
    router_id: Address | None = Field(
        None, description="default: the primary NIC address; where the cloud assigns it "
                          "(Vultr), the vCPE's lowest tunnel address")
    advertise: list[Cidr] = Field(default_factory=list,
                                  description="prefixes announced to every BGP peer")
    transit: bool = Field(
        False, description="this vCPE passes prefixes it learns from one BGP peer on to its "
                           "others (a transit hub); without it, advertising a peer's prefix is "
                           "a lint warning (R316)")


class Vcpe(Strict):
    """A router VM: routes between its NICs and the tunnels, and speaks BGP."""

    nics: Annotated[list[Nic], Field(min_length=1)] = Field(
        description="the vCPE's NICs; the first is the primary (default route, public IP)")
    bgp: Bgp | None = Field(None, description="BGP settings (default: no BGP)")
    static_routes: list[StaticRoute] = Field(default_factory=list,
                                             description="routes on the vCPE itself")
    public_ip: bool = Field(True, description="QingCloud EIP / Vultr reserved IP for tunnel endpoints")
    instance_type: str | None = Field(None, description="QingCloud instance type / Vultr plan")
    image: str | None = Field(None, description="QingCloud image id / Vultr OS name")
    security_groups: list[Name] = Field(default_factory=list,
                                        description="security groups applied to the vCPE")
    ssh_from: list[Cidr] = Field(default_factory=list, description="networks allowed to SSH in")
    description: str | None = _text_field(NOTE)


# --- sites ----------------------------------------------------------------------------

class Site(Strict):
    """A network outside every cloud (an office, a home, the VMs on a laptop) joined by a
    gateway the user runs, a Linux box: netweave renders its configuration, the user
    copies it there. Hosts at the site route the clouds' prefixes through the gateway."""

    lan: Annotated[list[Cidr], Field(min_length=1)] = Field(
        description="the site's LAN prefixes; the first holds the gateway and the site's hosts")
    gateway: Address = Field(description="the gateway's address in the LAN: the router the site's "
                                         "hosts send the clouds' prefixes to")
    nat: bool = Field(False, description="behind NAT, no public address: the cloud end of a tunnel "
                                         "has no endpoint for it; the site starts the tunnel and "
                                         "keeps it alive")
    public_address: Address | None = Field(
        None, description="the gateway's public address (required unless nat is true)")
    mtu: Mtu = Field(1500, description="MTU of the site's internet uplink the tunnels ride on")
    bgp: Bgp | None = Field(None, description="BGP on the gateway (default: no BGP)")
    static_routes: list[StaticRoute] = Field(default_factory=list,
                                             description="routes on the gateway itself")
    description: str | None = _text_field(NOTE)


# --- tunnels --------------------------------------------------------------------------

class TunnelEnd(Strict):
    """One end of a tunnel: a vCPE, or a site's gateway (exactly one of the two)."""

    vcpe: Name | None = Field(None, description="the vCPE at this end")
    site: Name | None = Field(None, description="the site whose gateway is this end (instead of vcpe)")
    address: Interface = Field(description="tunnel interface address, e.g. 169.254.10.1/30")

    @property
    def node(self) -> str:
        """The router at this end: the vCPE or the site (names are unique in a file)."""
        return self.vcpe or self.site or ""


class Tunnel(Strict):
    """A point-to-point tunnel between two vCPEs; BGP runs over it when both have bgp."""

    name: Name | None = Field(None, description="the tunnel's name (default: its two vCPEs)")
    type: Literal["wireguard", "openvpn", "ipsec"] = Field(
        "wireguard", description="the tunnel protocol: wireguard | openvpn | ipsec (IKEv2, "
                                 "route-based: an XFRM interface per tunnel, PSK generated and kept "
                                 "in Pulumi state)")
    ends: list[TunnelEnd] = Field(description="exactly two ends, on two different vCPEs")
    transport: Literal["internet", "private"] = Field(
        "internet", description="internet: over public addresses; private: over a shared VPC")
    mtu: Mtu | None = Field(None, description="default: underlay MTU minus the tunnel overhead")
    port: Port | None = Field(None, description="UDP port (default: 51820 WireGuard, 1194 OpenVPN; "
                                                "IPsec always uses IKE's UDP 500 and 4500)")
    keepalive: Seconds = Field(25, description="seconds between keepalives; 0: off (IPsec: the dead "
                                               "peer detection interval)")
    psk: bool = Field(False, description="add a generated pre-shared key (kept in Pulumi state); "
                                         "IPsec always has one")
    description: str | None = _text_field(NOTE)

    def label(self, index: int) -> str:
        if self.name:
            return self.name
        vcpes = [e.node for e in self.ends]
        return "--".join(vcpes) if vcpes else f"tunnel{index}"


# --- remote access --------------------------------------------------------------------

class VpnServer(Strict):
    """A remote-access VPN host that users dial into."""

    type: Literal["openvpn", "wireguard", "l2tp", "pptp"] = Field(
        description="the VPN protocol (pptp is refused: it is broken)")
    vxnet: Name = Field(description="the vxnet the VPN server is in")
    address: Address | None = Field(
        None, description="the server's private address in that vxnet (QingCloud: required); "
                          "left out on Vultr, which assigns the VPC address at deploy")
    client_pool: Cidr = Field(description="the network clients get their addresses from")
    push_networks: list[Cidr] = Field(default_factory=list,
                                      description="networks routed to clients (split tunnel)")
    full_tunnel: bool = Field(False, description="send all client traffic through the VPN")
    port: Port | None = Field(None, description="listen port (default: the protocol's)")
    mtu: Mtu | None = Field(None, description="the tunnel MTU (default: underlay minus overhead)")
    clients: list[Name] = Field(default_factory=list, description="client profiles to issue")
    public_ip: bool = Field(True, description="give the server a public IP clients dial")
    description: str | None = _text_field(NOTE)


# --- security groups ------------------------------------------------------------------

class SecurityGroupRule(Strict):
    """One rule of a security group."""

    action: Literal["accept", "drop"] = Field("accept", description="accept or drop matching packets")
    direction: Literal["ingress", "egress"] = Field("ingress", description="inbound or outbound")
    protocol: Literal["tcp", "udp", "icmp", "any"] = Field("any", description="the IP protocol")
    ports: PortRange | None = Field(None, description="a port (443) or a range (8000-8100); default: all")
    source: Cidr = Field(default_factory=lambda: netaddr.IPNetwork("0.0.0.0/0"),
                         description="the peer network (default: anywhere, 0.0.0.0/0)")
    description: str | None = _text_field(NOTE)


class SecurityGroup(Strict):
    """A QingCloud security group / Vultr firewall group."""

    rules: list[SecurityGroupRule] = Field(default_factory=list,
                                           description="the group's rules, in order")
    description: str | None = _text_field(NOTE)


# --- intent ---------------------------------------------------------------------------

class IntentPair(Strict):
    """Endpoints are host, vxnet or VPC names (a vxnet or VPC means all its hosts)."""

    from_: Name = Field(alias="from", description="a host, vxnet or VPC name")
    to: Name = Field(description="a host, vxnet or VPC name")
    description: str | None = _text_field(NOTE)


class Intent(Strict):
    """What must and must not reach what: lint checks it on every change."""

    must_reach: list[IntentPair] = Field(
        default_factory=list, description="pairs that must reach each other, checked both ways")
    must_not_reach: list[IntentPair] = Field(
        default_factory=list, description="pairs between which no packet may pass, either way")


# --- the document ---------------------------------------------------------------------

class Topology(Strict):
    """One stack: everything netweave deploys, renders, lints and emulates."""

    model_config = ConfigDict(title="netweave topology", extra="forbid", frozen=True,
                              arbitrary_types_allowed=True, populate_by_name=True,
                              hide_input_in_errors=True, strict=True)

    # Required: a file says which schema it is written for (a later version can change
    # meanings; lint and editors both refuse a file that does not say).
    version: Annotated[Literal[1], BeforeValidator(_version_number)] = Field(
        description="the schema version this file is written for: 1")
    name: Name | None = Field(None, description="the stack's name (default: the file name)")
    description: str | None = _text_field(NOTE)
    clouds: dict[Name, Cloud] = Field(description="clouds (a QingCloud zone, a Vultr region), by name")
    vpcs: dict[Name, Vpc] = Field(default_factory=dict, description="VPCs, by name")
    hosts: dict[Name, Host] = Field(default_factory=dict,
                                    description="workload VMs checked for reachability, by name")
    vcpes: dict[Name, Vcpe] = Field(default_factory=dict, description="router VMs (vCPEs), by name")
    sites: dict[Name, Site] = Field(
        default_factory=dict, description="networks outside the clouds, joined by a gateway the user runs")
    tunnels: list[Tunnel] = Field(default_factory=list, description="tunnels between vCPEs and sites")
    vpn_servers: dict[Name, VpnServer] = Field(default_factory=dict,
                                               description="remote-access VPN servers, by name")
    security_groups: dict[Name, SecurityGroup] = Field(default_factory=dict,
                                                       description="security groups, by name")
    intent: Intent | None = Field(None, description="reachability the design must keep")

    def router(self, name: str) -> Vcpe | Site | None:
        """The router at a tunnel end: a vCPE or a site's gateway (both speak BGP, both
        have static routes)."""
        return self.vcpes.get(name) or self.sites.get(name)


class _EditorSchema(GenerateJsonSchema):
    """An optional key is left out, never written as null (lint refuses null, S102): no
    ``anyOf [X, {"type": "null"}]`` branch, whose second half only adds noise to every
    message a validator prints about X."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])


def _without_null_defaults(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None:
            del node["default"]
        for value in node.values():
            _without_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _without_null_defaults(value)


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use (yaml-language-server) to complete and check stacks."""
    schema = Topology.model_json_schema(by_alias=True, mode="validation",
                                        schema_generator=_EditorSchema)
    _without_null_defaults(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://netweave.dev/schema/topology-v1.json"
    # '$schema' comment lines aside, editors need to allow the language-server modeline.
    return schema
