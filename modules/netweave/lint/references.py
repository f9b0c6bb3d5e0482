"""Schema-stage rules on names: every reference resolves, no name is used twice.

These run before any other lint family: the others may assume every name resolves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from netweave.lint.findings import Finding, finding
from netweave.lint.schema import dotted
from netweave.lint.typos import NameIndex
from netweave.model.source import PathKey
from netweave.model.topology import Topology


class _Pools:
    """One name index per pool (a mapping of the topology), built on the first unresolved
    name that needs it: every finding then costs O(log n), not a scan of the pool."""

    def __init__(self) -> None:
        self._held: dict[int, tuple[Collection[str], NameIndex]] = {}

    def __call__(self, pool: Collection[str]) -> NameIndex:
        held = self._held.get(id(pool))
        if held is None or held[0] is not pool:
            held = self._held[id(pool)] = (pool, NameIndex(pool))
        return held[1]


def _unresolved(pools: _Pools, name: str, what: str, path: PathKey,
                pool: Collection[str]) -> Finding:
    index = pools(pool)
    names = index.names
    guess = index.nearest(name)
    if guess:
        hint = f"did you mean '{guess}'?"
    elif names:
        hint = f"known {what}s: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
    else:
        hint = f"no {what} is defined yet"
    return finding("S107", f"{dotted(path)} refers to {what} '{name}', which is not defined",
                   path, hint)


def check(topo: Topology) -> Iterator[Finding]:
    pools = _Pools()
    vxnet_vpc: dict[str, str] = {}
    seen: dict[str, tuple[str, PathKey]] = {}

    def claim(name: str, kind: str, path: PathKey) -> Iterator[Finding]:
        if name in seen:
            other_kind, other_path = seen[name]
            yield finding("S108", f"the name '{name}' is used by a {kind} and by a {other_kind} "
                          f"({dotted(other_path)}); names must be unique across VPCs, vxnets, "
                          "hosts, vCPEs, VPN servers and tunnels", path,
                          f"rename one of them, e.g. '{name}-{kind}'", at_key=True)
        else:
            seen[name] = (kind, path)

    for vpc_name, vpc in topo.vpcs.items():
        yield from claim(vpc_name, "VPC", ("vpcs", vpc_name))
        if vpc.cloud not in topo.clouds:
            yield _unresolved(pools, vpc.cloud, "cloud", ("vpcs", vpc_name, "cloud"), topo.clouds)
        for vx_name in vpc.vxnets:
            yield from claim(vx_name, "vxnet", ("vpcs", vpc_name, "vxnets", vx_name))
            vxnet_vpc.setdefault(vx_name, vpc_name)
    routers = {**topo.vcpes, **topo.vpn_servers}
    for vpc_name, vpc in topo.vpcs.items():
        for i, push in enumerate(vpc.route_push):
            if isinstance(push.next_hop, str) and push.next_hop not in routers:
                yield _unresolved(pools, push.next_hop, "vCPE or VPN server",
                                  ("vpcs", vpc_name, "route_push", i, "next_hop"), routers)
            for j, vx in enumerate(push.vxnets or []):
                if vx not in vpc.vxnets:
                    yield _unresolved(pools, vx, f"vxnet of VPC {vpc_name}",
                                      ("vpcs", vpc_name, "route_push", i, "vxnets", j), vpc.vxnets)
    for name in topo.sites:
        yield from claim(name, "site", ("sites", name))
    for name, host in topo.hosts.items():
        yield from claim(name, "host", ("hosts", name))
        if host.site is not None and host.vxnet is not None:
            yield finding("S106", f"host {name} names both a vxnet ({host.vxnet}) and a site "
                          f"({host.site}): a host is in one network", ("hosts", name, "site"),
                          "keep the one it is in")
        elif host.site is not None:
            if host.site not in topo.sites:
                yield _unresolved(pools, host.site, "site", ("hosts", name, "site"), topo.sites)
        elif host.vxnet is None:
            yield finding("S103", f"hosts.{name} is missing the required key 'vxnet' (or 'site')",
                          ("hosts", name), "add vxnet: <the vxnet it is in>, or site: <its site>",
                          at_key=True)
        elif host.vxnet not in vxnet_vpc:
            yield _unresolved(pools, host.vxnet, "vxnet", ("hosts", name, "vxnet"), vxnet_vpc)
        for j, sg in enumerate(host.security_groups):
            if sg not in topo.security_groups:
                yield _unresolved(pools, sg, "security group", ("hosts", name, "security_groups", j),
                                  topo.security_groups)
    for name, vcpe in topo.vcpes.items():
        yield from claim(name, "vCPE", ("vcpes", name))
        for i, nic in enumerate(vcpe.nics):
            if nic.vxnet not in vxnet_vpc:
                yield _unresolved(pools, nic.vxnet, "vxnet", ("vcpes", name, "nics", i, "vxnet"), vxnet_vpc)
        for j, sg in enumerate(vcpe.security_groups):
            if sg not in topo.security_groups:
                yield _unresolved(pools, sg, "security group", ("vcpes", name, "security_groups", j),
                                  topo.security_groups)
    for name, vpn in topo.vpn_servers.items():
        yield from claim(name, "VPN server", ("vpn_servers", name))
        if vpn.vxnet not in vxnet_vpc:
            yield _unresolved(pools, vpn.vxnet, "vxnet", ("vpn_servers", name, "vxnet"), vxnet_vpc)
    for i, tunnel in enumerate(topo.tunnels):
        if tunnel.name:
            yield from claim(tunnel.name, "tunnel", ("tunnels", i, "name"))
        for j, end in enumerate(tunnel.ends):
            if end.vcpe is not None and end.site is not None:
                yield finding("S106", f"tunnels[{i}].ends[{j}] names a vCPE ({end.vcpe}) and a site "
                              f"({end.site}): an end is one router", ("tunnels", i, "ends", j, "site"),
                              "one tunnel per pair of ends")
            elif end.site is not None:
                if end.site not in topo.sites:
                    yield _unresolved(pools, end.site, "site", ("tunnels", i, "ends", j, "site"), topo.sites)
            elif end.vcpe is None:
                yield finding("S103", f"tunnels[{i}].ends[{j}] is missing the required key 'vcpe' "
                              "(or 'site')", ("tunnels", i, "ends", j), "add vcpe: <name> or site: <name>",
                              at_key=True)
            elif end.vcpe not in topo.vcpes:
                yield _unresolved(pools, end.vcpe, "vCPE", ("tunnels", i, "ends", j, "vcpe"), topo.vcpes)
    if topo.intent:
        endpoints = {*topo.hosts, *vxnet_vpc, *topo.vpcs, *topo.sites}
        for group in ("must_reach", "must_not_reach"):
            for i, pair in enumerate(getattr(topo.intent, group)):
                for key, value in (("from", pair.from_), ("to", pair.to)):
                    if value not in endpoints:
                        yield _unresolved(pools, value, "host, vxnet, VPC or site",
                                          ("intent", group, i, key), endpoints)
