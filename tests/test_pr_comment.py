"""The PR comment script against recorded GitHub API exchanges, served on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from netweave.diff import pr_comment

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "github"
TOKEN = "ghs_test_token_not_real"
COMMENT = "<!-- netweave-diff stack=s2-many-to-many -->\n## netweave diff: stack `s2-many-to-many`\nnew\n"


class Replay:
    """Serves a recorded exchange in order and checks each request against the record."""

    def __init__(self, name: str, comment: str) -> None:
        data = json.loads((FIXTURES / f"{name}.json").read_text())
        self.exchange: list[dict[str, Any]] = data["exchange"]
        self.comment = comment
        self.seen: list[tuple[str, str, Any]] = []
        self.errors: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _fill(self, value: Any) -> Any:
        text = json.dumps(value).replace("{api}", self.api).replace("{comment}", self.comment.replace(
            "\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
        return json.loads(text)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                replay.seen.append((self.command, self.path, body))
                step = len(replay.seen) - 1
                if step >= len(replay.exchange):
                    replay.errors.append(f"unexpected request {self.command} {self.path}")
                    self.send_response(500)
                    self.end_headers()
                    return
                want = replay._fill(replay.exchange[step])
                expected = (want["request"]["method"], want["request"]["path"], want["request"].get("body"))
                if (self.command, self.path, body) != expected:
                    replay.errors.append(f"step {step}: got {(self.command, self.path)}, want {expected[:2]}")
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    replay.errors.append(f"step {step}: no bearer token")
                if self.headers.get("X-GitHub-Api-Version") != pr_comment.API_VERSION:
                    replay.errors.append(f"step {step}: no API version header")
                payload = json.dumps(want["response"]["body"]).encode()
                self.send_response(want["response"]["status"])
                for key, value in want["response"]["headers"].items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = _serve

        return Handler

    def __enter__(self) -> Replay:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def done(self) -> None:
        assert self.errors == []
        assert len(self.seen) == len(self.exchange), "not every recorded request was made"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


def test_the_stacks_comment_is_found_across_pages_and_edited_in_place_not_another_stacks() -> None:
    with Replay("update-existing", COMMENT) as gh:
        outcome = pr_comment.GitHub("acme/net", api=gh.api).upsert(7, COMMENT)
    gh.done()
    assert (outcome.action, outcome.comment_id) == ("updated", 1003)


def test_without_a_comment_of_the_stack_one_is_created() -> None:
    with Replay("create-new", COMMENT) as gh:
        outcome = pr_comment.GitHub("acme/net", api=gh.api).upsert(8, COMMENT)
    gh.done()
    assert (outcome.action, outcome.comment_id) == ("created", 2001)


def test_the_command_line_posts_each_file_and_reports_a_refusal(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "s2-many-to-many.md"
    body.write_text(COMMENT)
    with Replay("forbidden", COMMENT) as gh:
        monkeypatch.setenv("GITHUB_API_URL", gh.api)
        assert pr_comment.main(["--repo", "acme/net", "--pr", "9", str(body)]) == 1
    gh.done()
    assert "HTTP 403: " in capsys.readouterr().err


def test_a_body_without_marker_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="marker"):
        pr_comment.GitHub("acme/net", api="http://127.0.0.1:9").upsert(1, "## no marker")


def test_the_token_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(pr_comment.GitHubError, match="GITHUB_TOKEN"):
        pr_comment.GitHub("acme/net", api="http://127.0.0.1:9").upsert(1, COMMENT)


def test_repo_must_be_owner_slash_name() -> None:
    with pytest.raises(ValueError):
        pr_comment.GitHub("acme/net/../x")
