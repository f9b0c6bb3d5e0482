"""QingCloud user data: the archive layout and the documented size limits."""

from __future__ import annotations

import base64
import io
import tarfile

import pytest
from netweave.render import File, RenderError, render_topology
from netweave.render import qingcloud as qc

from tests.support.render_helpers import load


def _archive() -> tarfile.TarFile:
    host = render_topology(*load("s2-many-to-many")).hosts["vcpe01"]
    return tarfile.open(fileobj=io.BytesIO(host.artifacts[qc.ARCHIVE]))


def test_archive_holds_the_rootfs_files_relative_to_root_in_sorted_order() -> None:
    names = _archive().getnames()
    assert names == sorted(names)
    assert "etc/frr/frr.conf" in names and "etc/wireguard/wg-vcpe02.conf" in names
    assert all(not n.startswith("/") and ".." not in n for n in names)


def test_archive_runs_the_boot_script_from_rc_local() -> None:
    tar = _archive()
    rc_local = tar.getmember("etc/rc.local")
    assert rc_local.mode == 0o755
    script = tar.extractfile(rc_local).read().decode()  # type: ignore[union-attr]
    assert "/bin/sh /etc/netweave/boot.sh" in script


def test_archive_members_have_fixed_owner_time_and_their_modes() -> None:
    members = {m.name: m for m in _archive().getmembers()}
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in members.values()} == {(0, 0, "root", qc.MTIME)}
    assert members["etc/wireguard/wg-vcpe02.conf"].mode == 0o600


def test_archive_bytes_are_deterministic() -> None:
    a = render_topology(*load("s1-one-to-one")).hosts["vcpe01"].artifacts[qc.ARCHIVE]
    b = render_topology(*load("s1-one-to-one")).hosts["vcpe01"].artifacts[qc.ARCHIVE]
    assert a == b


def test_exec_script_fits_the_4_kb_base64_limit() -> None:
    host = render_topology(*load("s1-one-to-one")).hosts["vcpe01"]
    encoded = qc.exec_payload("vcpe01", host.artifacts[qc.EXEC].decode())
    assert len(encoded) <= qc.EXEC_LIMIT
    assert base64.b64decode(encoded) == host.artifacts[qc.EXEC]


def test_exec_script_over_the_limit_is_a_clear_error() -> None:
    with pytest.raises(RenderError, match=r"vcpe01: the exec user data is \d+ bytes in base64; "
                                          r"QingCloud accepts at most 4096"):
        qc.exec_payload("vcpe01", "#" * 3100)


def test_archive_over_2_mb_is_a_clear_error() -> None:
    huge = File("/etc/netweave/huge", "x" * (qc.TAR_LIMIT + 1))
    with pytest.raises(RenderError, match=r"vcpe01: the user data archive is \d+ bytes; "
                                          r"QingCloud accepts at most 2097152"):
        qc.archive("vcpe01", [huge])


def test_manifest_names_the_qingcloud_delivery() -> None:
    manifest = render_topology(*load("s1-one-to-one")).manifest["hosts"]["vcpe01"]
    assert manifest["delivery"] == {"type": "qingcloud", "userdata_type": "tar",
                                    "archive": "userdata.tar", "exec": "userdata-exec.sh"}
