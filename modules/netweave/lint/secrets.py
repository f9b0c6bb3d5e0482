"""Key material: recognise it in a topology (to refuse it) and mask it in every output.

A topology file lives in git, and lint's output lands in terminals and CI logs: a key
pasted into either is leaked. The schema stage refuses values that look like keys
(V504); every report masks them too, in messages, hints, paths and the excerpt lines
of the file, whatever the rule that printed them (a key used as a mapping key comes
back in 'unknown key ...').

What is recognised, whole or inside a longer string:
- WireGuard keys: 32 bytes base64, 44 characters ending in '=' (wg(8));
- PEM / OpenVPN static / PuTTY private key blocks;
- AWS access key ids: a four-letter type prefix (AKIA, ASIA, ...) and 16 upper-case
  letters and digits (AWS IAM user guide, "Unique identifiers": "understanding unique ID
  prefixes");
- 40-character secret access keys (AWS, QingCloud): base64 letters with upper- and
  lower-case letters and digits, standing alone (a git commit id is lower-case hex);
- longer base64 runs of the same mix (a key of any other kind);
- Vultr API keys: 36 upper-case letters and digits (both present).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netweave.lint.findings import Finding

_B64 = "A-Za-z0-9+/"
_WG_KEY = re.compile(rf"(?<![{_B64}])[{_B64}]{{42}}[AEIMQUYcgkosw480]=(?![{_B64}=])")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|-----BEGIN OpenVPN |PuTTY-User-Key-File-")
_PEM_BLOCK = re.compile(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|-----BEGIN OpenVPN [^-]*-----"
                        r"|PuTTY-User-Key-File-)(.*?)(-----END[^-]*-----|\Z)", re.DOTALL)
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA"
                         r"|ASCA)[A-Z0-9]{16}(?![A-Z0-9])")
# 40 or more base64 characters in one run, padded or not: mixed case and digits checked
# in code (a regex lookahead per position would cost too much on big files)
_B64_RUN = re.compile(rf"(?<![{_B64}])[{_B64}]{{40,}}={{0,2}}(?![{_B64}=])")
_VULTR_KEY = re.compile(r"(?<![A-Za-z0-9])(?=[A-Z0-9]*[0-9])(?=[A-Z0-9]*[A-Z])[A-Z0-9]{36}"
                        r"(?![A-Za-z0-9])")
_MAX_SLASHES = 4  # a path or URL has more '/' than a random 40-character key usually does
SHORTEST = 20  # no pattern above matches fewer characters (an AWS access key id)
_MARKERS = ("-----BEGIN", "PuTTY-User-Key-File-")


def _random_looking(run: str) -> bool:
    body = run.rstrip("=")
    return (any(c.isdigit() for c in body) and any(c.isupper() for c in body)
            and any(c.islower() for c in body) and body.count("/") <= _MAX_SLASHES)


def _runs(text: str) -> list[re.Match[str]]:
    return [m for m in _B64_RUN.finditer(text) if _random_looking(m.group())]


def key_material(text: str) -> str | None:
    """What kind of key ``text`` holds (whole or inside it), or None."""
    if len(text) < SHORTEST and not any(m in text for m in _MARKERS):
        return None
    if _WG_KEY.search(text):
        return "a WireGuard key"
    if _PEM.search(text):
        return "a private key (PEM / OpenVPN / PuTTY key file)"
    if _AWS_KEY_ID.search(text):
        return "an AWS access key id"
    for run in _runs(text):
        return ("a 40-character secret access key (AWS / QingCloud)" if len(run.group()) == 40
                else "a key (a long random base64 string)")
    if _VULTR_KEY.search(text):
        return "a Vultr API key"
    return None


def mask(text: str) -> str:
    """``text`` with every key in it replaced by as many '*' (so columns stay put)."""
    if len(text) < SHORTEST and not any(m in text for m in _MARKERS):
        return text
    spans: list[tuple[int, int]] = []
    for pattern in (_WG_KEY, _AWS_KEY_ID, _VULTR_KEY):
        spans.extend(m.span() for m in pattern.finditer(text))
    spans.extend(m.span() for m in _runs(text))
    spans.extend(m.span(2) for m in _PEM_BLOCK.finditer(text))
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "*" * (end - start)
    return "".join(chars)


def masked(f: Finding) -> Finding:
    """A finding whose message, hint and path show no key material."""
    message, hint = mask(f.message), mask(f.hint) if f.hint else f.hint
    path = tuple(mask(p) if isinstance(p, str) else p for p in f.path)
    if message is f.message and hint is f.hint and path == f.path:
        return f
    return replace(f, message=message, hint=hint, path=path)
