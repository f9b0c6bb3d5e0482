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
# The commit the recorded pr-diff runs computed their comments for (workflow_run.head_sha).
HEAD_SHA = "4f0c5e2a9b7d1c3e5f6a8b0c2d4e6f8a0b1c3d5e"


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
        assert pr_comment.main(["--repo", "acme/net", "--pr", "9", "--head-sha", HEAD_SHA, str(body)]) == 1
    gh.done()
    assert "HTTP 403: " in capsys.readouterr().err


def test_a_forged_pr_number_is_refused_before_any_comment_is_read_or_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "s2-many-to-many.md"
    body.write_text(COMMENT)
    with Replay("forged-pr-number", COMMENT) as gh:
        monkeypatch.setenv("GITHUB_API_URL", gh.api)
        assert pr_comment.main(["--repo", "acme/net", "--pr", "8", "--head-sha", HEAD_SHA, str(body)]) == 1
    gh.done()  # exactly the one GET of the PR: no comment listed, none posted
    err = capsys.readouterr().err
    assert "does not belong to this run" in err and "nothing posted" in err


def test_a_marker_in_a_comment_the_bot_did_not_write_is_never_edited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "s2-many-to-many.md"
    body.write_text(COMMENT)
    with Replay("marker-not-by-the-bot", COMMENT) as gh:
        monkeypatch.setenv("GITHUB_API_URL", gh.api)
        assert pr_comment.main(["--repo", "acme/net", "--pr", "7", "--head-sha", HEAD_SHA, str(body)]) == 0
    gh.done()  # mallory's (User) and another app's (Bot) comments untouched: a POST, no PATCH
    assert "created comment 3003" in capsys.readouterr().out


@pytest.mark.parametrize("sha", ["HEAD", "4f0c5e2", HEAD_SHA.upper(), HEAD_SHA + "0", ""])
def test_a_head_sha_that_is_not_a_full_commit_sha_is_refused_before_any_request(sha: str) -> None:
    with pytest.raises(pr_comment.GitHubError, match="not a commit SHA"):
        pr_comment.GitHub("acme/net", api="http://127.0.0.1:9").verify_head(7, sha)


def test_more_comment_files_than_allowed_are_refused_before_any_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i in range(pr_comment.MAX_COMMENTS + 1):
        files.append(tmp_path / f"s{i}.md")
        files[-1].write_text(f"<!-- netweave-diff stack=s{i} -->\n")
    argv = ["--repo", "acme/net", "--pr", "7", "--head-sha", HEAD_SHA, *map(str, files)]
    with Replay("forged-pr-number", COMMENT) as gh:  # any request would be seen
        monkeypatch.setenv("GITHUB_API_URL", gh.api)
        assert pr_comment.main(argv) == 1
    assert gh.seen == []
    assert "nothing posted" in capsys.readouterr().err


def test_a_second_file_with_the_same_marker_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_text(COMMENT)
    second.write_text(COMMENT.replace("new", "overwrite"))
    with Replay("marker-not-by-the-bot", COMMENT) as gh:
        monkeypatch.setenv("GITHUB_API_URL", gh.api)
        assert pr_comment.main(["--repo", "acme/net", "--pr", "7", "--head-sha", HEAD_SHA,
                                str(first), str(second)]) == 1
    gh.done()
    assert "a second comment with the marker" in capsys.readouterr().err


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


def test_the_script_and_its_packages_import_only_the_standard_library() -> None:
    """pr-comment.yml runs it with the runner's python3 and PYTHONPATH=modules, nothing installed."""
    import ast
    import sys

    package = Path(pr_comment.__file__).resolve().parent.parent
    for file in (package / "__init__.py", package / "diff" / "__init__.py", Path(pr_comment.__file__)):
        for node in ast.walk(ast.parse(file.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names | {"__future__"}, (file.name, name)
