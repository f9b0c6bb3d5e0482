"""Programs the rendered boot configuration runs on the hosts themselves.

Each module is shipped as its own source text (``source()``), so it may import nothing
but the Python standard library of the images we boot (Debian 12: Python 3.11, Ubuntu
22.04: 3.10; cloud-init needs python3, so every cloud-init image has it).
"""

from __future__ import annotations

from pathlib import Path


def source(module: str) -> str:
    """The text of ``hostside/<module>.py``, as it is written onto the host."""
    return (Path(__file__).parent / f"{module}.py").read_text()
