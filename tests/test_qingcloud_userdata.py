"""QingCloud user data: the deterministic archive and the documented size limits."""

from __future__ import annotations

import base64
import gzip
import io
import tarfile

from netweave.providers.qingcloud import userdata
from netweave.providers.qingcloud.instance import InstanceProvider


def test_archive_unpacks_the_files_at_their_absolute_paths() -> None:
    archive = userdata.tar_archive({"/etc/frr/frr.conf": "router bgp 65001\n"})
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        member = tar.getmember("etc/frr/frr.conf")
        assert tar.extractfile(member).read() == b"router bgp 65001\n"  # type: ignore[union-attr]


def test_archive_is_byte_for_byte_deterministic() -> None:
    files = {"/b": "2", "/a": "1"}
    assert userdata.tar_archive(files) == userdata.tar_archive(dict(reversed(files.items())))


def test_wireguard_files_are_private_in_the_archive() -> None:
    archive = userdata.tar_archive({"/etc/wireguard/wg0.conf": "[Interface]\n"})
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        assert tar.getmember("etc/wireguard/wg0.conf").mode == 0o600


def test_archive_over_2_mb_is_a_check_failure_naming_the_limit() -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:  # the renderer's form: a plain tar, base64
        info = tarfile.TarInfo("srv/blob")
        info.size = 2_100_000
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    big = base64.b64encode(raw.getvalue()).decode()
    failures = InstanceProvider().check({}, {"zone": "pek3a", "name": "n", "image_id": "img",
                                             "instance_type": "t", "vxnet_id": "vxnet-1",
                                             "private_ip": "192.168.128.2", "login_keypair": "kp-1",
                                             "userdata_type": "tar",
                                             "userdata": big}).failures
    assert [f.property for f in failures] == ["userdata"]
    assert "2 MB" in failures[0].reason


def test_exec_script_over_4_kb_in_base64_is_refused_with_the_tar_hint() -> None:
    why = userdata.problem("exec", "#!/bin/sh\n" + "echo x\n" * 500)
    assert why is not None and "4 KB" in why and "tar" in why


def test_exec_script_within_4_kb_is_accepted() -> None:
    assert userdata.problem("exec", "#!/bin/sh\nsysctl -w net.ipv4.ip_forward=1\n") is None


def test_unknown_userdata_type_is_refused() -> None:
    assert "one of tar, exec, plain" in (userdata.problem("cloud-init", "x") or "")


def test_a_rendered_archive_in_base64_is_delivered_byte_for_byte() -> None:
    archive = userdata.tar_archive({"/etc/rc.local": "#!/bin/sh\n"})
    text = base64.b64encode(archive).decode()
    assert userdata.problem("tar", text) is None
    assert userdata.encoded("tar", text) == archive


def test_text_that_is_no_archive_is_refused() -> None:
    assert "base64 tar archive" in (userdata.problem("tar", "bm90IGEgdGFy") or "")
