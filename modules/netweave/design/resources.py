"""Cloud resource names: the Pulumi logical name of everything the program creates, and
the deterministic name it carries in the cloud (how an interrupted create is found and
adopted on the next run). Renaming any of these replaces the resource: they are stable."""

from __future__ import annotations

from dataclasses import dataclass


def physical_name(stack: str, logical: str) -> str:
    """The name a QingCloud resource carries in the cloud."""
    return f"nw-{stack}-{logical}"


@dataclass(frozen=True, slots=True)
class HostResources:
    """The resources of one vCPE or VPN server, by logical name."""

    instance: str
    public_ip: str | None              # EIP (QingCloud) / reserved IP (Vultr)
    firewall: str                      # security group (QingCloud) / firewall group (Vultr)
    public_ip_association: str | None  # QingCloud: associates the EIP once the VM exists
    extra_nics: tuple[str, ...]        # QingCloud: NIC 1, 2, ... (Vultr attaches VPCs)

    def firewall_rule(self, key: str) -> str:
        """A Vultr firewall rule (its own resource, a child of the group)."""
        return f"{self.firewall}-{key}"


def host_resources(name: str, cloud: str, public_ip: bool, nics: int) -> HostResources:
    if cloud == "qingcloud":
        return HostResources(name, f"{name}-eip" if public_ip else None, f"{name}-sg",
                             f"{name}-eip-association" if public_ip else None,
                             tuple(f"{name}-nic{i}" for i in range(1, nics)))
    return HostResources(name, f"{name}-ip" if public_ip else None, f"{name}-fw", None, ())
