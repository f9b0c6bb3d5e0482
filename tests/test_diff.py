"""netweave diff: golden scenarios on S2, the section order, formats and git revisions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from netweave.cli import main
from netweave.diff import compare as diff
from netweave.diff import report as diff_report

from tests.support import mermaid_subset

ROOT = Path(__file__).resolve().parent.parent
S2 = str(ROOT / "stacks" / "s2-many-to-many.yaml")
S1 = ROOT / "stacks" / "s1-one-to-one.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "diff"
ROUTE_TYPO = str(FIXTURES / "s2-route-typo.yaml")
EXTRA_NIC = str(FIXTURES / "s2-extra-nic.yaml")
NEW_PEER = str(FIXTURES / "s2-new-peer.yaml")
SECTIONS = ("1. Reachability", "2. Lint", "3. Network", "4. Resources")


def sections(text: str) -> dict[str, str]:
    found = {}
    for i, title in enumerate(SECTIONS):
        start = text.index(title)
        end = text.index(SECTIONS[i + 1]) if i + 1 < len(SECTIONS) else len(text)
        found[title] = text[start:end]
    return found


@pytest.fixture(scope="module")
def route_typo() -> diff.DiffReport:
    return diff.compare(S2, ROUTE_TYPO)


@pytest.fixture(scope="module")
def extra_nic() -> diff.DiffReport:
    return diff.compare(S2, EXTRA_NIC)


@pytest.fixture(scope="module")
def new_peer() -> diff.DiffReport:
    return diff.compare(S2, NEW_PEER)


# --- golden scenarios -----------------------------------------------------------------

def test_changed_route_first_section_names_the_host_pairs_that_lost_reachability(
        route_typo: diff.DiffReport) -> None:
    text = diff_report.text(route_typo)
    assert [text.index(s) for s in SECTIONS] == sorted(text.index(s) for s in SECTIONS)
    first = sections(text)["1. Reachability"]
    assert "LOST   vm02 ⇄ vm03" in first
    assert "192.168.129.6" in first  # the reason names the broken next hop
    assert "intent must_reach vm03 → vm02: met → VIOLATED" in first


def test_changed_route_loses_exactly_the_vxnet03_pairs(route_typo: diff.DiffReport) -> None:
    assert [(p.src, p.dst, p.both_ways) for p in route_typo.lost] == [("vm02", "vm03", True)]
    assert route_typo.gained == []


def test_changed_route_is_one_edited_route_push_in_network_words(route_typo: diff.DiffReport) -> None:
    (change,) = route_typo.network
    assert (change.op, change.kind, change.subject) == ("changed", "route_push", "vpc01 172.17.0.0/24")
    assert change.detail == "next hop 192.168.129.5 → 192.168.129.6"
    assert change.path == ("vpcs", "vpc01", "route_push", 1, "next_hop")


def test_extra_nic_shows_the_vcpe_nic_and_the_new_reachability(extra_nic: diff.DiffReport) -> None:
    text = diff_report.text(extra_nic)
    parts = sections(text)
    assert "GAINED vm01 ⇄ vm04" in parts["1. Reachability"]
    assert "GAINED vm02 ⇄ vm04" in parts["1. Reachability"]
    assert "LOST" not in parts["1. Reachability"]
    assert "+ NICs: vcpe01 eth2: extra NIC 192.168.130.5 in vxnet04" in parts["3. Network"]
    assert "+ create qingcloud:Nic vcpe01-nic2" in parts["4. Resources"]


def test_extra_nic_updates_the_route_table_push_of_vxnet02_in_place(extra_nic: diff.DiffReport) -> None:
    assert extra_nic.resources is not None
    update = next(r for r in extra_nic.resources if r.name == "vxnet02-route-table")
    assert (update.op, update.fields) == ("update", ("routes",))


def test_new_peer_reconfigures_vcpe01_in_place_and_replaces_no_vcpe(new_peer: diff.DiffReport) -> None:
    assert new_peer.vcpe_interruptions == []
    host = next(h for h in new_peer.hosts if h.host == "vcpe01")
    assert (host.how, host.outage) == ("in place", False)
    text = diff_report.text(new_peer)
    assert "vcpe01: reconfigured in place (no outage)" in sections(text)["4. Resources"]
    assert "WARNING" not in text
    md = diff_report.markdown(new_peer)
    assert "| vcpe01 | 🟢 reconfigured in place (no outage) |" in md


def test_a_reconfigured_vcpe_names_the_boot_files_that_changed(new_peer: diff.DiffReport) -> None:
    boot = next(b for b in new_peer.boot if b.host == "vcpe01")
    files = {f.path: f for f in boot.files}
    assert files["/etc/wireguard/wg-vcpe03.conf"].op == "added"
    assert files["/etc/wireguard/wg-vcpe03.conf"].secret  # key material: named, never shown
    assert files["/etc/frr/frr.conf"].op == "changed"
    assert any("169.254.101.2" in line for line in boot.diff)  # the new BGP neighbour
    assert not any("PrivateKey" in line for line in boot.diff)


def test_a_route_push_change_replaces_no_vcpe(route_typo: diff.DiffReport) -> None:
    assert route_typo.vcpe_interruptions == [] and route_typo.boot == []


def test_the_new_vcpe_is_created_not_a_warning(new_peer: diff.DiffReport) -> None:
    assert new_peer.resources is not None
    assert any(r.op == "create" and r.vcpe == "vcpe03" for r in new_peer.resources)
    assert all(r.vcpe != "vcpe03" for r in new_peer.vcpe_interruptions)


# --- formats --------------------------------------------------------------------------

def test_markdown_starts_with_the_stack_marker_and_leads_with_reachability(
        route_typo: diff.DiffReport) -> None:
    md = diff_report.markdown(route_typo)
    assert md.startswith("<!-- netweave-diff stack=s2-route-typo -->\n")  # HEAD file = the stack
    assert md.index("### 1. Reachability") < md.index("### 2. Lint") < md.index("### 3. Network")
    assert "> - ❌ `vm02 ⇄ vm03`" in md


def test_markdown_embeds_a_mermaid_diagram_with_the_removed_push_highlighted(
        route_typo: diff.DiffReport) -> None:
    md = diff_report.markdown(route_typo)
    chart = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    d = mermaid_subset.parse(chart)
    (index,) = d.link_styles
    src, _, dst, label = d.edges[index]
    assert (src, dst, label) == ("vx_vxnet03", "vcpe_vcpe01", "push 172.17.0.0/24")


def test_markdown_stays_under_the_limit_by_summarizing(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    head = tmp_path / "head.yaml"
    base.write_text(Path(S2).read_text())
    pushes = "".join(f"      - {{destination: 10.{i // 256}.{i % 256}.0/24, next_hop: 172.17.0.2, "
                     "mechanism: route-table}\n" for i in range(3000))
    anchor = "        next_hop: 172.17.0.2            # vcpe02\n        mechanism: route-table\n"
    head.write_text(Path(S2).read_text().replace(anchor, anchor + pushes, 1))
    report = diff.compare(str(base), str(head), plans=False)
    assert len(report.network) >= 3000
    md = diff_report.markdown(report)
    assert len(md) < diff_report.MARKDOWN_LIMIT
    assert "more route pushes" in md


def test_json_has_the_four_sections_and_the_rehearsal_slot(route_typo: diff.DiffReport) -> None:
    data = json.loads(diff_report.as_json(route_typo))
    assert list(data)[3:] == ["reachability", "lint", "network", "resources", "rehearsal"]
    (pair,) = data["reachability"]["pairs"]
    assert (pair["from"], pair["to"], pair["before"], pair["after"]) == ("vm02", "vm03", True, False)


def test_identical_topologies_have_nothing_to_report() -> None:
    report = diff.compare(S2, S2)
    assert (report.pairs, report.intents, report.network, report.resources) == ([], [], [], [])
    assert "no change to reachability" in diff_report.markdown(report)


def test_an_unusable_head_reports_its_lint_findings_and_skips_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(S2).read_text().replace("cidr: 172.17.0.0/16", "cidr: 172.17.0.0/33"))
    report = diff.compare(S2, str(bad))
    assert [f.code for f in report.lint.introduced] == ["S104"]
    assert report.resources is None and report.reach_note and "not a usable topology" in report.reach_note


# --- command line and git revisions ---------------------------------------------------

def test_diff_command_fails_on_loss_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", S2, ROUTE_TYPO, "--no-plan"]) == 0
    assert main(["diff", S2, ROUTE_TYPO, "--no-plan", "--fail-on-loss"]) == 1
    assert main(["diff", S2, EXTRA_NIC, "--no-plan", "--fail-on-loss"]) == 0
    capsys.readouterr()


def test_diff_reads_the_base_from_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "stacks").mkdir()
    stack = tmp_path / "stacks" / "s2.yaml"
    stack.write_text(Path(S2).read_text())
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    stack.write_text(Path(ROUTE_TYPO).read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "main:stacks/s2.yaml", "stacks/s2.yaml", "--no-plan"]) == 0
    out = capsys.readouterr().out
    assert "main:stacks/s2.yaml → stacks/s2.yaml" in out
    assert "LOST   vm02 ⇄ vm03" in out


def test_diff_of_an_unknown_revision_says_so_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "no-such-ref:stacks/s2-many-to-many.yaml", S2]) == 2
    err = capsys.readouterr().err
    assert "cannot read stacks/s2-many-to-many.yaml at no-such-ref" in err


def test_vultr_user_data_change_is_ignored_by_the_instance_and_applied_in_place() -> None:
    # userData is force-new in the Vultr provider; the program sets ignore_changes on it
    report = diff.compare(str(ROOT / "stacks" / "s3-hybrid-vultr.yaml"), str(FIXTURES / "s3-tunnel-mtu.yaml"))
    assert report.vcpe_interruptions == []
    assert {h.host: h.how for h in report.hosts} == {"qc-vcpe": "in place", "vultr-vcpe": "in place"}
    assert [c.detail for c in report.network] == ["mtu (default) → 1380"]


def test_an_image_change_replaces_the_vcpe_and_says_so(tmp_path: Path) -> None:
    head = tmp_path / "s1-one-to-one.yaml"
    head.write_text(S1.read_text().replace("  vcpe02:\n    nics:",
                                           "  vcpe02:\n    image: ubuntu2404x64\n    nics:"))
    report = diff.compare(str(S1), str(head))
    (host,) = report.hosts
    assert (host.host, host.how, host.why, host.outage) == ("vcpe02", "replaced", ("image_id",), True)
    assert "WARNING: vCPE vcpe02 is replaced (because image_id changed)" in diff_report.text(report)
    assert "| vcpe02 | 🔴 replaced (outage) (because image_id changed) |" in diff_report.markdown(report)


def test_markdown_headline_counts_lint_findings_in_plain_english(route_typo: diff.DiffReport) -> None:
    headline = diff_report.markdown(route_typo).splitlines()[3]
    assert "2 new lint findings" in headline and "(s)" not in headline
