"""The user's own VMs, for stacks whose route pushes go per instance: netweave never creates
them, so a test launches them (through the emulator's API, as the user would with the
console) where the topology's ``hosts`` say they are, before the push that needs them."""

from __future__ import annotations

import time
from typing import Any

from netweave.qingcloud_emulator import Emulator

from tests.support.qingcloud_program import Registered

ZONE = "pek3a"


def _call(emu: Emulator, action: str, params: dict[str, Any], deadline: float) -> dict[str, Any]:
    """One call, repeated through injected faults (the user's console retries too)."""
    conn = emu.connection(ZONE, retry_time=1)
    while True:
        answer = conn.send_request(action, params)
        if answer is not None and answer.get("ret_code") == 0:
            return dict(answer)
        assert time.monotonic() < deadline, f"{action} kept failing: {answer}"
        time.sleep(0.01)


class Workloads:
    """``before_create`` for MiniEngine: launches the VM an InstanceRoutes resource names."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.ids: set[str] = set()

    def launch(self, vxnet_id: str, address: str, name: str) -> str:
        deadline = time.monotonic() + 30
        conn = self.emu.connection(ZONE, retry_time=1)
        while True:  # look before every attempt: an answer lost in a fault may hide a launch
            found = _call(self.emu, "DescribeVxnetInstances", {"vxnet": vxnet_id}, deadline)["instance_set"]
            at = [str(i["instance_id"]) for i in found if i["private_ip"] == address]
            if at:
                instance_id = at[0]
                break
            conn.send_request("RunInstances", {
                "image_id": "img-debian12", "instance_type": "c1m1", "login_mode": "passwd",
                "login_passwd": "Emulator-only-1", "instance_name": name,
                "vxnets.1": f"{vxnet_id}|{address}"})
            assert time.monotonic() < deadline, f"cannot launch {name}"
        self.ids.add(instance_id)
        while _call(self.emu, "DescribeInstances", {"instances.1": instance_id},
                    deadline)["instance_set"][0]["status"] != "running":
            time.sleep(0.01)
        return instance_id

    def __call__(self, r: Registered, inputs: dict[str, Any]) -> None:
        if r.short_type == "InstanceRoutes":
            self.ids.add(self.launch(inputs["vxnet_id"], inputs["address"], f"app-{inputs['host']}"))

    def terminate(self) -> None:
        """The user removes their VMs. Looks before every attempt: under injected faults an
        answer may be lost after QingCloud started terminating (a repeat is then refused)."""
        deadline = time.monotonic() + 30
        conn = self.emu.connection(ZONE, retry_time=1)
        for instance_id in sorted(self.ids):
            while True:
                found = _call(self.emu, "DescribeInstances", {"instances.1": instance_id}, deadline)
                item = (found.get("instance_set") or [{}])[0]
                if item.get("status") in ("terminated", "ceased", None):
                    break
                if not item.get("transition_status"):
                    conn.send_request("TerminateInstances", {"instances.1": instance_id})
                assert time.monotonic() < deadline, f"cannot terminate {instance_id}"
                time.sleep(0.01)
        self.emu.wait_for_jobs()
        self.ids.clear()
