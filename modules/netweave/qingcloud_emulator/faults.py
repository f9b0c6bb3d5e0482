"""Fault injection: what a flaky cloud does to a client, on demand and reproducibly.

- ``rate`` of API calls answered with one of ``codes`` (5100 busy / 5000 internal) before the
  action runs (nothing changes);
- ``http500_rate`` of calls answered with HTTP 500 before the action runs (the SDK then
  retries once on its own and finally returns ``None``);
- ``lost_response_rate`` of calls whose action *does* run but whose answer is an HTTP 500:
  the case that makes creates duplicate unless the client adopts what it created;
- ``job_failure_rate`` of jobs that end ``failed`` (their effects rolled back);
- ``latency`` seconds added to every call.
``actions`` limits all of them to the listed actions. Draws come from one ``random.Random``
seeded with ``seed``: the same seed and the same call sequence give the same faults."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import ApiError, bad

# Every call sleeps this long at most: a client's socket timeout (the SDK's 30 s and more)
# must never be reached because of a setting, or every call "hangs".
MAX_LATENCY = 10.0
_MESSAGES = {5000: "InternalError, please try again later (injected by the emulator)",
             5100: "ServerBusy, please try again later (injected by the emulator)",
             5300: "ServiceUpdating, please try again later (injected by the emulator)"}


@dataclass
class Faults:
    rate: float = 0.0
    codes: tuple[int, ...] = (5100, 5000)
    http500_rate: float = 0.0
    lost_response_rate: float = 0.0
    job_failure_rate: float = 0.0
    latency: float = 0.0
    actions: tuple[str, ...] = ()
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("rate", "http500_rate", "lost_response_rate", "job_failure_rate", "latency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
        for name in ("rate", "http500_rate", "lost_response_rate", "job_failure_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 0.0 <= self.latency <= MAX_LATENCY:
            raise ValueError(f"latency must be between 0 and {MAX_LATENCY:g} seconds, got {self.latency}")
        self.codes = tuple(int(c) for c in self.codes)
        self.actions = tuple(self.actions)
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        known = {"rate", "codes", "http500_rate", "lost_response_rate", "job_failure_rate",
                 "latency", "actions", "seed"}
        unknown = set(data) - known
        if unknown:
            raise bad(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)
                                if not f.name.startswith("_")}
        data["codes"] = list(self.codes)
        data["actions"] = list(self.actions)
        return data

    def applies(self, action: str) -> bool:
        return not self.actions or action in self.actions

    def _draw(self, action: str, rate: float) -> bool:
        if rate <= 0.0 or not self.applies(action):
            return False
        with self._lock:
            return self._rng.random() < rate

    def api_error(self, action: str) -> ApiError | None:
        if not self._draw(action, self.rate):
            return None
        with self._lock:
            code = self._rng.choice(self.codes)
        return ApiError(code, _MESSAGES.get(code, "injected by the emulator"))

    def http500(self, action: str) -> bool:
        return self._draw(action, self.http500_rate)

    def lose_response(self, action: str) -> bool:
        return self._draw(action, self.lost_response_rate)

    def job_fails(self, action: str) -> bool:
        return self._draw(action, self.job_failure_rate)
