"""Schema-stage messages speak network, not pydantic: each names the object and the rule."""

from __future__ import annotations

from pathlib import Path

from netweave.lint import lint_text
from netweave.lint.findings import Finding

S1 = (Path(__file__).resolve().parent.parent / "stacks" / "s1-one-to-one.yaml").read_text()


def only(old: str, new: str) -> Finding:
    assert old in S1
    result = lint_text(S1.replace(old, new, 1))
    assert len(result.findings) == 1, [f.message for f in result.findings]
    return result.findings[0]


def test_empty_nics_says_a_vcpe_needs_its_primary_nic() -> None:
    f = only("    nics:\n      - {vxnet: vxnet01, address: 192.168.128.2}\n", "    nics: []\n")
    assert f.code == "S106"
    assert "vcpe01 has no NICs: a vCPE needs at least its primary NIC" in f.message
    assert "List should" not in f.message


def test_asn_out_of_range_names_the_as_range_and_suggests_a_private_as() -> None:
    f = only("asn: 65001", "asn: 0")
    assert "BGP AS numbers are 1 to 4294967295" in f.message
    assert f.hint and "64512-65534" in f.hint


def test_asn_written_with_as_prefix_gets_a_hint() -> None:
    f = only("asn: 65001", "asn: AS65001")
    assert f.code == "S102" and f.hint and "65001" in f.hint


def test_mtu_below_ipv4_minimum_is_explained() -> None:
    f = only("    type: wireguard\n", "    type: wireguard\n    mtu: 100\n")
    assert "576" in f.message and "MTU" in f.message
    assert "greater than or equal" not in f.message


def test_too_short_zone_says_what_zones_look_like() -> None:
    f = only("zone: pek3a", "zone: p")
    assert "'p' is not a QingCloud zone" in f.message and f.hint and "pek3a" in f.hint


def test_psk_with_a_literal_key_is_refused_as_a_secret() -> None:
    f = only("    type: wireguard\n", "    type: wireguard\n    psk: c2VjcmV0\n")
    assert f.code == "V504" and f.path == ("tunnels", 0, "psk")


def test_an_object_named_like_a_secret_key_is_just_a_name() -> None:
    result = lint_text(S1.replace("vxnet01", "token"))
    assert not [f for f in result.findings if f.code == "V504"]


def test_a_misspelled_required_key_is_one_finding_not_also_a_missing_key() -> None:
    f = only("    cidr: 192.168.0.0/16", "    cdir: 192.168.0.0/16")
    assert (f.code, f.hint) == ("S101", "did you mean 'cidr'?")


def test_a_required_key_that_is_simply_absent_is_still_reported_missing() -> None:
    f = only("    cidr: 192.168.0.0/16\n", "")
    assert (f.code, f.hint) == ("S103", "add 'cidr:'")
