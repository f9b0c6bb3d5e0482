"""Obvious fakes for key material: built at run time, so no file of the repository holds
anything that looks like a real key."""

from __future__ import annotations


def fake_pem(label: str = "OPENSSH PRIVATE KEY", body: str = "NOT-A-REAL-KEY", end: bool = True) -> str:
    """A PEM block with an obviously fake body (``end=False``: the armour's first line only)."""
    text = f"-----BEGIN {label}-----\n{body}\n"
    return text + f"-----END {label}-----\n" if end else text
