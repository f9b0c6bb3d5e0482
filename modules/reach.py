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
lint (``modules.lint.paths``) can point at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import netaddr

from modules.index import Index
from modules.model import Topology, Tunnel
from modules.source import PathKey

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
    """The two vCPEs of a usable tunnel (lint reports the others: R307)."""
    names = [e.vcpe for e in tunnel.ends]
    if len(names) != 2 or names[0] == names[1] or any(n not in topology.vcpes for n in names):
        return None
    return names[0], names[1]


def _static_over_tunnel(topology: Topology, tunnel: Tunnel) -> bool:
    """Some end has a static route whose next hop is the tunnel's other end."""
    for i, end in enumerate(tunnel.ends):
        peer = tunnel.ends[1 - i]
        vcpe = topology.vcpes[end.vcpe]
        if any(r.next_hop is not None and r.next_hop == peer.address.ip for r in vcpe.static_routes):
            return True
    return False


def tunnel_carries_traffic(topology: Topology, tunnel: Tunnel) -> bool:
    """A tunnel joins routing domains when something routes over it: BGP on both ends
    or a static route via the other end."""
    ends = _tunnel_ends(tunnel, topology)
    if ends is None:
        return False
    a, b = (topology.vcpes[n] for n in ends)
    return (a.bgp is not None and b.bgp is not None) or _static_over_tunnel(topology, tunnel)


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

