"""Post or update the ``netweave diff`` comment of each stack on a pull request.

``python -m netweave.diff.pr_comment --repo OWNER/NAME --pr N FILE...``: each FILE is a
Markdown comment that starts with its hidden marker (``<!-- netweave-diff stack=... -->``).
The comment on the PR carrying the same marker is edited in place (PATCH); when there is
none, one is created (POST) — so every push updates one comment per stack instead of
piling new ones up. Uses the GitHub REST API with the token in ``GITHUB_TOKEN`` (read
when called, never stored); ``GITHUB_API_URL`` points it elsewhere (GHES, tests).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_VERSION = "2022-11-28"
MARKER_RE = re.compile(r"<!--\s*netweave-diff\s+stack=[^>]*?-->")
MAX_BODY = 65_536  # GitHub refuses longer comment bodies
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    marker: str
    action: str  # "created" | "updated" | "unchanged"
    comment_id: int
    url: str


def marker_of(body: str) -> str:
    found = MARKER_RE.search(body)
    if not found:
        raise ValueError("the comment has no netweave-diff marker (<!-- netweave-diff stack=NAME -->)")
    return found.group(0)


class GitHub:
    def __init__(self, repo: str, *, api: str | None = None, token: str | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
            raise ValueError(f"{repo!r} is not OWNER/NAME")
        self.repo = repo
        self.api = (api or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        self._token = token

    def _request(self, method: str, url: str, payload: dict[str, Any] | None = None
                 ) -> tuple[Any, dict[str, str]]:
        token = self._token or os.environ.get("GITHUB_TOKEN")
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set")
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {token}", "User-Agent": "netweave-pr-comment",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                body = resp.read()
                return (json.loads(body) if body else None), dict(resp.headers.items())
        except urllib.error.HTTPError as failed:
            detail = failed.read().decode(errors="replace")[:300]
            raise GitHubError(f"{method} {url}: HTTP {failed.code}: {detail}") from None

    def comments(self, pr: int) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self.api}/repos/{self.repo}/issues/{pr}/comments?per_page=100"
        while url:
            page, headers = self._request("GET", url)
            yield from page
            found = _NEXT.search(headers.get("Link", "") or headers.get("link", ""))
            url = found.group(1) if found else None

    def upsert(self, pr: int, body: str) -> Outcome:
        marker = marker_of(body)
        if len(body) > MAX_BODY:
            body = body[: MAX_BODY - 100] + "\n\n… (cut at GitHub's comment limit)\n"
        existing = next((c for c in self.comments(pr) if marker in (c.get("body") or "")), None)
        if existing is None:
            made, _ = self._request("POST", f"{self.api}/repos/{self.repo}/issues/{pr}/comments",
                                    {"body": body})
            return Outcome(marker, "created", int(made["id"]), made.get("html_url", ""))
        if existing.get("body") == body:
            return Outcome(marker, "unchanged", int(existing["id"]), existing.get("html_url", ""))
        edited, _ = self._request("PATCH", f"{self.api}/repos/{self.repo}/issues/comments/{existing['id']}",
                                  {"body": body})
        return Outcome(marker, "updated", int(edited["id"]), edited.get("html_url", ""))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m netweave.diff.pr_comment",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", required=True, help="OWNER/NAME")
    p.add_argument("--pr", required=True, type=int, help="pull request number")
    p.add_argument("files", nargs="+", metavar="FILE", help="Markdown comment(s), one per stack")
    args = p.parse_args(argv)
    gh = GitHub(args.repo)
    status = 0
    for file in args.files:
        try:
            outcome = gh.upsert(args.pr, Path(file).read_text(encoding="utf-8"))
        except (GitHubError, ValueError, OSError) as failed:
            print(f"pr_comment: {file}: {failed}", file=sys.stderr)
            status = 1
            continue
        print(f"{file}: {outcome.action} comment {outcome.comment_id} {outcome.url}")
    return status


if __name__ == "__main__":
    sys.exit(main())
