"""Helpers shared by the QingCloud emulator tests: the real qingcloud-sdk client against
an emulator on an ephemeral loopback port, and short waits for jobs."""

from __future__ import annotations

import base64
import io
import tarfile
import time
from typing import Any

from netweave.qingcloud_emulator import Emulator

ZONE = "pek3a"


def wait_job(conn: Any, job_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll DescribeJobs until the job ends (the SDK's own wait_job polls every 2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        job = conn.describe_jobs(jobs=[job_id])["job_set"][0]
        if job["status"] in ("successful", "failed"):
            return dict(job)
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.01)


def ok(answer: dict[str, Any] | None) -> dict[str, Any]:
    assert answer is not None, "HTTP failure (the SDK returned None)"
    assert answer["ret_code"] == 0, answer
    return answer


def make_router(conn: Any, vpc_network: str = "192.168.0.0/16", name: str = "vpc01") -> str:
    answer = ok(conn.create_routers(router_name=name, vpc_network=vpc_network))
    assert wait_job(conn, answer["job_id"])["status"] == "successful"
    return str(answer["routers"][0])


def make_vxnet(conn: Any, router_id: str, ip_network: str, name: str = "vxnet01") -> str:
    vxnet_id = str(ok(conn.create_vxnets(vxnet_name=name))["vxnets"][0])
    job = ok(conn.join_router(vxnet=vxnet_id, router=router_id, ip_network=ip_network))["job_id"]
    assert wait_job(conn, job)["status"] == "successful"
    return vxnet_id


def make_instance(conn: Any, vxnet_id: str, ip: str | None = None, wait: bool = True,
                  **extra: Any) -> str:
    entry = f"{vxnet_id}|{ip}" if ip else vxnet_id
    answer = ok(conn.run_instances(image_id="img-debian12", instance_type="c1m1", login_mode="passwd",
                                   login_passwd="Emulator-only-1", vxnets=[entry], **extra))
    if wait:
        assert wait_job(conn, answer["job_id"])["status"] == "successful"
    return str(answer["instances"][0])


def tar_archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def started(**kwargs: Any) -> Emulator:
    kwargs.setdefault("job_seconds", 0.05)
    kwargs.setdefault("seed", 7)
    emu = Emulator(**kwargs)
    emu.start()
    return emu
