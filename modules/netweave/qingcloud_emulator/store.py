"""The emulator's state: resources per zone, asynchronous jobs, deterministic ids, and an
optional JSON file so that ``pulumi up`` and ``pulumi destroy`` can span restarts.

Jobs advance lazily: every request (and every snapshot) first completes the jobs whose time
is up, applying their recorded effects. No background thread, so a test sees the same
sequence for the same seed and timings."""

from __future__ import annotations

import json
import os
import random
import string
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import denied, not_found

Record = dict[str, Any]
# An effect a job applies when it ends: ["set", kind, id, {field: value}], ["add", kind, id, record]
# (a record the job brings into being, e.g. a route table's system rule) or ["remove", kind, id, {}].
Op = list[Any]

KINDS = ("router", "vxnet", "instance", "nic", "eip", "security_group", "security_group_rule",
         "router_static", "routing_table", "routing_table_rule", "tag", "attachment")
# Never written to the state file: user data may carry WireGuard keys and PSKs.
SECRET_FIELDS = ("_userdata_value", "_content")
_ALPHABET = string.ascii_lowercase + string.digits
_TERMINAL = ("successful", "failed")


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Zone:
    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.res: dict[str, dict[str, Record]] = {kind: {} for kind in KINDS}
        self.jobs: dict[str, Record] = {}

    # ---- lookups -------------------------------------------------------------------------
    def find(self, kind: str, rid: str, *, deleted: bool = False) -> Record | None:
        rec = self.res[kind].get(rid)
        if rec is None or (rec.get("_deleted") and not deleted):
            return None
        return rec

    def get(self, kind: str, rid: str) -> Record:
        rec = self.find(kind, rid)
        if rec is None:
            raise not_found(rid)
        return rec

    def live(self, kind: str) -> Iterator[Record]:
        return (r for r in self.res[kind].values() if not r.get("_deleted"))

    def new_id(self, prefix: str) -> str:
        rng = self.store.rng
        while True:
            if prefix == "nic":  # NIC ids are MAC addresses (describe_nics.md)
                rid = "52:54:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(4))
            else:
                rid = prefix + "-" + "".join(rng.choice(_ALPHABET) for _ in range(8))
            if all(rid not in self.res[k] for k in KINDS) and rid not in self.jobs:
                return rid

    def add(self, kind: str, rid: str, rec: Record) -> Record:
        now = self.store.clock()
        rec.setdefault("create_time", iso(now))
        rec.setdefault("status_time", iso(now))
        rec["_lease_until"] = now + self.store.lease_seconds
        rec["_zone"] = self.name
        self.res[kind][rid] = rec
        return rec

    def set(self, rec: Record, **fields: Any) -> None:
        if "status" in fields and fields["status"] != rec.get("status"):
            rec["status_time"] = iso(self.store.clock())
        rec.update(fields)

    # ---- rules every modify/delete obeys ---------------------------------------------------
    def ensure_mutable(self, rec: Record, rid: str) -> None:
        """Refuse while a job holds the resource or its lease is not recorded yet."""
        if rec.get("transition_status"):
            raise denied(f"resource [{rid}] is [{rec['transition_status']}] now, please try later")
        if self.store.clock() < rec.get("_lease_until", 0.0):
            raise denied(f"the lease of resource [{rid}] is not ready yet, please try later")

    # ---- jobs ------------------------------------------------------------------------------
    def job(self, action: str, resource_ids: list[str], ok: list[Op], fail: list[Op]) -> str:
        store = self.store
        now = store.clock()
        job_id = self.new_id("j")
        duration = store.job_duration(action)
        self.jobs[job_id] = {
            "job_id": job_id, "job_action": action, "status": "pending",
            "resource_ids": " ".join(resource_ids), "create_time": iso(now), "status_time": iso(now),
            "error_codes": "", "owner": "usr-emulator", "zone_id": self.name,
            "_start": now, "_due": now + duration, "_ok": ok, "_fail": fail,
            "_will_fail": store.job_fails(action),
        }
        return job_id

    def advance(self, now: float) -> None:
        for job in sorted(self.jobs.values(), key=lambda j: (j["_due"], j["job_id"])):
            if job["status"] in _TERMINAL:
                continue
            if now >= job["_due"]:
                failed = bool(job["_will_fail"])
                for op in job["_fail"] if failed else job["_ok"]:
                    self._apply(op, job["_due"])
                job["status"] = "failed" if failed else "successful"
                job["error_codes"] = "5000" if failed else ""
                job["status_time"] = iso(job["_due"])
            elif job["status"] == "pending" and now >= job["_start"] + (job["_due"] - job["_start"]) / 5:
                job["status"] = "working"
                job["status_time"] = iso(now)

    def _apply(self, op: Op, when: float) -> None:
        verb, kind, rid, fields = op
        if verb == "add":
            self.add(kind, rid, dict(fields))
            return
        rec = self.res[kind].get(rid)
        if rec is None:
            return
        if verb == "remove":
            del self.res[kind][rid]
            return
        if "status" in fields and fields["status"] != rec.get("status"):
            rec["status_time"] = iso(when)
        rec.update(fields)

    def pending_jobs(self) -> int:
        return sum(1 for j in self.jobs.values() if j["status"] not in _TERMINAL)


class Store:
    def __init__(self, *, seed: int | None = None, job_duration: Callable[[str], float],
                 job_fails: Callable[[str], bool], lease_seconds: float = 0.0,
                 zones: set[str] | None = None, state_file: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.job_duration = job_duration
        self.job_fails = job_fails
        self.lease_seconds = lease_seconds
        self.allowed_zones = zones
        self.state_file = state_file
        self.clock = clock
        self.zones: dict[str, Zone] = {}
        if state_file is not None and state_file.exists():
            self.load(state_file)

    def zone(self, name: str) -> Zone:
        if name not in self.zones:
            self.zones[name] = Zone(self, name)
        return self.zones[name]

    def advance(self) -> None:
        now = self.clock()
        for zone in self.zones.values():
            zone.advance(now)

    def pending_jobs(self) -> int:
        with self.lock:
            self.advance()
            return sum(z.pending_jobs() for z in self.zones.values())

    def reset(self) -> None:
        with self.lock:
            self.zones.clear()
            self.save()

    # ---- persistence -------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        zones: dict[str, Any] = {}
        for name, zone in self.zones.items():
            res = {kind: {rid: {k: v for k, v in rec.items() if k not in SECRET_FIELDS}
                          for rid, rec in recs.items()} for kind, recs in zone.res.items()}
            zones[name] = {"resources": res, "jobs": zone.jobs}
        return {"format": "netweave-qingcloud-emulator/1", "zones": zones}

    def save(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(self.dump(), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        for name, body in data.get("zones", {}).items():
            zone = self.zone(name)
            for kind, recs in body.get("resources", {}).items():
                if kind in zone.res:
                    zone.res[kind].update(recs)
            zone.jobs.update(body.get("jobs", {}))
