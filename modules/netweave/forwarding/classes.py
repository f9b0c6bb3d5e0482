"""Every host pair's ping verdict without tracing every pair: destinations travel as sets.

Batfish scales its reachability analysis by pushing *sets* of packets through each
device's forwarding table (header-space / BDD reachability) rather than tracing flows
one at a time: packets every router treats alike travel, and are decided, together.
Here the packets are ICMP echoes between workload VMs, so a set is a sorted array of
destination host addresses, and the equivalence classes are:

- sources: the VMs of one vxnet share one table (the same route pushes, the same default
  route), so each vxnet is walked once, towards the addresses of every host;
- destinations: at each router the set is cut by that router's longest-prefix-match
  table, seen as intervals of the address space with one route each (one bisection per
  interval, not one lookup per address); each part follows its route and is delivered,
  dropped, caught in a loop or handed on as one;
- what sets two VMs of one vxnet apart is applied per pair afterwards: a destination that
  holds the source's own address, and the destination's security groups.

Verdicts are bitsets, one Python int per host over the host order, so memory grows with
hosts, not pairs. Hops and words (:meth:`Network.ping`) are computed only for the pairs
that are shown. ``tests/test_reach_classes.py`` checks the verdicts against the pair-by-pair
trace for every bundled stack and test case.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from netweave.forwarding.reach import Lpm, Network, Node, RouteEntry, _Fail

_V6 = 1 << 32  # IPv6 addresses sort after every IPv4 address: one key space for both


def _key(version: int, value: int) -> int:
    return value if version == 4 else _V6 + value


def _unkey(key: int) -> tuple[int, int]:
    return (4, key) if key < _V6 else (6, key - _V6)


def _lookup(lpm: Lpm, key: int) -> RouteEntry | None:
    version, value = _unkey(key)
    for _plen, mask, table in lpm.order.get(version, ()):
        found = table.get(value & mask)
        if found is not None:
            return found
    return None


def _intervals(lpm: Lpm) -> tuple[list[int], list[RouteEntry | None]]:
    """The table as consecutive intervals of the key space, each with its one route:
    ``starts[k]`` up to ``starts[k + 1]`` goes by ``routes[k]`` (None: no route)."""
    points = {0}
    for entry in lpm.routes():
        prefix = entry.prefix
        points.add(_key(prefix.version, prefix.first))
        points.add(_key(prefix.version, prefix.last) + 1)
    starts: list[int] = []
    routes: list[RouteEntry | None] = []
    for point in sorted(points):
        if point >= _V6 + (1 << 128):
            continue
        route = _lookup(lpm, point)
        if routes and routes[-1] is route:
            continue
        starts.append(point)
        routes.append(route)
    return starts, routes


@dataclass
class _Part:
    keys: list[int]  # destination addresses, sorted
    hosts: list[int]  # the host (its position in the host order) of each address


class _Walker:
    """Walks sets of destinations through one network's tables."""

    def __init__(self, net: Network, order: Sequence[str]) -> None:
        self.net = net
        self.intervals: dict[str, tuple[list[int], list[RouteEntry | None]]] = {}
        self.sizes: dict[str, int] = {}
        self.owned: dict[str, list[int]] = {
            name: sorted(_key(v, x) for v, x in addresses)
            for name, addresses in net._addresses.items()}
        self.order = order

    def _split(self, node: Node, part: _Part) -> Iterator[tuple[RouteEntry | None, _Part]]:
        """``part`` cut by ``node``'s table, one piece per route (None: no route)."""
        keys, hosts = part.keys, part.hosts
        size = self.sizes.get(node.name)
        if size is None:
            size = self.sizes[node.name] = sum(len(t) for t in node.lpm.tables.values())
        pieces: dict[int, tuple[RouteEntry | None, _Part]] = {}
        if len(keys) * 4 < size:  # few addresses, a big table: one lookup each
            for key, host in zip(keys, hosts, strict=True):
                route = _lookup(node.lpm, key)
                piece = pieces.get(id(route))
                if piece is None:
                    piece = pieces[id(route)] = (route, _Part([], []))
                piece[1].keys.append(key)
                piece[1].hosts.append(host)
            yield from pieces.values()
            return
        found = self.intervals.get(node.name)
        if found is None:
            found = self.intervals[node.name] = _intervals(node.lpm)
        starts, routes = found
        k = bisect_right(starts, keys[0]) - 1
        last = bisect_right(starts, keys[-1]) - 1
        lo = 0
        while k <= last:
            hi = bisect_left(keys, starts[k + 1], lo) if k + 1 < len(starts) else len(keys)
            if hi > lo:
                route = routes[k]
                piece = pieces.get(id(route))
                if piece is None:
                    piece = pieces[id(route)] = (route, _Part([], []))
                piece[1].keys.extend(keys[lo:hi])
                piece[1].hosts.extend(hosts[lo:hi])
            lo = hi
            k += 1
        yield from pieces.values()

    def walk(self, start: str, everyone: _Part) -> tuple[list[int], list[int]]:
        """From host ``start``'s table (shared by its vxnet) towards ``everyone``: the
        hosts whose own node receives the packet, and those whose packet loops. The start
        is not on the path: a walk back to it is a delivery, as from any VM of the vxnet."""
        net, nodes = self.net, self.net.nodes
        delivered: list[int] = []
        looped: list[int] = []
        todo: list[tuple[str, _Part, frozenset[str], bool]] = [(start, everyone, frozenset(), True)]
        while todo:
            name, part, path, first = todo.pop()
            if name in path:
                looped.extend(part.hosts)
                continue
            node = nodes[name]
            if not first:
                part = self._deliver(name, part, delivered)
                if not part.keys:
                    continue
            on = path if first else path | {name}  # the start stands for every VM of its vxnet
            for route, piece in self._split(node, part):
                if route is None or route.kind in ("clients", "blackhole"):
                    continue  # dropped, or delivered to a VPN client: not to a host
                if route.kind == "tunnel":
                    peer, _hop = net._tunnel_hop(name, route.via.removeprefix("tunnel:"))
                    todo.append((peer, piece, on, False))
                elif route.kind == "vxnet":
                    by_owner: dict[str, _Part] = {}
                    for key, host in zip(piece.keys, piece.hosts, strict=True):
                        owner = net._owners.get((route.via, *_unkey(key)))
                        if owner is not None:
                            got = by_owner.setdefault(owner, _Part([], []))
                            got.keys.append(key)
                            got.hosts.append(host)
                    todo.extend((owner, got, on, False) for owner, got in by_owner.items())
                else:
                    resolved = net._resolve(node, route)
                    if isinstance(resolved, _Fail):
                        continue
                    owner = resolved[0]
                    if nodes[owner].kind == "host":  # a VM takes only its own packets
                        mine = set(self.owned.get(owner, ()))
                        kept = [(k, h) for k, h in zip(piece.keys, piece.hosts, strict=True)
                                if k in mine]
                        piece = _Part([k for k, _ in kept], [h for _, h in kept])
                    if piece.keys:
                        todo.append((owner, piece, on, False))
        return delivered, looped

    def _deliver(self, name: str, part: _Part, delivered: list[int]) -> _Part:
        """Take out the addresses ``name`` answers for; those of host ``name`` itself are
        delivered, the others (an address held twice) end there too."""
        owned = self.owned.get(name)
        if not owned or owned[-1] < part.keys[0] or owned[0] > part.keys[-1]:
            return part
        keys, hosts = part.keys, part.hosts
        keep = [True] * len(keys)
        for key in owned:
            i = bisect_left(keys, key)
            while i < len(keys) and keys[i] == key:
                keep[i] = False
                if self.order[hosts[i]] == name:
                    delivered.append(hosts[i])
                i += 1
        return _Part([k for k, ok in zip(keys, keep, strict=True) if ok],
                     [h for h, ok in zip(hosts, keep, strict=True) if ok])


