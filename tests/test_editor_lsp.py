"""What an editor shows for a broken stack: yaml-language-server (VS Code's YAML extension,
Neovim, Helix), driven over LSP with the committed JSON Schema, and lint on the same file.

The server is installed by .ci/setup into .ci/editor (npm ci, pinned by its lockfile)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from netweave.lint import lint_file
from netweave.model.topology import ADDRESS_PATTERN

from tests.support.lsp import Client

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / ".ci" / "editor" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
SCHEMA = ROOT / "stacks" / "netweave.schema.json"
BROKEN = ROOT / "tests" / "fixtures" / "editor" / "broken.yaml"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not SERVER.exists(),
    reason="yaml-language-server is not installed: bash .ci/setup installs it with npm "
           f"({'node is missing' if NODE is None else 'npm ci into .ci/editor did not run or failed'})")

CIDR = ("not a network in CIDR notation: an IPv4 address (four numbers 0-255) and a prefix "
        "length 0-32, e.g. 192.168.128.0/24")
ADDRESS = ("not an IP address: four numbers 0-255 separated by dots, without a prefix length, "
           "e.g. 192.168.128.2")
# a route push's next hop may also name its router (a Vultr VPC address is assigned at deploy)
NEXT_HOP = "not an IP address (e.g. 192.168.128.2) nor the name of a vCPE or VPN server"
INTERFACE = ("not an interface address: an IPv4 address (four numbers 0-255) and its prefix "
             "length 0-32, e.g. 169.254.10.1/30")
# (line, column, message), 1-based like lint; the schema's words, never its regular expressions
EXPECTED = [
    (2, 1, 'Missing property "version".'),
    (8, 11, CIDR),
    (13, 19, NEXT_HOP),
    (19, 16, 'Incorrect type. Expected "integer".'),
    (19, 36, ADDRESS),
    (20, 11, 'Incorrect type. Expected "string".'),
    (23, 33, INTERFACE),
    (26, 36, "not a port or a port range: one port (443) or a range (8000-8100)"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[Client]:
    settings = {"yaml": {"validate": True, "hover": True, "completion": True,
                         "schemaStore": {"enable": False},
                         "schemas": {SCHEMA.as_uri(): ["*.yaml"]}}}
    client = Client([NODE or "node", str(SERVER), "--stdio"], settings)
    try:
        client.start(ROOT)
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def shown(server: Client) -> list[tuple[int, int, str]]:
    return sorted((d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1, d["message"])
                  for d in server.diagnostics(BROKEN))


def test_the_editor_explains_each_slip_in_words(shown: list[tuple[int, int, str]]) -> None:
    assert shown == EXPECTED


def test_no_message_shows_a_regular_expression(shown: list[tuple[int, int, str]]) -> None:
    assert not any("pattern" in message or ADDRESS_PATTERN[:12] in message for *_, message in shown)


def test_lint_refuses_the_same_values_at_the_same_places(shown: list[tuple[int, int, str]]) -> None:
    result = lint_file(str(BROKEN))
    assert result.unusable
    linted = {(f.line, f.column) for f in result.findings}
    # lint also refuses the host name '1vm' (15:3): yaml-language-server 1.25 does not
    # check the schema's propertyNames
    assert linted == {(line, column) for line, column, _ in shown} | {(15, 3)}


def test_hovering_a_key_shows_its_description(server: Client) -> None:
    server.diagnostics(BROKEN)  # opened
    text = server.hover(BROKEN, 12, 10)  # next_hop
    assert "where the VMs send it: a vCPE NIC (or VPN server) address in this VPC" in text
