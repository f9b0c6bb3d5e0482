"""QingCloud delivery: user data is not cloud-init (there is no QingCloud datasource).

The files travel as a ``tar`` attachment unpacked at ``/``; the commands as
``/etc/rc.local`` inside it (the same place QingCloud's ``exec`` type writes), which
runs the boot script once. Limits (QingCloud API): ``exec``/``plain`` user data at most
4 KB once base64-encoded, a tar attachment at most 2 MB.
"""

from __future__ import annotations

import base64
import io
import tarfile

from netweave.render import boot
from netweave.render.artifacts import File, HostRender, RenderError
from netweave.render.templating import render

ARCHIVE = "userdata.tar"
EXEC = "userdata-exec.sh"
RC_LOCAL = "/etc/rc.local"
EXEC_LIMIT = 4 * 1024  # base64 bytes
TAR_LIMIT = 2 * 1024 * 1024
MTIME = 946684800  # 2000-01-01: fixed, so the same files give the same archive bytes


def exec_script() -> str:
    return render("rc.local.j2", boot=boot.SCRIPT)


def exec_payload(host: str, script: str) -> str:
    """The script as QingCloud's ``exec`` user data wants it: base64, at most 4 KB."""
    encoded = base64.b64encode(script.encode()).decode()
    if len(encoded) > EXEC_LIMIT:
        raise RenderError(f"{host}: the exec user data is {len(encoded)} bytes in base64; "
                          f"QingCloud accepts at most {EXEC_LIMIT} (use the tar attachment)")
    return encoded


def archive(host: str, files: list[File]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for f in sorted(files, key=lambda f: f.path):
            info = tarfile.TarInfo(f.path.lstrip("/"))
            info.size, info.mode, info.mtime = len(f.data), f.mode, MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(f.data))
    data = buffer.getvalue()
    if len(data) > TAR_LIMIT:
        raise RenderError(f"{host}: the user data archive is {len(data)} bytes; QingCloud "
                          f"accepts at most {TAR_LIMIT} bytes (2 MB)")
    return data


def deliver(host: HostRender) -> None:
    script = exec_script()
    exec_payload(host.name, script)  # the size check, before anything is uploaded
    files = [*host.files, File(RC_LOCAL, script, 0o755)]
    host.artifacts[ARCHIVE] = archive(host.name, files)
    host.artifacts[EXEC] = script.encode()
