"""The mixed floor's Sparkplug devices as pure seeded state (``console.demo.floor.sparkplug_devices``): jobs run to
100 % and the next one starts, a DCMD pause holds a device until resume, cancel ends its job, a device that declared
no commands ignores them, and the same seed gives the same floor."""

from __future__ import annotations

import random

from console.demo.floor.sparkplug_devices import DEVICES, DemoDevice, DeviceSpec, Telemetry
from console.sources.sparkplug.mapping import MetricMapping, telemetry_name

MILL = DeviceSpec("Mill", "cnc_mill", "VMC", (Telemetry("Spindle", "rpm", 0.0, 12000.0, 0.0),), job_s=10.0)


def running(spec: DeviceSpec = MILL) -> DemoDevice:
    device = DemoDevice(spec, random.Random(1))
    device.state, device.job, device.progress = "Running", "J-1", 50.0
    device.spec = DeviceSpec(spec.device_id, spec.kind, spec.model, spec.telemetry, spec.commands, spec.job_s, 0.0)
    return device


def test_a_job_runs_to_the_end_and_the_next_one_starts() -> None:
    device = running()
    assert device.step(2.0) == {"Progress": 70.0, "Spindle": 12000.0}
    changed = device.step(3.0)
    assert changed["State"] == "Idle" and changed["Job/Id"] == "" and device.jobs_done == 1
    for _ in range(13):  # idle for 4..12 s
        if device.step(1.0).get("Job/Id"):
            break
    assert (device.state, device.job, device.progress) == ("Running", "Mill-J002", 0.0)


def test_pause_holds_the_device_until_resume_and_cancel_ends_the_job() -> None:
    device = running()
    assert device.command("Pause") == {"State": "Paused"}
    assert device.command("Pause") == {}, "pausing a paused device changes nothing"
    device.step(5.0)
    assert (device.state, device.progress) == ("Paused", 50.0)
    assert device.step(1.0)["Spindle"] == 0.0, "a paused spindle stands still"
    assert device.command("Resume") == {"State": "Running"}
    changed = device.command("Cancel")
    assert changed["State"] == "Idle" and changed["Job/Id"] == "" and device.jobs_done == 0


def test_a_device_that_declared_no_commands_ignores_them() -> None:
    laser = next(spec for spec in DEVICES if not spec.commands)
    device = running(laser)
    assert device.command("Pause") == {} and device.state == "Running"
    assert not any(name.startswith("Command/") for name in device.birth_values())


def test_the_same_seed_gives_the_same_floor() -> None:
    def trace(seed: int) -> list[tuple[str, float, str | None]]:
        device = DemoDevice(DEVICES[2], random.Random(seed))
        out = []
        for _ in range(300):
            device.step(1.0)
            out.append((device.state, device.progress, device.job))
        return out

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_the_metrics_mean_what_the_default_mapping_says() -> None:
    mapping = MetricMapping()
    names = {telemetry_name(t.name, t.unit) for spec in DEVICES for t in spec.telemetry}
    assert names == {"nozzle_c", "bed_c", "spindle_rpm", "spindle_load_pct", "laser_pct", "power_kw"}
    births = DemoDevice(DEVICES[0], random.Random(1)).birth_values()
    assert {mapping.state, mapping.progress, mapping.job_id, mapping.kind, *mapping.commands.values()} <= set(births)
