"""The forwarding model: what every router of the design would do with a packet.

Built once from the topology, in layers:

1. routing tables (``rib``) per node — hosts (connected vxnet, route pushes delivered
   to their vxnet, default via the VPC router ``.1``), VPC routers (their own vxnets
   only), vCPEs (connected NICs and tunnels, static routes, BGP, default via the primary
   NIC's VPC router) and VPN servers (like a host, plus their ``client_pool``);
2. BGP as a fixed point over the tunnels whose two ends speak BGP;
3. a longest-prefix-match table per node, and a hop-by-hop walk over it
   (:meth:`Network.trace`, :meth:`Network.ping`, :meth:`Network.matrix`).

Failures are said in network words and carry the YAML path of the place to edit, so
lint (``netweave.lint.paths``) can point at it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import netaddr

from netweave.allocation import bulk_allocation
from netweave.design import Design
from netweave.model.index import Index
from netweave.model.source import PathKey
from netweave.model.topology import Site, Topology, Tunnel, TunnelEnd, Vcpe

# Admin distance: lower wins, as in FRR/zebra. The default route a VM or vCPE gets from
# DHCP (via the VPC router) is a static route too; it only ever matches /0.
DISTANCE = {"connected": 0, "static": 1, "route_push": 1, "default": 1, "bgp": 20}


# --- routing domains ------------------------------------------------------------------

class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {i: i for i in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression keeps it near-linear
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _tunnel_ends(tunnel: Tunnel, topology: Topology) -> tuple[str, str] | None:
    """The two routers (vCPEs or sites) of a usable tunnel (lint reports the others: R307)."""
    names = [e.node for e in tunnel.ends]
    if len(names) != 2 or names[0] == names[1] \
            or any(topology.router(n) is None for n in names):
        return None
    return names[0], names[1]


def _static_over_tunnel(topology: Topology, tunnel: Tunnel) -> bool:
    """Some end has a static route whose next hop is the tunnel's other end."""
    for i, end in enumerate(tunnel.ends):
        peer = tunnel.ends[1 - i]
        vcpe = topology.router(end.node)
        if vcpe is not None and any(r.next_hop is not None and r.next_hop == peer.address.ip
                                    for r in vcpe.static_routes):
            return True
    return False


def tunnel_carries_traffic(topology: Topology, tunnel: Tunnel) -> bool:
    """A tunnel joins routing domains when something routes over it: BGP on both ends
    or a static route via the other end."""
    ends = _tunnel_ends(tunnel, topology)
    if ends is None:
        return False
    a, b = (topology.router(n) for n in ends)
    return (a is not None and b is not None and a.bgp is not None and b.bgp is not None) \
        or _static_over_tunnel(topology, tunnel)


def routing_domains(topology: Topology, index: Index) -> list[set[str]]:
    """Sets of VPC names interconnected directly or transitively.

    A vCPE with NICs in several VPCs joins them; a tunnel joins the VPCs of its two
    vCPEs when traffic can be routed over it. Union-find: near-linear in the size of
    the topology. Every VPC is in exactly one set; the list is sorted by smallest name.
    """
    uf = _UnionFind(topology.vpcs)
    home: dict[str, str] = {}  # vCPE -> one of its VPCs
    for name, vcpe in topology.vcpes.items():
        vpcs = [index.vxnets[n.vxnet].vpc for n in vcpe.nics if n.vxnet in index.vxnets]
        if not vpcs:
            continue
        home[name] = vpcs[0]
        for other in vpcs[1:]:
            uf.union(vpcs[0], other)
    for tunnel in topology.tunnels:
        ends = _tunnel_ends(tunnel, topology)
        if ends and all(e in home for e in ends) and tunnel_carries_traffic(topology, tunnel):
            uf.union(home[ends[0]], home[ends[1]])
    groups: dict[str, set[str]] = {}
    for vpc in topology.vpcs:
        groups.setdefault(uf.find(vpc), set()).add(vpc)
    return sorted(groups.values(), key=min)


# --- routing tables -------------------------------------------------------------------

RouteSource = Literal["connected", "static", "bgp", "route_push", "default"]


# Not frozen: a frozen dataclass builds 4x slower (object.__setattr__ per field) and a
# big network makes 130,000 routes. Routes are shared between tables: never change one.
# Equality and hashing are by value, as they were when frozen.
@dataclass(slots=True, unsafe_hash=True)
class RouteEntry:
    """One route in a node's table (treat as immutable).

    ``via`` is a next-hop address (text) or, for connected routes, the vxnet / tunnel /
    client pool the prefix is on. ``path`` is the YAML path of the config that made it.
    """

    prefix: netaddr.IPNetwork
    source: RouteSource
    via: str
    learned_from: str | None
    path: PathKey
    as_path: tuple[int, ...] = ()  # BGP only: the AS numbers the route crossed
    # how to follow ``via``: "address" | "vxnet" | "tunnel" | "clients" | "blackhole" |
    # "assigned" (``via`` names a router whose address the cloud assigns at deploy)
    kind: str = "address"

    @property
    def distance(self) -> int:
        return DISTANCE[self.source]

    def describe(self) -> str:
        if self.source == "connected":
            return f"connected {self.via}"
        if self.source == "bgp":
            return f"bgp {self.prefix} from {self.learned_from}"
        if self.source == "route_push":
            if self.kind == "assigned":
                return f"route push {self.prefix} via {self.via} (its address assigned at deploy)"
            return f"route push {self.prefix} via {self.via}"
        if self.source == "default":
            return f"default via {self.via}"
        if self.kind == "blackhole":
            return f"static {self.prefix} (no next hop, not connected)"
        return f"static {self.prefix} via {self.via}"


class Lpm:
    """Longest-prefix match: one dict per (IP version, prefix length), longest first."""

    def __init__(self, routes: Iterable[RouteEntry]) -> None:
        self.tables: dict[tuple[int, int], dict[int, RouteEntry]] = {}
        tables = self.tables
        for r in routes:
            prefix = r.prefix
            shape = (prefix.version, prefix.prefixlen)
            table = tables.get(shape)
            if table is None:
                table = tables[shape] = {}
            key = prefix.first  # the network as an int, without building an IPAddress
            best = table.get(key)
            if best is None or _better(r, best):
                table[key] = r
        self.order: dict[int, list[tuple[int, int, dict[int, RouteEntry]]]] = {}
        for (version, plen), table in sorted(self.tables.items(), key=lambda kv: -kv[0][1]):
            bits = 32 if version == 4 else 128
            mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
            self.order.setdefault(version, []).append((plen, mask, table))

    def lookup(self, address: netaddr.IPAddress) -> RouteEntry | None:
        value = int(address)
        for _plen, mask, table in self.order.get(address.version, ()):
            found = table.get(value & mask)
            if found is not None:
                return found
        return None

    def routes(self) -> Iterator[RouteEntry]:
        for table in self.tables.values():
            yield from table.values()


