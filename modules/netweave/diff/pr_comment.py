"""Post or update the ``netweave diff`` comment of each stack on a pull request.

``python -m netweave.diff.pr_comment --repo OWNER/NAME --pr N --head-sha SHA FILE...``: each
FILE is a Markdown comment that starts with its hidden marker (``<!-- netweave-diff
stack=... -->``). The comment on the PR carrying the same marker is edited in place
(PATCH); when there is none, one is created (POST) — so every push updates one comment per
stack instead of piling new ones up. Uses the GitHub REST API with the token in
``GITHUB_TOKEN`` (read when called, never stored); ``GITHUB_API_URL`` points it elsewhere
(GHES, tests).

It runs with a write token on data a fork produced (pr-comment.yml, ``workflow_run``), so
it trusts none of it:

- the PR number comes from the artifact: before anything is written, the PR's head commit
  (``GET /repos/{repo}/pulls/{pr}``, ``head.sha``) must be the commit the diff was computed
  for (``workflow_run.head_sha``, which GitHub sets, not the PR). A forged number names
  another PR, whose head is another commit: refused.
- only comments the workflow's own bot wrote (``user.type`` Bot, ``user.login``
  ``github-actions[bot]``) are edited; a marker in anyone else's comment is ignored, so no
  one can plant a marker to have the bot overwrite their comment, or hide the real one.
- at most ``MAX_COMMENTS`` files, one per marker, each cut at GitHub's body limit.
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
# The login the GITHUB_TOKEN of a workflow comments as (REST API: user.login / user.type).
BOT_LOGIN = "github-actions[bot]"
MAX_COMMENTS = 50  # one per stack; a forged artifact must not turn the bot into a spammer
_SHA = re.compile(r"[0-9a-f]{40}")
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

    def verify_head(self, pr: int, head_sha: str) -> None:
        """Refuse unless PR ``pr``'s head commit is ``head_sha`` (the commit the diff is of)."""
        if not _SHA.fullmatch(head_sha):
            raise GitHubError(f"{head_sha!r} is not a commit SHA (40 hex digits)")
        pull, _ = self._request("GET", f"{self.api}/repos/{self.repo}/pulls/{pr}")
        actual = ((pull or {}).get("head") or {}).get("sha")
        if actual != head_sha:
            raise GitHubError(
                f"PR #{pr}'s head is {actual}, but the diff was computed for {head_sha}: "
                "the PR number does not belong to this run (forged, or the PR moved on); "
                "nothing posted")

    def upsert(self, pr: int, body: str) -> Outcome:
        marker = marker_of(body)
        if len(body) > MAX_BODY:
            body = body[: MAX_BODY - 100] + "\n\n… (cut at GitHub's comment limit)\n"
        existing = next((c for c in self.comments(pr)
                         if _ours(c) and marker in (c.get("body") or "")), None)
        if existing is None:
            made, _ = self._request("POST", f"{self.api}/repos/{self.repo}/issues/{pr}/comments",
                                    {"body": body})
            return Outcome(marker, "created", int(made["id"]), made.get("html_url", ""))
        if existing.get("body") == body:
            return Outcome(marker, "unchanged", int(existing["id"]), existing.get("html_url", ""))
        edited, _ = self._request("PATCH", f"{self.api}/repos/{self.repo}/issues/comments/{existing['id']}",
                                  {"body": body})
        return Outcome(marker, "updated", int(edited["id"]), edited.get("html_url", ""))


def _ours(comment: dict[str, Any]) -> bool:
    """Written by the workflow's bot: the only comments this script may edit."""
    user = comment.get("user") or {}
    return user.get("type") == "Bot" and user.get("login") == BOT_LOGIN


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m netweave.diff.pr_comment",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", required=True, help="OWNER/NAME")
    p.add_argument("--pr", required=True, type=int, help="pull request number (untrusted: verified)")
    p.add_argument("--head-sha", required=True, metavar="SHA",
                   help="the commit the comments were computed for (workflow_run.head_sha); "
                        "the PR's head must be this commit")
    p.add_argument("files", nargs="+", metavar="FILE", help="Markdown comment(s), one per stack")
    args = p.parse_args(argv)
    if len(args.files) > MAX_COMMENTS:
        print(f"pr_comment: {len(args.files)} comments, more than the {MAX_COMMENTS} allowed "
              "(one per stack): nothing posted", file=sys.stderr)
        return 1
    gh = GitHub(args.repo)
    try:
        gh.verify_head(args.pr, args.head_sha)
    except GitHubError as refused:
        print(f"pr_comment: {refused}", file=sys.stderr)
        return 1
    status = 0
    posted: set[str] = set()
    for file in args.files:
        try:
            body = Path(file).read_text(encoding="utf-8")
            if marker_of(body) in posted:
                raise ValueError(f"a second comment with the marker {marker_of(body)}: skipped")
            posted.add(marker_of(body))
            outcome = gh.upsert(args.pr, body)
        except (GitHubError, ValueError, OSError) as failed:
            print(f"pr_comment: {file}: {failed}", file=sys.stderr)
            status = 1
            continue
        print(f"{file}: {outcome.action} comment {outcome.comment_id} {outcome.url}")
    return status


if __name__ == "__main__":
    sys.exit(main())
