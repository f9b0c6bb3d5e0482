"""How long asynchronous actions take. ``fast`` (tests, default): every job takes
``job_seconds``. ``realistic`` (benchmarks): durations of the order QingCloud shows in its
console (a router boots a VM, an instance boots an OS), multiplied by ``scale``."""

from __future__ import annotations

from collections.abc import Callable

PROFILES = ("fast", "realistic")

REALISTIC_SECONDS: dict[str, float] = {
    "CreateRouters": 10.0, "DeleteRouters": 5.0, "UpdateRouters": 5.0,
    "JoinRouter": 3.0, "LeaveRouter": 3.0,
    "RunInstances": 15.0, "TerminateInstances": 8.0,
    "AttachNics": 3.0, "DetachNics": 3.0,
    "AssociateEip": 3.0, "DissociateEips": 3.0, "ReleaseEips": 2.0,
    "ApplySecurityGroup": 2.0,
    "UpdateRouteTable": 3.0, "AssociateRouteTable": 2.0, "DissociateRouteTable": 2.0,
}


def job_durations(profile: str = "fast", job_seconds: float = 0.2, scale: float = 1.0,
                  overrides: dict[str, float] | None = None) -> Callable[[str], float]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if job_seconds < 0 or scale < 0:
        raise ValueError("job durations must not be negative")
    table = dict(REALISTIC_SECONDS) if profile == "realistic" else {}
    extra = dict(overrides or {})

    def duration(action: str) -> float:
        if action in extra:
            return extra[action]
        return table.get(action, job_seconds) * scale if table else job_seconds * scale

    return duration
