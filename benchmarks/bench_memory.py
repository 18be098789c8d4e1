"""Benchmark 6, memory: resident memory with 20,000 machines and 100,000 jobs loaded into the store.

Measured in a fresh child process (so nothing of the parent's set-up is counted) in stages, each after
``gc.collect()``, reading ``VmRSS`` from ``/proc/self/status``:

1. ``imports``: the console's models, store and Textual imported (the floor of any console process);
2. ``store``: a snapshot of the cluster parsed from its JSON bytes (``Snapshot.model_validate_json``, as the client
   does, so every object is distinct as off the wire) and applied with ``Store.apply_snapshot``; the bytes and the
   parsed snapshot are then dropped, as the source drops them;
3. ``store_with_history``: the telemetry history full (60 values of every telemetry name of every machine: what
   the store holds after an hour at 0.25 Hz), filled through ``Store.apply_event`` with telemetry events;
4. ``app_with_grid``: a headless Textual app (160x48) showing all machines in a ``MachineGrid``: the widget
   layer's share. The real console's resident memory with 20,000 machines is reported by the ``live`` benchmark.

The target (issue 15: 150 MB; issue 5's was 250 MB) is judged on the largest stage that exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Target, method_of, print_table, print_targets, write_result

NAME = "memory"
MB = 1024 * 1024
TARGET_MB = 150


def _snapshot_json(n_machines: int, n_jobs: int) -> bytes:
    from benchmarks.fixtures import make_jobs, make_machines
    from console.api.models import Snapshot
    from console.demo.runner import make_simulation
    from console.demo.sim import SimConfig
    from console.demo.views import View

    sim = make_simulation(SimConfig(nodes=6, machines_per_node=20))
    view = View(sim)
    machines = make_machines(n_machines)
    nodes = sorted({m.node_id for m in machines})
    template = view.nodes()[0]
    snapshot = Snapshot(
        seq=0,
        cluster=view.cluster(0, "bench"),
        nodes=[template.model_copy(update={"id": nid, "name": f"node {nid}"}) for nid in nodes],
        machines=machines,
        jobs=make_jobs(n_jobs, machines),
        alerts=view.alerts(),
        quality=view.quality(),
    )
    return snapshot.model_dump_json().encode()


CHILD = r"""
import asyncio, gc, json, sys, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0

stages = {}
def mark(name):
    gc.collect()
    stages[name] = rss()

from console.api.models import Event, MachineTelemetry, Snapshot
from console.store.store import Store
import textual.app  # noqa: F401
from widgets.machine_grid import MachineGrid
mark("imports")

path, history_len, with_app = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
data = Path(path).read_bytes()
snapshot = Snapshot.model_validate_json(data)
counts = {"machines": len(snapshot.machines), "jobs": len(snapshot.jobs), "snapshot_bytes": len(data)}
store = Store()
store.apply_snapshot("bench", snapshot)
store.take_changes()
del data, snapshot
mark("store")
# Where it goes. Objects are counted once each (job designs are shared between jobs), and so are pydantic's
# ``__pydantic_fields_set__`` sets: the store gives every model object of one shape one shared read-only set, so
# summing the set of each object (as this line once did) would count the same set thousands of times. Machines, jobs
# and designs are lean records (slotted pydantic dataclasses: no ``__dict__``, no fields set).
objects = {id(o): o for o in [*store.machines.values(), *store.jobs.values(), *(j.design for j in store.jobs.values())]}
field_sets = {
    id(fs): fs for o in objects.values() if (fs := getattr(o, "__pydantic_fields_set__", None)) is not None
}
counts["objects"] = len(objects)
counts["lean_objects"] = sum(1 for o in objects.values() if not hasattr(o, "__dict__"))
counts["distinct_fields_sets"] = len(field_sets)
counts["fields_set_bytes"] = sum(sys.getsizeof(f) for f in field_sets.values())
counts["instance_dict_bytes"] = sum(sys.getsizeof(o.__dict__) for o in objects.values() if hasattr(o, "__dict__"))
counts["object_bytes"] = sum(sys.getsizeof(o) for o in objects.values())
del objects, field_sets

