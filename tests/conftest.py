from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netweave.qingcloud_emulator import Emulator

from tests.support.qc_emulator_support import ZONE, started

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"


@pytest.fixture
def stacks_dir() -> Path:
    return STACKS


# A fresh QingCloud emulator per test, and an SDK connection to it (a module that needs
# another lifetime defines its own `emu`, which pytest prefers).
@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = started()
    yield emulator
    emulator.stop()


@pytest.fixture
def conn(emu: Emulator) -> Any:
    return emu.connection(ZONE, retry_time=1)