Source = str  # "connected" | "static" | "bgp" | "route_push" | "default"


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One route in a node's table.

    ``via`` is a next-hop address (text) or, for connected routes, the vxnet / tunnel /
    client pool the prefix is on. ``path`` is the YAML path of the config that made it.
    """

    prefix: netaddr.IPNetwork
    source: Source
    via: str
    learned_from: str | None
    path: PathKey
    as_path: tuple[int, ...] = ()  # BGP only: the AS numbers the route crossed
    kind: str = "address"  # how to follow ``via``: "address" | "vxnet" | "tunnel" | "clients" | "blackhole"

    @property
    def distance(self) -> int:
        return DISTANCE[self.source]

    def describe(self) -> str:
        if self.source == "connected":
            return f"connected {self.via}"
        if self.source == "bgp":
            return f"bgp {self.prefix} from {self.learned_from}"
        if self.source == "route_push":
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
        for r in routes:
            table = self.tables.setdefault((r.prefix.version, r.prefix.prefixlen), {})
            key = int(r.prefix.network)
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


@dataclass
class Node:
    name: str
    kind: str  # "host" | "vpc_router" | "vcpe" | "vpn_server"
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
                "failure_at": self.failure_at, "loop": self.loop}


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
    return (net.version, int(net.network), net.prefixlen)


def _default(version: int) -> netaddr.IPNetwork:
    return netaddr.IPNetwork("0.0.0.0/0" if version == 4 else "::/0")


class Network:
    """The forwarding model of one topology. Build with :meth:`build`."""

    def __init__(self, topology: Topology, index: Index) -> None:
        self.topology = topology
        self.index = index
        self.nodes: dict[str, Node] = {}
        self.tunnels: dict[str, tuple[int, Tunnel, str, str]] = {}  # label -> (i, tunnel, a, b)
        self.sessions: dict[str, list[Session]] = {}
        self.declared: dict[str, list[Declared]] = {}
        self.bgp_rejected: dict[tuple[str, str, _PrefixKey], tuple[int, ...]] = {}
        self._vxnet_tables: dict[str, Lpm] = {}
        self._walks: dict[tuple[str, int, int], _Walk] = {}
        self._traces: dict[tuple[str, str, bool], Trace] = {}

    # --- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, topology: Topology, index: Index) -> Network:
        net = cls(topology, index)
        net._build_tunnels()
        net._build_vpc_routers()
        net._build_workloads()
        net._build_vcpes()
        net._run_bgp()
        return net

    def _build_tunnels(self) -> None:
        for i, tunnel in enumerate(self.topology.tunnels):
            ends = _tunnel_ends(tunnel, self.topology)
            if ends is not None:
                self.tunnels[tunnel.label(i)] = (i, tunnel, ends[0], ends[1])

    def _build_vpc_routers(self) -> None:
        for vpc_name, vpc in self.topology.vpcs.items():
            node = Node(vpc_name, "vpc_router", vpc_name)
            for vx_name, vx in vpc.vxnets.items():
                node.routes.append(RouteEntry(vx.cidr, "connected", vx_name, None,
                                              ("vpcs", vpc_name, "vxnets", vx_name), kind="vxnet"))
            self.nodes[vpc_name] = node

    @cached_property
    def _pushes_by_vxnet(self) -> dict[str, list[RouteEntry]]:
        """Route pushes each vxnet's VMs receive (QingCloud DHCP / Vultr cloud-init)."""
        out: dict[str, list[RouteEntry]] = {}
        for vpc_name, vpc in self.topology.vpcs.items():
            for i, push in enumerate(vpc.route_push):
                targets = push.vxnets if push.vxnets is not None else [
                    n for n, vx in vpc.vxnets.items() if push.next_hop in vx.cidr]
                entry = RouteEntry(push.destination, "route_push", str(push.next_hop), None,
                                   ("vpcs", vpc_name, "route_push", i))
                for vx in targets:
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
                           ("vpcs", info.vpc, "route_push"))]

    def _vxnet_table(self, vxnet: str) -> Lpm:
        table = self._vxnet_tables.get(vxnet)
        if table is None:  # every VM of a vxnet has the same table: build it once
            table = self._vxnet_tables[vxnet] = Lpm(self._workload_routes(vxnet))
        return table

    def _build_workloads(self) -> None:
        for name, host in self.topology.hosts.items():
            if host.vxnet not in self.index.vxnets:
                continue
            node = Node(name, "host", self.index.vpc_of(host.vxnet))
            node.routes = self._workload_routes(host.vxnet)
            node.__dict__["lpm"] = self._vxnet_table(host.vxnet)
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
        for name, vcpe in self.topology.vcpes.items():
            nics = [(i, nic) for i, nic in enumerate(vcpe.nics) if nic.vxnet in self.index.vxnets]
            node = Node(name, "vcpe", self.index.vpc_of(nics[0][1].vxnet) if nics else None)
            for i, nic in nics:
                cidr = self.index.vxnets[nic.vxnet].cidr
                node.routes.append(RouteEntry(cidr, "connected", nic.vxnet, None,
                                              ("vcpes", name, "nics", i), kind="vxnet"))
            for label, (ti, tunnel, a, b) in self.tunnels.items():
                for j, end in enumerate(tunnel.ends):
                    if end.vcpe == name and name in (a, b):
                        node.routes.append(RouteEntry(end.address.cidr, "connected",
                                                      f"tunnel:{label}", None,
                                                      ("tunnels", ti, "ends", j), kind="tunnel"))
            connected = Lpm(node.routes)
            for i, route in enumerate(vcpe.static_routes):
                path = ("vcpes", name, "static_routes", i)
                if route.next_hop is not None:
                    node.routes.append(RouteEntry(route.destination, "static", str(route.next_hop),
                                                  None, path))
                    continue
                on = connected.lookup(route.destination.network)
                if on is not None and route.destination in on.prefix:
                    node.routes.append(RouteEntry(route.destination, "static", on.via, None, path,
                                                  kind=on.kind))
                else:
                    node.routes.append(RouteEntry(route.destination, "static", "nowhere", None,
                                                  path, kind="blackhole"))
            if nics:
                cidr = self.index.vxnets[nics[0][1].vxnet].cidr
                node.routes.append(RouteEntry(_default(cidr.version), "default",
                                              str(_first_host(cidr)), None, ("vcpes", name, "nics", 0)))
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
        speakers = sorted(n for n, v in topo.vcpes.items() if v.bgp is not None and n in self.nodes)
        for name in speakers:
            vcpe = topo.vcpes[name]
            assert vcpe.bgp is not None
            decl = [Declared(p, ("vcpes", name, "bgp", "advertise", i))
                    for i, p in enumerate(vcpe.bgp.advertise)]
            decl += [Declared(r.destination, ("vcpes", name, "static_routes", i, "advertise"))
                     for i, r in enumerate(vcpe.static_routes) if r.advertise]
            unique: dict[_PrefixKey, Declared] = {}
            for d in decl:
                unique.setdefault(_key(d.prefix), d)
            self.declared[name] = list(unique.values())
            self.sessions[name] = []
        for label, (ti, tunnel, a, b) in self.tunnels.items():
            if a in self.sessions and b in self.sessions:
                ea, eb = tunnel.ends
                self.sessions[a].append(Session(label, ti, b, ea.address, eb.address))
                self.sessions[b].append(Session(label, ti, a, eb.address, ea.address))
        if not speakers:
            return
        asn = {n: topo.vcpes[n].bgp.asn for n in speakers}  # type: ignore[union-attr]
        local = {n: {_key(r.prefix) for r in self.nodes[n].routes
                     if r.source in ("connected", "static") and r.kind != "blackhole"}
                 for n in speakers}
        declared = {n: {_key(d.prefix): d for d in self.declared[n]} for n in speakers}
        best: dict[str, dict[_PrefixKey, RouteEntry]] = {n: {} for n in speakers}
        # adj_in[v][(u, tunnel)]: what v accepted from peer u over that tunnel
        adj_in: dict[str, dict[tuple[str, str], dict[_PrefixKey, RouteEntry]]] = {
            n: {} for n in speakers}

        def exports(u: str, s: Session) -> dict[_PrefixKey, RouteEntry]:
            """What u announces over session s to s.peer, after both prefix-lists."""
            v = s.peer
            out: dict[_PrefixKey, RouteEntry] = {}
            for key, d in declared[u].items():  # u's export prefix-list: what it declares
                if key in local[u]:
                    as_path: tuple[int, ...] = (asn[u],)
                elif key in best[u]:
                    as_path = (asn[u], *best[u][key].as_path)
                else:
                    continue  # declared but not routed: FRR does not announce it
                if key not in declared[u]:  # v's import prefix-list: what u declares
                    continue
                if asn[v] in as_path:  # AS-path loop prevention at the receiver
                    self.bgp_rejected[(v, u, key)] = as_path
                    continue
                self.bgp_rejected.pop((v, u, key), None)
                out[key] = RouteEntry(d.prefix, "bgp", str(s.local_address.ip), u, d.path,
                                      as_path=as_path)
            return out

        def select(v: str) -> bool:
            new: dict[_PrefixKey, RouteEntry] = {}
            for routes in adj_in[v].values():
                for key, r in routes.items():
                    cur = new.get(key)
                    if cur is None or _better(r, cur):
                        new[key] = r
            changed = new != best[v]
            best[v] = new
            return changed

        queue = list(speakers)
        queued = set(queue)
        budget = 64 * len(speakers) + 64  # path-vector converges; the budget is a safety net
        while queue and budget > 0:
            budget -= 1
            u = queue.pop(0)
            queued.discard(u)
            for s in self.sessions[u]:
                v = s.peer
                adj_in[v][(u, s.tunnel)] = exports(u, s)
                if select(v) and v not in queued:
                    queue.append(v)
                    queued.add(v)
        for n in speakers:
            self.nodes[n].routes.extend(best[n][k] for k in sorted(best[n]))
            self.nodes[n].__dict__.pop("lpm", None)

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