if history_len:
    seq = store.sources["bench"].seq
    at = "2026-11-25T12:00:00Z"
    machines = list(store.machines.values())
    for step in range(history_len):
        for m in machines:
            seq += 1
            values = {name: value + step * 0.1 for name, value in m.telemetry.items()}
            telemetry = MachineTelemetry.model_validate({"machine_id": m.id, "at": at, "values": values})
            store.apply_event("bench", Event(seq, "machine.telemetry", telemetry))
    store.take_changes()
    del machines
    mark("store_with_history")

if with_app:
    from textual.app import App
    from themes import DEFAULT_THEME, VARIABLE_DEFAULTS, register_themes

    class GridApp(App):
        def get_theme_variable_defaults(self):
            return VARIABLE_DEFAULTS
        def compose(self):
            yield MachineGrid(id="grid")
        def on_mount(self):
            register_themes(self)
            self.theme = DEFAULT_THEME

    async def main():
        app = GridApp()
        async with app.run_test(size=(160, 48)) as pilot:
            app.query_one(MachineGrid).set_machines(sorted(store.machines.values(), key=lambda m: m.id))
            await pilot.pause()
            mark("app_with_grid")

    asyncio.run(main())

print(json.dumps({"stages": stages, "counts": counts}))
"""


def measure(n_machines: int, n_jobs: int, history_len: int, with_app: bool = True) -> dict[str, Any]:
    data = _snapshot_json(n_machines, n_jobs)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        handle.write(data)
        path = handle.name
    del data
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, path, str(history_len), "1" if with_app else "0"],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=600,
            check=False,
        )
    finally:
        Path(path).unlink(missing_ok=True)
    if out.returncode != 0:
        raise RuntimeError(f"memory child failed: {out.stderr[-2000:]}")
    child = json.loads(out.stdout.strip().splitlines()[-1])
    stages_mb = {name: round(value / MB, 1) for name, value in child["stages"].items()}
    largest = max(stages_mb.values())
    return {
        "method": method_of(__doc__),
        "machines": n_machines,
        "jobs": n_jobs,
        "history_values_per_name": history_len,
        "snapshot_json_mb": round(child["counts"]["snapshot_bytes"] / MB, 1),
        "rss_mb": stages_mb,
        "objects": child["counts"]["objects"],
        "lean_objects": child["counts"]["lean_objects"],
        "object_mb": round(child["counts"]["object_bytes"] / MB, 1),
        "distinct_fields_sets": child["counts"]["distinct_fields_sets"],
        "pydantic_fields_set_mb": round(child["counts"]["fields_set_bytes"] / MB, 2),
        "instance_dict_mb": round(child["counts"]["instance_dict_bytes"] / MB, 1),
        "targets": [Target(f"RSS, {n_machines:,} machines + {n_jobs:,} jobs", TARGET_MB, largest, "MB")],
    }


def report(result: dict[str, Any]) -> None:
    rows = [[stage, mb] for stage, mb in result["rss_mb"].items()]
    print_table(
        f"memory: {result['machines']:,} machines, {result['jobs']:,} jobs "
        f"(snapshot {result['snapshot_json_mb']} MB of JSON)",
        ["stage", "RSS MB"],
        rows,
    )
    print(
        f"  of which: {result['objects']:,} distinct machines, jobs and job designs "
        f"({result['lean_objects']:,} of them "
        f"lean records), the objects themselves {result['object_mb']} MB, instance __dict__s "
        f"{result['instance_dict_mb']} MB; {result['distinct_fields_sets']:,} distinct __pydantic_fields_set__ sets "
        f"({result['pydantic_fields_set_mb']} MB: shared per shape)"
    )
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    # Quick: the store alone (the largest share); full: with an hour of telemetry history and the grid app.
    result = measure(20_000, 100_000, history_len=0 if quick else 60, with_app=not quick)
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
