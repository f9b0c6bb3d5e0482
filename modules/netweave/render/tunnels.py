"""Tunnel endpoints as rendered: the design names each end's peer (and, over a private
transport, its address); here the peer's public address is filled in — the deployed EIP /
reserved IP, or a documentation-range placeholder when ``render`` runs without state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netweave.design import Design, TunnelSide
from netweave.render.artifacts import RenderError


@dataclass(frozen=True, slots=True)
class PeerEndpoint:
    """Where a tunnel end sends its packets, as its configuration file says it."""

    host: str           # an address
    port: int
    placeholder: bool   # not the real address: ``render`` without deployed state

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.host else ""

    @property
    def behind_nat(self) -> bool:
        """The peer is a site behind NAT: no address to dial, it dials this end."""
        return not self.host


def peer_endpoint(side: TunnelSide, public_addresses: Mapping[str, str],
                  placeholder_names: frozenset[str] = frozenset()) -> PeerEndpoint:
    endpoint = side.endpoint
    if endpoint.dials_in:  # lint R308/V509 make sure this end is the reachable one
        return PeerEndpoint("", endpoint.port, False)
    if endpoint.address is not None:
        return PeerEndpoint(str(endpoint.address), endpoint.port, False)
    if side.transport == "private":  # the peer's VPC address is assigned at deploy
        raise RenderError(f"tunnel {side.label}: {endpoint.host}'s private address is assigned "
                          "at deploy, so it cannot be this end's endpoint (lint R331)")
    if endpoint.host not in public_addresses:
        raise RenderError(f"no public address for {endpoint.host} (tunnel {side.label})")
    return PeerEndpoint(public_addresses[endpoint.host], endpoint.port,
                        endpoint.host in placeholder_names)


def rendered_tunnels(design: Design, public_addresses: Mapping[str, str],
                     placeholder_names: frozenset[str] = frozenset()
                     ) -> dict[str, list[tuple[TunnelSide, PeerEndpoint]]]:
    """vCPE (or site) name -> its tunnel ends with their endpoints, in topology order."""
    if design.unusable_tunnels:
        raise RenderError(f"tunnel {design.unusable_tunnels[0]} needs exactly two distinct ends "
                          "(lint R307)")
    hosts = {name: v.tunnels for name, v in design.vcpes.items()}
    hosts.update({name: s.tunnels for name, s in design.sites.items()})
    return {name: [(t, peer_endpoint(t, public_addresses, placeholder_names)) for t in tunnels]
            for name, tunnels in hosts.items()}
