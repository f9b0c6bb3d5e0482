"""TCP MSS clamping on every tunnel interface (an iptables-restore file + a unit)."""

from __future__ import annotations

from netweave.render.templating import render

RULES = "/etc/netweave/iptables.rules"
UNIT = "/etc/systemd/system/netweave-iptables.service"


def render_rules(clamps: list[dict[str, object]]) -> str:
    """clamps: ``{"interface": name, "mss": MTU - 40}`` per tunnel."""
    return render("iptables.rules.j2", clamps=clamps)


def render_unit() -> str:
    return render("netweave-iptables.service.j2", rules=RULES)
