"""A local QingCloud IaaS API (``netweave qingcloud-emulator``) that the unmodified
qingcloud-sdk client talks to: signature v1, per-zone state, asynchronous jobs, the
documented constraints, and fault injection on demand."""

from .faults import Faults
from .server import Emulator, check_loopback

__all__ = ["Emulator", "Faults", "check_loopback"]