def _bits(positions: list[int]) -> int:
    if not positions:
        return 0
    buf = bytearray((max(positions) >> 3) + 1)
    for p in positions:
        buf[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buf, "little")


def _each_bit(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


class Verdicts:
    """The ping verdict of every ordered pair of distinct hosts, as bitsets.

    ``order`` fixes the host positions (``Network.hosts`` by default); names in it that
    are not hosts of the network simply have no pairs, so two networks' verdicts can be
    compared position by position."""

    def __init__(self, net: Network, order: Sequence[str] | None = None) -> None:
        self.hosts = list(net.hosts if order is None else order)
        self.position = {h: i for i, h in enumerate(self.hosts)}
        present = [h for h in self.hosts if h in net.nodes and net.nodes[h].kind == "host"]
        self.exists = _bits([self.position[h] for h in present])
        topology = net.topology
        keys = {h: _key(topology.hosts[h].address.version, int(topology.hosts[h].address))
                for h in present}
        same: dict[int, int] = {}
        for h in present:
            same[keys[h]] = same.get(keys[h], 0) | 1 << self.position[h]
        everyone = sorted((keys[h], self.position[h]) for h in present)
        target = _Part([k for k, _ in everyone], [p for _, p in everyone])
        walker = _Walker(net, self.hosts)
        by_vxnet: dict[str, list[str]] = {}
        for h in present:
            host = topology.hosts[h]  # hosts at a site share its LAN
            by_vxnet.setdefault(host.vxnet or f"lan:{host.site}", []).append(h)
        size = len(self.hosts)
        reached, looped = [0] * size, [0] * size  # request (forward), by source
        reply_in, reply_loop = [0] * size, [0] * size  # reply, by the host it returns to
        for members in by_vxnet.values():
            delivered, loops = walker.walk(members[0], target) if target.keys else ([], [])
            got, loop = _bits(delivered), _bits(loops)
            group = _bits([self.position[h] for h in members])
            for h in members:
                i = self.position[h]
                reached[i], looped[i] = got & ~same[keys[h]], loop & ~same[keys[h]]
            for i in _each_bit(got):  # the hosts of this vxnet answer host i back
                reply_in[i] |= group
            for i in _each_bit(loop):
                reply_loop[i] |= group
        for h in present:
            i = self.position[h]
            reply_in[i] &= ~same[keys[h]]
            reply_loop[i] &= ~same[keys[h]]
        for i, denied in _denied_by_groups(net, present, self.position).items():
            reached[i] &= ~denied
        self._forward, self._loop, self._back, self._back_loop = reached, looped, reply_in, reply_loop

    def pairs(self, src: str, dst: str) -> tuple[int, int] | None:
        i, j = self.position.get(src), self.position.get(dst)
        if i is None or j is None or i == j or not (self.exists >> i & 1 and self.exists >> j & 1):
            return None
        return i, j

    def reachable(self, src: str, dst: str) -> bool | None:
        """The ping and its reply get through; None when the pair does not exist."""
        pair = self.pairs(src, dst)
        if pair is None:
            return None
        i, j = pair
        return bool(self._forward[i] >> j & 1 and self._back[i] >> j & 1)

    def forward(self, src: str, dst: str) -> bool:
        """The request alone is delivered."""
        pair = self.pairs(src, dst)
        return pair is not None and bool(self._forward[pair[0]] >> pair[1] & 1)

    def cell(self, src: str, dst: str) -> str:
        """``ok``, ``loop``, ``x>`` (the request dies) or ``x<`` (the reply dies)."""
        pair = self.pairs(src, dst)
        if pair is None:
            raise KeyError((src, dst))
        i, j = pair
        forward = self._forward[i] >> j & 1
        if forward and self._back[i] >> j & 1:
            return "ok"
        if self._loop[i] >> j & 1 or self._back_loop[i] >> j & 1:
            return "loop"
        return "x<" if forward else "x>"

    def row(self, src: str) -> int:
        """The destinations ``src`` reaches both ways, as a bitset over :attr:`hosts`."""
        i = self.position[src]
        if not self.exists >> i & 1:
            return 0
        return self._forward[i] & self._back[i]

    def others(self, src: str) -> int:
        """Every destination ``src`` has a pair with."""
        i = self.position[src]
        return self.exists & ~(1 << i) if self.exists >> i & 1 else 0

    @property
    def pings(self) -> int:
        n = self.exists.bit_count()
        return n * (n - 1)

    @property
    def reachable_count(self) -> int:
        return sum((f & b).bit_count() for f, b in zip(self._forward, self._back, strict=True))

    def broken(self) -> Iterator[tuple[str, str]]:
        """The pairs that do not reach, in matrix order (source, then destination)."""
        for src in self.hosts:
            for j in _each_bit(self.others(src) & ~self.row(src)):
                yield src, self.hosts[j]


def _denied_by_groups(net: Network, present: list[str],
                      position: dict[str, int]) -> dict[int, int]:
    """Source position -> the destinations whose security groups drop its echo request."""
    out: dict[int, int] = {}
    guarded = [h for h in present if net.topology.hosts[h].security_groups]
    decided: dict[tuple[tuple[str, ...], int, int], bool] = {}
    for dst in guarded:
        groups = tuple(net.topology.hosts[dst].security_groups)
        for src in present:
            if src == dst:
                continue
            sender = net.topology.hosts[src].address
            key = (groups, sender.version, int(sender))
            denied = decided.get(key)
            if denied is None:
                denied = decided[key] = net.ingress_denied(dst, sender) is not None
            if denied:
                i = position[src]
                out[i] = out.get(i, 0) | 1 << position[dst]
    return out