def _better(a: RouteEntry, b: RouteEntry) -> bool:
    """Route selection for one prefix: admin distance, then shortest AS path, then
    lowest peer name (deterministic, like FRR's router-id tie-break)."""
    return (a.distance, len(a.as_path), a.learned_from or "") < \
        (b.distance, len(b.as_path), b.learned_from or "")


def _first_host(net: netaddr.IPNetwork) -> netaddr.IPAddress:
    return net.network + 1 if net.size > 2 else net.network


@dataclass(frozen=True, slots=True)
class Declared:
    """A prefix a vCPE announces over BGP, and where it was declared."""

    prefix: netaddr.IPNetwork
    path: PathKey


@dataclass(frozen=True, slots=True)
class Session:
    """An eBGP session over a tunnel: local end -> peer end."""

    tunnel: str
    tunnel_index: int
    peer: str
    local_address: netaddr.IPNetwork
    peer_address: netaddr.IPNetwork
    local_ip: str = ""  # the next hop the peer uses for routes learned on this session


@dataclass
class Node:
    name: str
    kind: str  # "host" | "vpc_router" | "vcpe" | "vpn_server" | "site" (its gateway)
    vpc: str | None
    routes: list[RouteEntry] = field(default_factory=list)

    @cached_property
    def lpm(self) -> Lpm:
        return Lpm(self.routes)


# --- the trace ------------------------------------------------------------------------

@dataclass(frozen=True)
class Hop:
    """One node a packet crosses, and the route (or config) that sent it on."""

    node: str  # "vm03", "vpc01" (the VPC router), "vcpe01", "tunnel:vcpe01-vcpe02"
    kind: str  # "host" | "vpc_router" | "vcpe" | "vpn_server" | "tunnel"
    action: str  # "route push 172.17.0.0/24 via 192.168.129.5", "deliver", ...
    path: PathKey | None  # YAML path of the route/config that decided this hop
    note: str = ""  # short form for one-line summaries: "route push via 192.168.129.5"


@dataclass(frozen=True)
class Trace:
    """One direction, host to host: the hops, and where and why it died if it did."""

    src: str
    dst: str
    delivered: bool
    hops: tuple[Hop, ...]
    failure: str | None = None  # in network words, naming the hop that lacks a route
    failure_path: PathKey | None = None  # the YAML place to edit
    loop: bool = False
    failure_at: str | None = None  # the node the failure names
    reply: bool = False  # the echo reply of a ping (stateful: no ingress filter)
    detail: str | None = None  # the failure without the "src -> dst dies at node" prefix

    def summary(self) -> str:
        """``vm03 -> vcpe01 (route push via 192.168.129.5) -> tunnel -> vcpe02 -> vm02``."""
        parts = [self.hops[0].node] if self.hops else [self.src]
        for prev, hop in zip(self.hops, self.hops[1:], strict=False):
            name = "tunnel" if hop.kind == "tunnel" else hop.node
            parts.append(f"{name} ({prev.note})" if prev.note else name)
        text = " -> ".join(parts)
        if not self.delivered:
            text += " -> X" if not self.loop else " -> (loop)"
        return text

    def as_dict(self) -> dict[str, object]:
        return {"src": self.src, "dst": self.dst, "delivered": self.delivered,
                "summary": self.summary(),
                "hops": [{"node": h.node, "kind": h.kind, "action": h.action,
                          "path": list(h.path) if h.path is not None else None} for h in self.hops],
                "failure": self.failure,
                "failure_path": list(self.failure_path) if self.failure_path is not None else None,
                "failure_at": self.failure_at, "loop": self.loop, "reply": self.reply}


@dataclass(frozen=True)
class PingResult:
    """An ICMP echo: the request (forward) and the reply (back)."""

    src: str
    dst: str
    forward: Trace
    back: Trace

    @property
    def reachable(self) -> bool:
        return self.forward.delivered and self.back.delivered


@dataclass(frozen=True, slots=True)
class _Fail:
    at: str
    detail: str
    path: PathKey | None
    loop: bool = False


@dataclass(frozen=True, slots=True)
class _Walk:
    """Where a packet for one address goes from one node on: memoised per (node, dst)."""

    hops: tuple[Hop, ...]
    fail: _Fail | None  # None: delivered to the owner of the address


# --- the network ----------------------------------------------------------------------

_PrefixKey = tuple[int, int, int]  # (version, network as int, prefix length)


def _key(net: netaddr.IPNetwork) -> _PrefixKey:
    # ``first`` is the network address as an int: 3x cheaper than int(net.network),
    # which builds an IPAddress (this runs once per route and declared prefix).
    return (net.version, net.first, net.prefixlen)


def _default(version: int) -> netaddr.IPNetwork:
    return netaddr.IPNetwork("0.0.0.0/0" if version == 4 else "::/0")


