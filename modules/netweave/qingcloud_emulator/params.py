"""Request parameters as the SDK flattens them: lists as ``key.1``, ``key.2`` (1-based) and
lists of dicts as ``key.1.field`` (qingcloud/iaas/connection.py, build_http_request)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import bad

_INDEXED = re.compile(r"^(\d+)(?:\.(.+))?$")


class Params:
    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = dict(raw)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                raise bad(f"parameter [{key}] should not be empty")
            return default
        return value

    def req(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def number(self, key: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.text(key, required=required)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError as exc:
            raise bad(f"parameter [{key}] should be an integer, got [{value}]") from exc

    def many(self, key: str) -> list[str]:
        items: dict[int, str] = {}
        prefix = key + "."
        for name, value in self.raw.items():
            if name.startswith(prefix):
                match = _INDEXED.match(name[len(prefix):])
                if match and match.group(2) is None:
                    items[int(match.group(1))] = value
        return [items[i] for i in sorted(items)]

    def dicts(self, key: str) -> list[dict[str, str]]:
        items: dict[int, dict[str, str]] = {}
        prefix = key + "."
        for name, value in self.raw.items():
            if name.startswith(prefix):
                match = _INDEXED.match(name[len(prefix):])
                if match and match.group(2) is not None:
                    items.setdefault(int(match.group(1)), {})[match.group(2)] = value
        return [items[i] for i in sorted(items)]

    def req_list(self, key: str) -> list[str]:
        values = self.many(key)
        if not values:
            raise bad(f"parameter [{key}.n] should not be empty")
        return values
