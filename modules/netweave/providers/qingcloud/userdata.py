"""QingCloud user data: how a vCPE's boot configuration reaches the VM (not cloud-init).

- ``tar``: the files, as a tar archive uploaded with ``UploadUserDataAttachment`` (POST,
  archive at most 2 MB) and unpacked at ``/``. Given either as the archive itself (base64
  text: the renderer's ``userdata.tar``, modes and all, byte for byte what emulation runs)
  or as ``{absolute path: text}`` (archived here, gzipped).
- ``exec``: a script, base64 at most 4 KB, run from ``/etc/rc.local``.
- ``plain``: a string, base64 at most 4 KB, in ``/etc/qingcloud/userdata/userdata.string``.

The archive is deterministic (sorted, mtime 0, fixed owner) so that the same files always
give the same bytes, and the instance is only replaced when the configuration changes.
"""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
from collections.abc import Mapping
from typing import Any

TAR_LIMIT = 2 * 1024 * 1024
TEXT_LIMIT = 4 * 1024
TYPES = ("tar", "exec", "plain")


def tar_archive(files: Mapping[str, str]) -> bytes:
    """Files ``{"/etc/frr/frr.conf": text}`` -> a .tar.gz that unpacks them at ``/``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            data = files[path].encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.mode = 0o755 if path.endswith(".sh") or "/bin/" in path else 0o644
            if "private" in path or path.startswith("/etc/wireguard/"):
                info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def attachment_name(base: str, archive: bytes) -> str:
    """``<base>.tar``, ``.tar.gz``, ``.tar.bz2`` or ``.zip``: the name says what the bytes are
    (upload_userdata_attachment.md accepts zip, tar, tgz, tbz; the renderer's userdata.tar
    is plain tar, ``tar_archive`` gzips)."""
    if archive[:2] == b"\x1f\x8b":
        return f"{base}.tar.gz"
    if archive[:3] == b"BZh":
        return f"{base}.tar.bz2"
    if archive[:4] == b"PK\x03\x04":
        return f"{base}.zip"
    return f"{base}.tar"


def encoded(userdata_type: str, userdata: Any) -> bytes:
    """What is sent: the archive for tar, the base64 text for exec/plain."""
    if userdata_type == "tar":
        if isinstance(userdata, str):
            return base64.b64decode(userdata, validate=True)
        return tar_archive(userdata)
    return base64.b64encode(str(userdata).encode())


def problem(userdata_type: Any, userdata: Any) -> str | None:
    """Why this user data cannot be delivered, or None."""
    if userdata is None and userdata_type is None:
        return None
    if userdata_type not in TYPES:
        return f"userdata_type must be one of {', '.join(TYPES)}, not {userdata_type!r}"
    if userdata_type == "tar":
        if isinstance(userdata, str):
            try:
                archive = base64.b64decode(userdata, validate=True)
                tarfile.open(fileobj=io.BytesIO(archive)).close()
            except (ValueError, tarfile.TarError):
                return "tar user data given as text must be a base64 tar archive"
            size = len(archive)
        elif not isinstance(userdata, Mapping) or not all(
                isinstance(k, str) and k.startswith("/") and isinstance(v, str) for k, v in userdata.items()):
            return "tar user data is a base64 archive or a mapping of absolute file paths to their text"
        else:
            size = len(tar_archive(userdata))
        if size > TAR_LIMIT:
            return (f"the boot configuration archive is {size} bytes; QingCloud accepts at most "
                    f"{TAR_LIMIT} bytes (2 MB) for a user data attachment")
        return None
    if not isinstance(userdata, str):
        return f"{userdata_type} user data is text"
    size = len(encoded(userdata_type, userdata))
    if size > TEXT_LIMIT:
        return (f"{userdata_type} user data is {size} bytes in base64; QingCloud accepts at most "
                f"{TEXT_LIMIT} bytes (4 KB): deliver it as userdata_type tar instead")
    return None