class Network:
    """The forwarding model of one topology. Build with :meth:`build`."""

    def __init__(self, topology: Topology, index: Index, design: Design | None = None) -> None:
        self.topology = topology
        self.index = index
        self.design = design if design is not None else Design.build(topology, index)
        self.nodes: dict[str, Node] = {}
        self.tunnels: dict[str, tuple[int, Tunnel, str, str]] = {}  # label -> (i, tunnel, a, b)
        self.sessions: dict[str, list[Session]] = {}
        self.declared: dict[str, list[Declared]] = {}
        self.bgp_rejected: dict[tuple[str, str, _PrefixKey], tuple[int, ...]] = {}
        self._vxnet_tables: dict[str, tuple[list[RouteEntry], Lpm, Lpm]] = {}
        self._walks: dict[tuple[str, int, int], _Walk] = {}
        self._traces: dict[tuple[str, str, bool], Trace] = {}
        self._next_hops: dict[tuple[str, int], tuple[str, Hop | None] | _Fail] = {}
        self._descriptions: dict[int, str] = {}
        self._host_walks: dict[tuple[str, int, int], _Walk] = {}
        self._hop_outcomes: dict[tuple[str, str], tuple[str, Hop | None] | str] = {}

    # --- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, topology: Topology, index: Index, design: Design | None = None) -> Network:
        net = cls(topology, index, design)
        with bulk_allocation():
            net._build_tunnels()
            net._build_vpc_routers()
            net._build_workloads()
            net._build_vcpes()
            net._build_sites()
            net._run_bgp()
        return net

    def _build_tunnels(self) -> None:
        for i, tunnel in enumerate(self.topology.tunnels):
            ends = _tunnel_ends(tunnel, self.topology)
            if ends is not None:
                self.tunnels[tunnel.label(i)] = (i, tunnel, ends[0], ends[1])

    def _build_vpc_routers(self) -> None:
        by_router = self.design.router_pushes()  # route-table pushes: the VPC router forwards
        for vpc_name, vpc in self.topology.vpcs.items():
            node = Node(vpc_name, "vpc_router", vpc_name)
            for vx_name, vx in vpc.vxnets.items():
                node.routes.append(RouteEntry(vx.cidr, "connected", vx_name, None,
                                              ("vpcs", vpc_name, "vxnets", vx_name), kind="vxnet"))
            node.routes += [RouteEntry(p.destination, "route_push", p.via, None, p.path,
                                       kind="address" if p.next_hop is not None else "assigned")
                            for p in by_router.get(vpc_name, ())]
            self.nodes[vpc_name] = node

    @cached_property
    def _pushes_by_vxnet(self) -> dict[str, list[RouteEntry]]:
        """Route pushes each vxnet's VMs hold (the design's fan-out; a route-table push is
        the VPC router's instead)."""
        out: dict[str, list[RouteEntry]] = {}
        for push in self.design.route_pushes:
            if not push.vxnets or push.by_router:
                continue
            # a next hop whose address the cloud assigns at deploy is followed by the name of
            # its router ("assigned"): no number is invented for it
            kind = "address" if push.next_hop is not None else "assigned"
            entry = RouteEntry(push.destination, "route_push", push.via, None, push.path, kind=kind)
            for vx in push.vxnets:
                out.setdefault(vx, []).append(entry)
        return out

    def _workload_routes(self, vxnet: str) -> list[RouteEntry]:
        """What a VM in ``vxnet`` routes with: connected, pushes, default via ``.1``."""
        info = self.index.vxnets[vxnet]
        cidr = info.cidr
        return [RouteEntry(cidr, "connected", vxnet, None, ("vpcs", info.vpc, "vxnets", vxnet),
                           kind="vxnet"),
                *self._pushes_by_vxnet.get(vxnet, []),
                RouteEntry(_default(cidr.version), "default", str(_first_host(cidr)), None,
                           ("vpcs", info.vpc, "vxnets", vxnet))]  # DHCP: the vxnet's gateway

    def _vxnet_table(self, vxnet: str) -> tuple[list[RouteEntry], Lpm, Lpm]:
        """The routes of a VM in ``vxnet``, their table, and the table of its only
        connected route (the first): every VM of a vxnet has the same, built once."""
        found = self._vxnet_tables.get(vxnet)
        if found is None:
            routes = self._workload_routes(vxnet)
            found = self._vxnet_tables[vxnet] = (routes, Lpm(routes), Lpm(routes[:1]))
        return found

    def _build_workloads(self) -> None:
        for name, host in self.topology.hosts.items():
            if host.vxnet is None or host.vxnet not in self.index.vxnets:
                continue  # hosts at sites: _build_sites
            node = Node(name, "host", self.index.vpc_of(host.vxnet))
            routes, table, connected = self._vxnet_table(host.vxnet)
            node.routes = list(routes)
            node.__dict__["lpm"] = table
            node.__dict__["_connected"] = connected  # what _connected() would build
            self.nodes[name] = node
        for name, vpn in self.topology.vpn_servers.items():
            if vpn.vxnet not in self.index.vxnets:
                continue
            node = Node(name, "vpn_server", self.index.vpc_of(vpn.vxnet))
            node.routes = [*self._workload_routes(vpn.vxnet),
                           RouteEntry(vpn.client_pool, "connected", f"clients:{name}", None,
                                      ("vpn_servers", name, "client_pool"), kind="clients")]
            self.nodes[name] = node

    def _build_vcpes(self) -> None:
        # vCPE -> its usable tunnel ends, in tunnel order (one pass, not tunnels x vCPEs)
        tunnel_ends: dict[str, list[tuple[str, int, int, TunnelEnd]]] = {}
        for label, (ti, tunnel, a, b) in self.tunnels.items():
            for j, end in enumerate(tunnel.ends):
                if end.node in (a, b):
                    tunnel_ends.setdefault(end.node, []).append((label, ti, j, end))
        self._router_tunnels = tunnel_ends
        texts: dict[int, str] = {}  # id(next hop) -> its text (all alive in the model)
        for name, vcpe in self.topology.vcpes.items():
            nics = [(i, nic) for i, nic in enumerate(vcpe.nics) if nic.vxnet in self.index.vxnets]
            node = Node(name, "vcpe", self.index.vpc_of(nics[0][1].vxnet) if nics else None)
            for i, nic in nics:
                cidr = self.index.vxnets[nic.vxnet].cidr
                node.routes.append(RouteEntry(cidr, "connected", nic.vxnet, None,
                                              ("vcpes", name, "nics", i), kind="vxnet"))
            for label, ti, j, end in tunnel_ends.get(name, ()):
                node.routes.append(RouteEntry(end.address.cidr, "connected", f"tunnel:{label}",
                                              None, ("tunnels", ti, "ends", j), kind="tunnel"))
            n_connected = len(node.routes)
            connected: Lpm | None = None  # only static routes without a next hop need it
            for i, route in enumerate(vcpe.static_routes):
                path = ("vcpes", name, "static_routes", i)
                if route.next_hop is not None:
                    via = texts.get(id(route.next_hop))  # parsed addresses are shared objects
                    if via is None:
                        via = texts[id(route.next_hop)] = str(route.next_hop)
                    node.routes.append(RouteEntry(route.destination, "static", via, None, path))
                    continue
                if connected is None:
                    connected = Lpm(node.routes[:n_connected])
                node.routes.append(_connected_static(route.destination, path, connected))
            if nics:
                cidr = self.index.vxnets[nics[0][1].vxnet].cidr
                node.routes.append(RouteEntry(_default(cidr.version), "default",
                                              str(_first_host(cidr)), None, ("vcpes", name, "nics", 0)))
            self.nodes[name] = node

    def _build_sites(self) -> None:
        """A site's gateway routes like a vCPE (its LAN, tunnels, static routes, BGP) but
        has no VPC router: the internet behind it is not modelled. The site's hosts route
        their LAN and send everything else to the gateway."""
        for name, site in self.topology.sites.items():
            lan = f"lan:{name}"
            node = Node(name, "site", None)
            for i, prefix in enumerate(site.lan):
                node.routes.append(RouteEntry(prefix, "connected", lan, None, ("sites", name, "lan", i),
                                              kind="vxnet"))
            for label, ti, j, end in self._router_tunnels.get(name, ()):
                node.routes.append(RouteEntry(end.address.cidr, "connected", f"tunnel:{label}",
                                              None, ("tunnels", ti, "ends", j), kind="tunnel"))
            connected = Lpm(list(node.routes))
            for i, route in enumerate(site.static_routes):
                path = ("sites", name, "static_routes", i)
                if route.next_hop is not None:
                    node.routes.append(RouteEntry(route.destination, "static", str(route.next_hop),
                                                  None, path))
                    continue
                node.routes.append(_connected_static(route.destination, path, connected))
            self.nodes[name] = node
        for name, host in self.topology.hosts.items():
            home = self.topology.sites.get(host.site or "")
            if home is None:
                continue
            node = Node(name, "host", None)
            node.routes = [RouteEntry(prefix, "connected", f"lan:{host.site}", None,
                                      ("sites", host.site or "", "lan", i), kind="vxnet")
                           for i, prefix in enumerate(home.lan)]
            node.routes.append(RouteEntry(_default(host.address.version), "default",
                                          str(home.gateway), None, ("sites", host.site or "", "gateway")))
            self.nodes[name] = node

    # --- BGP ------------------------------------------------------------------------------

    def _run_bgp(self) -> None:
        """eBGP over every tunnel whose two ends speak BGP, to a fixed point.

        Export: only declared prefixes (``bgp.advertise`` and static routes marked
        ``advertise``) that the vCPE has an exact route for (connected, static or
        learned — FRR's ``network`` import check). Import: only what the peer declares,
        and never a path that already contains our own AS. Best path: shortest AS path,
        then lowest peer name.
        """
        topo = self.topology
        routers: list[tuple[str, Vcpe | Site]] = [*topo.vcpes.items(), *topo.sites.items()]
        speakers = sorted(n for n, v in routers if v.bgp is not None and n in self.nodes)
        declared_keys: dict[str, dict[_PrefixKey, Declared]] = {}
        for name in speakers:
            vcpe = topo.router(name)
            assert vcpe is not None and vcpe.bgp is not None
            kind = "sites" if name in topo.sites else "vcpes"
            decl = [Declared(p, (kind, name, "bgp", "advertise", i))
                    for i, p in enumerate(vcpe.bgp.advertise)]
            decl += [Declared(r.destination, (kind, name, "static_routes", i, "advertise"))
                     for i, r in enumerate(vcpe.static_routes) if r.advertise]
            unique: dict[_PrefixKey, Declared] = {}
            for d in decl:
                unique.setdefault(_key(d.prefix), d)
            self.declared[name] = list(unique.values())
            declared_keys[name] = unique
            self.sessions[name] = []
        for label, (ti, tunnel, a, b) in self.tunnels.items():
            if a in self.sessions and b in self.sessions:
                ea, eb = tunnel.ends
                self.sessions[a].append(Session(label, ti, b, ea.address, eb.address,
                                                str(ea.address.ip)))
                self.sessions[b].append(Session(label, ti, a, eb.address, ea.address,
                                                str(eb.address.ip)))
        if not speakers:
            return
        asn = {n: topo.router(n).bgp.asn for n in speakers}  # type: ignore[union-attr]
        local = {n: {_key(r.prefix) for r in self.nodes[n].routes
                     if r.source in ("connected", "static") and r.kind != "blackhole"}
                 for n in speakers}
        best: dict[str, dict[_PrefixKey, RouteEntry]] = {n: {} for n in speakers}
        by_prefix: dict[_PrefixKey, dict[str, Declared]] = {}
        for n in speakers:
            for k, d in declared_keys[n].items():
                by_prefix.setdefault(k, {})[n] = d
        # Prefixes never interact (each has its own prefix-list entries and best path), so
        # each one runs to its own fixed point, touching only the speakers that declare it
        # and their peers: the work is proportional to the routes that result.
        for key in sorted(by_prefix):
            self._bgp_prefix(key, by_prefix[key], asn, local, best)
        for n in speakers:
            self.nodes[n].routes.extend(best[n][k] for k in sorted(best[n]))
            self.nodes[n].__dict__.pop("lpm", None)

    def _bgp_prefix(self, key: _PrefixKey, declarers: dict[str, Declared], asn: dict[str, int],
                    local: dict[str, set[_PrefixKey]],
                    best: dict[str, dict[_PrefixKey, RouteEntry]]) -> None:
        """Path-vector propagation of one prefix to its fixed point.

        Only a speaker that declares the prefix sends it (its export prefix-list), which is
        also exactly what its peers accept from it (their import prefix-list); it sends it
        when it has a route for exactly that prefix: its own (connected/static) or a
        learned best path, which it passes on with its AS prepended.
        """
        if len(declarers) == 1:  # the usual case: one origin, nothing to pass on
            self._bgp_single(key, declarers, asn, local, best)
            return
        adj: dict[str, dict[tuple[str, str], RouteEntry]] = {}
        learned: dict[str, RouteEntry] = {}
        queue = deque(u for u in sorted(declarers) if key in local[u])
        queued = set(queue)
        budget = 64 * (len(declarers) + 1) * (len(queue) + 1)  # safety net; converges first
        while queue and budget > 0:
            budget -= 1
            u = queue.popleft()
            queued.discard(u)
            decl = declarers[u]
            if key in local[u]:
                as_path: tuple[int, ...] | None = (asn[u],)
                source = None
            elif u in learned:
                as_path = (asn[u], *learned[u].as_path)
                source = learned[u].learned_from
            else:
                as_path, source = None, None  # withdrawn
            for s in self.sessions[u]:
                v = s.peer
                routes = adj.setdefault(v, {})
                if as_path is None or v == source:
                    routes.pop((u, s.tunnel), None)
                elif asn[v] in as_path:  # AS-path loop prevention at the receiver
                    self.bgp_rejected[(v, u, key)] = as_path
                    routes.pop((u, s.tunnel), None)
                else:
                    self.bgp_rejected.pop((v, u, key), None)
                    routes[(u, s.tunnel)] = RouteEntry(decl.prefix, "bgp", s.local_ip, u, decl.path,
                                                       as_path=as_path)
                chosen: RouteEntry | None = None
                for r in routes.values():
                    if chosen is None or _better(r, chosen):
                        chosen = r
                if chosen == learned.get(v):
                    continue
                if chosen is None:
                    learned.pop(v, None)
                else:
                    learned[v] = chosen
                if v in declarers and key not in local[v] and v not in queued:
                    queue.append(v)
                    queued.add(v)
        for v, route in learned.items():
            best[v][key] = route

    def _bgp_single(self, key: _PrefixKey, declarers: dict[str, Declared], asn: dict[str, int],
                    local: dict[str, set[_PrefixKey]],
                    best: dict[str, dict[_PrefixKey, RouteEntry]]) -> None:
        """:meth:`_bgp_prefix` for a prefix only one speaker declares: what the fixed point
        reaches in one round. Its peers accept it (unless they share its AS) but never send
        it on: they do not declare it, so their export prefix-lists drop it."""
        ((u, decl),) = declarers.items()
        if key not in local[u]:
            return  # no route for exactly the prefix: not announced
        as_path = (asn[u],)
        learned: dict[str, RouteEntry] = {}
        for s in self.sessions[u]:
            v = s.peer
            if asn[v] in as_path:  # AS-path loop prevention at the receiver
                self.bgp_rejected[(v, u, key)] = as_path
                continue
            self.bgp_rejected.pop((v, u, key), None)
            route = RouteEntry(decl.prefix, "bgp", s.local_ip, u, decl.path, as_path=as_path)
            current = learned.get(v)
            if current is None or _better(route, current):  # several tunnels: first best
                learned[v] = route
        for v, route in learned.items():
            best[v][key] = route

    # --- queries ----------------------------------------------------------------------------

    def rib(self, node: str) -> list[RouteEntry]:
        """The routes a node has (BGP: the best path per prefix), longest prefix first."""
        found = self.nodes.get(node)
        if found is None:
            return []
        return sorted(found.routes, key=lambda r: (r.prefix.version, -r.prefix.prefixlen,
                                                   int(r.prefix.network), r.distance))

    def lookup(self, node: str, address: netaddr.IPAddress) -> RouteEntry | None:
        """The route ``node`` forwards ``address`` with (longest prefix, then distance)."""
        found = self.nodes.get(node)
        return found.lpm.lookup(address) if found else None

    # --- forwarding -------------------------------------------------------------------------

    @cached_property
    def _owners(self) -> dict[tuple[str, int, int], str]:
        """(vxnet, IP version, address) -> the node holding that address in that vxnet."""
        owners: dict[tuple[str, int, int], str] = {}
        for vpc in self.topology.vpcs.values():
            for vx_name, vx in vpc.vxnets.items():
                gateway = _first_host(vx.cidr)  # the VPC router sits at .1 of every vxnet
                owners[(vx_name, gateway.version, int(gateway))] = self.index.vpc_of(vx_name)
        for owner in self.index.owners:
            owners.setdefault((owner.vxnet, owner.address.version, int(owner.address)), owner.name)
        for name, site in self.topology.sites.items():  # a site's LAN: its gateway and hosts
            owners.setdefault((f"lan:{name}", site.gateway.version, int(site.gateway)), name)
        for name, host in self.topology.hosts.items():
            if host.site in self.topology.sites:
                owners.setdefault((f"lan:{host.site}", host.address.version, int(host.address)), name)
        return owners

    @cached_property
    def _addresses(self) -> dict[str, set[tuple[int, int]]]:
        """Node -> the addresses it answers for (a packet to one of them is delivered)."""
        out: dict[str, set[tuple[int, int]]] = {}
        for (_vx, version, value), name in self._owners.items():
            out.setdefault(name, set()).add((version, value))
        for _label, (_i, tunnel, a, b) in self.tunnels.items():
            for end in tunnel.ends:
                if end.node in (a, b):
                    out.setdefault(end.node, set()).add((end.address.version, int(end.address.ip)))
        return out

    @cached_property
    def _networks(self) -> Lpm:
        """Every vxnet and client pool, to name 'the network of' an address in messages."""
        routes = [RouteEntry(info.cidr, "connected", name, None, info.path, kind="vxnet")
                  for name, info in self.index.vxnets.items()]
        routes += [RouteEntry(vpn.client_pool, "connected", f"clients:{name}", None,
                              ("vpn_servers", name, "client_pool"), kind="clients")
                   for name, vpn in self.topology.vpn_servers.items()]
        routes += [RouteEntry(prefix, "connected", f"lan:{name}", None, ("sites", name, "lan", i),
                              kind="vxnet")
                   for name, site in self.topology.sites.items() for i, prefix in enumerate(site.lan)]
        return Lpm(routes)

    def network_of(self, address: netaddr.IPAddress) -> netaddr.IPNetwork:
        found = self._networks.lookup(address)
        if found is not None:
            return found.prefix
        return netaddr.IPNetwork(address)  # a host route: /32 or /128

    def _connected(self, node: Node) -> Lpm:
        table = node.__dict__.get("_connected")
        if table is None:
            table = node.__dict__["_connected"] = Lpm(
                r for r in node.routes if r.source == "connected" and r.kind in ("vxnet", "tunnel"))
        return table

    def _describe(self, route: RouteEntry) -> str:
        text = self._descriptions.get(id(route))
        if text is None:  # routes live as long as the network: id() is stable
            text = self._descriptions[id(route)] = route.describe()
        return text

    def _node_path(self, name: str) -> PathKey:
        kind = self.nodes[name].kind
        return {"host": ("hosts", name), "vcpe": ("vcpes", name), "vpc_router": ("vpcs", name),
                "site": ("sites", name),
                "vpn_server": ("vpn_servers", name)}[kind]

    def _tunnel_hop(self, node: str, label: str) -> tuple[str, Hop]:
        ti, tunnel, a, b = self.tunnels[label]
        peer = b if node == a else a
        return peer, Hop(f"tunnel:{label}", "tunnel", f"{tunnel.type} {node} -> {peer}",
                         ("tunnels", ti))

    def _follow(self, node: Node, route: RouteEntry,
                dst: netaddr.IPAddress) -> tuple[str, Hop | None] | _Fail:
        """Where ``route`` sends a packet for ``dst`` from ``node``: the next node (and the
        tunnel crossed on the way), or why it cannot."""
        name, desc = node.name, self._describe(route)
        if route.kind == "blackhole":
            return _Fail(name, f"static route {route.prefix} has no next hop and {route.prefix} is "
                               f"not connected to {name}: packets are dropped", route.path)
        if route.kind == "tunnel":
            return self._tunnel_hop(name, route.via.removeprefix("tunnel:"))
        if route.kind == "vxnet":
            owner = self._owners.get((route.via, dst.version, int(dst)))
            if owner is None:
                return _Fail(name, f"nothing in {route.via} has the address {dst}", route.path)
            return owner, None
        cache_key = (name, id(route))
        resolved = self._next_hops.get(cache_key)
        if resolved is None:  # independent of the destination: resolve once per route
            resolved = self._next_hops[cache_key] = self._resolve(node, route)
        if isinstance(resolved, _Fail):
            return resolved
        owner = resolved[0]
        if self.nodes[owner].kind == "host" and (dst.version, int(dst)) not in \
                self._addresses.get(owner, set()):
            return _Fail(name, f"next hop {route.via} of {desc} is workload VM {owner}, which does "
                               "not forward packets", route.path)
        return resolved

    @cached_property
    def _legs(self) -> dict[str, set[str]]:
        """Router -> the vxnets it has a leg in (NICs, a VPN host's vxnet)."""
        legs: dict[str, set[str]] = {}
        for name, vcpe in self.topology.vcpes.items():
            legs[name] = {n.vxnet for n in vcpe.nics if n.vxnet in self.index.vxnets}
        for name, vpn in self.topology.vpn_servers.items():
            legs[name] = {vpn.vxnet} & set(self.index.vxnets)
        return legs

    def _assigned_hop(self, node: Node, route: RouteEntry, desc: str) -> tuple[str, Hop | None] | _Fail:
        """A push via a named router: on-link when it has a leg in a vxnet the VM is on."""
        holder = route.via
        if holder not in self.nodes or holder not in self._legs:
            return _Fail(node.name, f"next hop {holder} of {desc} is no vCPE or VPN server: "
                                    "black hole", route.path)
        mine = {r.via for r in self._connected(node).routes() if r.kind == "vxnet"}
        if not self._legs[holder] & mine:
            return _Fail(node.name, f"next hop {holder} of {desc} is not on-link: {holder} has no "
                                    f"address in {', '.join(sorted(mine)) or 'its network'}",
                         route.path)
        return holder, None

    def _resolve(self, node: Node, route: RouteEntry) -> tuple[str, Hop | None] | _Fail:
        """The node behind a route's next-hop address (on-link, through a tunnel or not)."""
        if route.kind == "assigned":  # a router named by a push: its address is the cloud's
            return self._assigned_hop(node, route, self._describe(route))
        name = node.name
        key = (name, route.via)
        outcome = self._hop_outcomes.get(key)
        if outcome is None:  # many routes share a next hop: look it up once per node
            outcome = self._hop_outcomes[key] = self._resolve_hop(node, route.via)
        if not isinstance(outcome, str):
            return outcome
        hop, desc = route.via, self._describe(route)
        if outcome == "off-link":
            return _Fail(name, f"next hop {hop} of {desc} is not on-link: {name} has no interface "
                               "in a network containing it", route.path)
        if outcome.startswith("tunnel:"):
            return _Fail(name, f"next hop {hop} of {desc} is not the other end of "
                               f"{outcome}: black hole", route.path)
        if outcome.startswith("nobody:"):
            return _Fail(name, f"next hop {hop} of {desc} is no router's address in "
                               f"{outcome.removeprefix('nobody:')}: black hole", route.path)
        return _Fail(name, f"next hop {hop} of {desc} is {name}'s own address", route.path)

    def _resolve_hop(self, node: Node, via: str) -> tuple[str, Hop | None] | str:
        """Where next hop ``via`` leads from ``node``, or why not, as a word: "off-link",
        "tunnel:<label>" (not the tunnel's other end), "nobody:<vxnet>", "own"."""
        name = node.name
        hop = netaddr.IPAddress(via)
        on = self._connected(node).lookup(hop)
        if on is None:
            return "off-link"
        if on.kind == "tunnel":
            peer, tunnel_hop = self._tunnel_hop(name, on.via.removeprefix("tunnel:"))
            if (hop.version, int(hop)) not in self._addresses.get(peer, set()):
                return tunnel_hop.node
            return peer, tunnel_hop
        owner = self._owners.get((on.via, hop.version, int(hop)))
        if owner is None:
            return f"nobody:{on.via}"
        if owner == name:
            return "own"
        return owner, None

    def _host_walk(self, host: str, dst: netaddr.IPAddress) -> _Walk:
        """A walk from a VM. VMs of one vxnet share a table, so the walk of one of them
        is the walk of all, but for its first hop's name: kept once per (vxnet, dst)."""
        found = self.topology.hosts[host]
        key = (found.vxnet or f"lan:{found.site}", dst.version, int(dst))
        template = self._host_walks.get(key)
        if template is not None:
            first = template.hops[0]
            fail = template.fail
            if fail is not None and not fail.at:
                fail = _Fail(host, fail.detail, fail.path, fail.loop)
            return _Walk((Hop(host, first.kind, first.action, first.path, first.note),
                          *template.hops[1:]), fail)
        walk = self._walk(host, dst)
        hops, fail = walk.hops, walk.fail
        if hops and hops[0].action != "deliver" and all(h.node != host for h in hops[1:]) \
                and (fail is None or host not in fail.detail):
            if fail is not None and fail.at == host:
                fail = _Fail("", fail.detail, fail.path, fail.loop)
            self._host_walks[key] = _Walk(hops, fail)
        return walk

    def _walk(self, start: str, dst: netaddr.IPAddress) -> _Walk:
        """Hop by hop from ``start`` until ``dst`` is delivered, dropped or loops."""
        memo = self._walks.get((start, dst.version, int(dst)))
        if memo is not None:
            return memo
        target = (dst.version, int(dst))
        hops: list[Hop] = []
        seen: dict[str, int] = {}
        starts: list[tuple[str, int]] = []  # (node, hop index) whose suffix may be memoised
        name: str = start
        prev: tuple[Node, RouteEntry] | None = None
        fail: _Fail | None = None
        while True:
            node = self.nodes[name]
            cached = self._walks.get((name, dst.version, int(dst))) if name != start else None
            if cached is not None and node.kind != "vpc_router":
                hops.extend(cached.hops)
                fail = cached.fail
                break
            if name in seen:
                in_cycle = [h for h in hops[seen[name]:] if h.kind != "tunnel"]
                cycle = [h.node for h in in_cycle] + [name]
                # Blame a route someone wrote by hand (a static route) before a learned one.
                closing = next((h for h in reversed(in_cycle)
                                if h.path and "static_routes" in h.path),
                               in_cycle[-1] if in_cycle else None)
                fail = _Fail(name, f"routing loop {' -> '.join(cycle)} for {dst}",
                             closing.path if closing else None, loop=True)
                break
            seen[name] = len(hops)
            if node.kind != "vpc_router":
                starts.append((name, len(hops)))
            if target in self._addresses.get(name, set()):
                hops.append(Hop(name, node.kind, "deliver", self._node_path(name)))
                break
            route = node.lpm.lookup(dst)
            if route is not None and route.kind == "clients":  # a VPN server's dialled-in client
                hops.append(Hop(name, node.kind, f"deliver to a VPN client ({route.prefix})",
                                route.path))
                break
            if route is None:
                hops.append(Hop(name, node.kind, f"drop: no route to {dst}", None))
                fail = self._no_route(node, dst, prev)
                break
            step = self._follow(node, route, dst)
            note = ""
            if route.source == "default":
                note = f"default via {route.via}"
            elif route.source == "route_push":
                note = f"route push via {route.via}"
            hops.append(Hop(name, node.kind, self._describe(route), route.path, note))
            if isinstance(step, _Fail):
                fail = step
                break
            name, tunnel_hop = step
            if tunnel_hop is not None:
                hops.append(tunnel_hop)
            prev = (node, route)
        result = _Walk(tuple(hops), fail)
        if fail is None or not fail.loop:
            for node_name, i in starts:
                self._walks.setdefault((node_name, dst.version, int(dst)),
                                       _Walk(result.hops[i:], fail))
        else:
            self._walks[(start, dst.version, int(dst))] = result
        return result

    def _no_route(self, node: Node, dst: netaddr.IPAddress,
                  prev: tuple[Node, RouteEntry] | None) -> _Fail:
        net = self.network_of(dst)
        if node.kind == "vpc_router" and prev is not None and prev[1].source == "default":
            # The VPC router only knows its own vxnets: the node that sent the packet here
            # by default is the one missing a route.
            sender = prev[0]
            if sender.kind == "vcpe":
                why, path = self.why_unrouted(sender.name, dst)
                return _Fail(sender.name, f"no route to {dst} ({why}); its default route goes to "
                                          f"VPC router {node.name}, which has no route to it either",
                             path)
            vxnet = self._vxnet_of(sender.name)
            vpc = self.index.vpc_of(vxnet)
            return _Fail(sender.name, f"no route push for {net} in {vxnet}, default route goes to "
                                      f"VPC router {node.name} which has no route to {dst}",
                         ("vpcs", vpc, "route_push"))
        if node.kind == "vpc_router":
            return _Fail(node.name, f"VPC router {node.name} has no route to {dst}: it routes only "
                                    f"between the vxnets of {node.name} (route pushes are for VMs)",
                         prev[1].path if prev else ("vpcs", node.name))
        if node.kind in ("vcpe", "site"):
            why, path = self.why_unrouted(node.name, dst)
            return _Fail(node.name, f"no route to {dst} ({why})", path)
        return _Fail(node.name, f"no route to {dst}", self._node_path(node.name))

    def _vxnet_of(self, name: str) -> str:
        if name in self.topology.hosts:
            return self.topology.hosts[name].vxnet or ""
        return self.topology.vpn_servers[name].vxnet

    def why_unrouted(self, vcpe: str, dst: netaddr.IPAddress) -> tuple[str, PathKey]:
        """Why vCPE ``vcpe`` learned no route for ``dst``, and the YAML place to fix it."""
        topo = self.topology
        net = self.network_of(dst)
        if (router := topo.router(vcpe)) is None or router.bgp is None:
            return (f"{vcpe} does not speak BGP and has no static route for {net}",
                    ("vcpes", vcpe, "static_routes"))
        for s in sorted(self.sessions.get(vcpe, []), key=lambda s: s.peer):
            peer = s.peer
            route = self.lookup(peer, dst)
            if route is None or route.source == "default" or route.learned_from == vcpe:
                continue
            covering = sorted((d for d in self.declared.get(peer, []) if dst in d.prefix),
                              key=lambda d: -d.prefix.prefixlen)
            if not covering:
                return f"{peer} does not advertise {net} to it", ("vcpes", peer, "bgp", "advertise")
            decl = covering[0]
            rejected = self.bgp_rejected.get((vcpe, peer, _key(decl.prefix)))
            if rejected:
                own = topo.router(vcpe).bgp.asn  # type: ignore[union-attr]
                return (f"{vcpe} drops {decl.prefix} from {peer}: its AS path "
                        f"{' '.join(map(str, rejected))} already contains {vcpe}'s own AS {own}",
                        ("vcpes", vcpe, "bgp", "asn"))
            return (f"{peer} declares {decl.prefix} but has no route for exactly {decl.prefix}, "
                    "so BGP does not announce it", decl.path)
        origins = sorted(n for n, node in self.nodes.items() if node.kind in ("vcpe", "site") and n != vcpe
                         and (r := self._connected(node).lookup(dst)) is not None
                         and r.kind == "vxnet")
        if not origins:
            return f"no vCPE is connected to {net}", ("vcpes", vcpe, "static_routes")
        origin = origins[0]
        if (source := topo.router(origin)) is None or source.bgp is None:
            return (f"{origin}, which is connected to {net}, does not speak BGP",
                    ("vcpes", origin))
        if not self.sessions.get(vcpe):
            return (f"{vcpe} has no BGP peer: no tunnel to a vCPE that speaks BGP", ("tunnels",))
        return (f"no BGP peer of {vcpe} passes on {net} from {origin}",
                ("vcpes", origin, "bgp", "advertise"))

    # --- security groups --------------------------------------------------------------------

    def ingress_denied(self, host: str, sender: netaddr.IPAddress) -> tuple[str, PathKey] | None:
        """Whether ``host``'s security groups drop an ICMP echo from ``sender``.

        No group: everything is accepted. With groups, their ingress rules are read in
        order (groups as listed, rules as listed); the first rule whose protocol is icmp
        or any and whose source contains the sender decides. No such rule: dropped.
        Groups are stateful, so the echo reply is never filtered.
        """
        groups = self.topology.hosts[host].security_groups
        if not groups:
            return None
        for group in groups:
            sg = self.topology.security_groups.get(group)
            for i, rule in enumerate(sg.rules if sg else []):
                if rule.direction != "ingress" or rule.protocol not in ("icmp", "any") \
                        or sender not in rule.source:
                    continue
                if rule.action == "accept":
                    return None
                return (f"security group {group} of {host} drops ICMP from {sender} "
                        f"(rule {i}, source {rule.source})", ("security_groups", group, "rules", i))
        return (f"the security groups of {host} ({', '.join(groups)}) accept no ICMP from {sender}",
                ("hosts", host, "security_groups"))

    # --- traces -----------------------------------------------------------------------------

    def _host(self, name: str) -> netaddr.IPAddress:
        host = self.topology.hosts.get(name)
        if host is None or name not in self.nodes:
            raise KeyError(f"no host named {name!r}")
        return host.address

    def trace(self, src: str, dst: str, *, reply: bool = False) -> Trace:
        """One direction, host to host. ``reply``: an echo reply (no ingress filtering)."""
        key = (src, dst, reply)
        cached = self._traces.get(key)
        if cached is not None:
            return cached
        src_address, dst_address = self._host(src), self._host(dst)
        walk = self._host_walk(src, dst_address)
        hops, fail = walk.hops, walk.fail
        if fail is None and hops and hops[-1].node != dst:
            # Overlapping networks: another node holds the same address where it landed.
            holder = hops[-1].node
            where = (f"in the client pool of VPN server {holder}" if hops[-1].action.startswith(
                "deliver to a VPN client") else f"also {holder}'s address")
            fail = _Fail(holder, f"{dst_address} is {where}: the packet is delivered there, "
                                 f"never to {dst}", ("hosts", dst, "address"))
        if fail is None and not reply:
            denied = self.ingress_denied(dst, src_address)
            if denied is not None:
                hops = (*hops[:-1], Hop(dst, "host", "drop: security group", denied[1]))
                fail = _Fail(dst, denied[0], denied[1])
        label = f"{'reply ' if reply else ''}{src} -> {dst}"
        if fail is None:
            trace = Trace(src, dst, True, hops, reply=reply)
        elif fail.loop:
            trace = Trace(src, dst, False, hops, f"{label} loops at {fail.at}: {fail.detail}",
                          fail.path, loop=True, failure_at=fail.at, reply=reply, detail=fail.detail)
        else:
            trace = Trace(src, dst, False, hops, f"{label} dies at {fail.at}: {fail.detail}",
                          fail.path, failure_at=fail.at, reply=reply, detail=fail.detail)
        self._traces[key] = trace
        return trace

    def trace_address(self, src: str, address: netaddr.IPAddress) -> Trace:
        """From a host towards any address (e.g. a route push destination)."""
        self._host(src)
        return self._address_trace(src, address, self._host_walk(src, address))

    def next_hop_node(self, vpc: str, address: netaddr.IPAddress | str) -> str | None:
        """The router holding ``address`` in ``vpc`` (a vCPE NIC, a VPN server, the VPC
        router at a vxnet's .1), if any; a name (a push's ``next_hop: vultr-vcpe``) is that
        router when it has a leg in ``vpc``."""
        if isinstance(address, str):
            legs = self._legs.get(address, set())
            return address if any(self.index.vpc_of(v) == vpc for v in legs) else None
        vxnet = self.index.vxnet_containing(vpc, address)
        if vxnet is None:
            return None
        owner = self._owners.get((vxnet, address.version, address.value))
        if owner is None or self.nodes[owner].kind == "host":
            return None
        return owner

    def trace_from(self, node: str, address: netaddr.IPAddress) -> Trace:
        """From any node (e.g. the router a route push points at) towards an address."""
        return self._address_trace(node, address, self._walk(node, address))

    @staticmethod
    def _address_trace(src: str, address: netaddr.IPAddress, walk: _Walk) -> Trace:
        fail = walk.fail
        if fail is None:
            return Trace(src, str(address), True, walk.hops)
        verb = "loops" if fail.loop else "dies"
        return Trace(src, str(address), False, walk.hops,
                     f"{src} -> {address} {verb} at {fail.at}: {fail.detail}", fail.path,
                     loop=fail.loop, failure_at=fail.at, detail=fail.detail)

    def ping(self, src: str, dst: str) -> PingResult:
        """ICMP echo from ``src`` to ``dst``: the request, and the reply it needs back."""
        return PingResult(src, dst, self.trace(src, dst), self.trace(dst, src, reply=True))

    @property
    def hosts(self) -> list[str]:
        return sorted(n for n, node in self.nodes.items() if node.kind == "host")

    def matrix(self) -> list[PingResult]:
        """A ping for every ordered pair of distinct hosts."""
        hosts = self.hosts
        with bulk_allocation():
            return [self.ping(a, b) for a in hosts for b in hosts if a != b]

    # --- hints ------------------------------------------------------------------------------

    def push_suggestion(self, vxnet: str, dst: netaddr.IPAddress) -> str | None:
        """The route push that would carry ``dst`` out of ``vxnet``: via a vCPE NIC in that
        vxnet whose vCPE has a real (non-default) route for it."""
        net = self.network_of(dst)
        for vcpe, _i, nic in sorted(self.index.nics_in_vxnet(vxnet), key=lambda t: t[0]):
            route = self.lookup(vcpe, dst)
            if route is not None and route.source != "default":
                # a NIC without an address has one the cloud assigns: name the vCPE
                return f"{{destination: {net}, next_hop: {nic.address or vcpe}}}"
        return None


def _connected_static(destination: netaddr.IPNetwork, path: PathKey,
                      connected: Lpm) -> RouteEntry:
    """A static route without a next hop (a vCPE's or a site gateway's): out of the
    connected network that holds it, else a black hole."""
    on = connected.lookup(destination.network)
    if on is not None and destination in on.prefix:
        return RouteEntry(destination, "static", on.via, None, path, kind=on.kind)
    return RouteEntry(destination, "static", "nowhere", None, path, kind="blackhole")

