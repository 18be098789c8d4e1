"""Deterministic machines and jobs for the in-process benchmarks (grid, memory), built fast.

Why not the simulator: 100,000 machines from the simulator take tens of seconds to build and tick; these factories
validate one model per kind/state once and copy it, so a benchmark's set-up stays small next to what it measures.
The objects are valid contract models with realistic field sizes (ids, names, telemetry of each kind).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from console.api.models import Job, Machine

__all__ = ["T0", "changed_versions", "make_jobs", "make_machines"]

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

KINDS = ("fdm_printer", "sla_printer", "cnc_mill", "cnc_lathe", "laser_cutter", "sls_printer", "inspection")
MODELS = ("Prusa XL", "Form 4", "Haas VF-2", "Haas ST-10", "Trumpf TruLaser", "EOS P110", "Zeiss Contura")
STATES = ("running", "running", "running", "idle", "running", "blocked", "running", "fault", "paused", "maintenance")
TELEMETRY = {
    "fdm_printer": {"nozzle_c": 215.0, "bed_c": 60.0, "chamber_c": 31.0, "power_kw": 0.3},
    "sla_printer": {"chamber_c": 31.0, "power_kw": 0.2},
    "cnc_mill": {"spindle_rpm": 12000.0, "spindle_load_pct": 73.0, "feed_mm_min": 900.0, "power_kw": 5.5},
    "cnc_lathe": {"spindle_rpm": 3000.0, "spindle_load_pct": 41.0, "power_kw": 4.0},
    "laser_cutter": {"laser_pct": 80.0, "power_kw": 6.0},
    "sls_printer": {"chamber_c": 170.0, "power_kw": 3.0},
    "inspection": {"power_kw": 0.4},
}
CITIES = ("Leeds", "Manchester", "Sheffield", "Preston", "Bradford", "York")


def make_machines(n: int, machines_per_node: int = 100) -> list[Machine]:
    """``n`` machines over ``n / machines_per_node`` nodes, ids ``M-<node>-<nnn>`` like the simulator's."""
    templates: dict[tuple[str, str], Machine] = {}
    machines: list[Machine] = []
    for i in range(n):
        kind_i = i % len(KINDS)
        kind, state = KINDS[kind_i], STATES[i % len(STATES)]
        node, j = divmod(i, machines_per_node)
        template = templates.get((kind, state))
        if template is None:
            busy = state in ("running", "paused", "blocked")
            template = templates[(kind, state)] = Machine.model_validate(
                {
                    "id": "M-0",
                    "node_id": "N-0",
                    "name": "x",
                    "kind": kind,
                    "model": MODELS[kind_i],
                    "state": state,
                    "state_since": T0,
                    "job_id": "J-0" if busy else None,
                    "progress": 0.5 if busy else None,
                    "materials": ["PLA", "PETG"],
                    "processes": [kind.split("_")[0]],
                    "envelope_mm": (250.0, 210.0, 220.0),
                    "telemetry": TELEMETRY[kind],
                    "state_reason": {"fault": "spindle overload", "blocked": "bed not clear"}.get(state),
                    "fault_code": "E-17" if state == "fault" else None,
                    "last_seen": T0,
                }
            )
        update: dict[str, object] = {
            "id": f"M-N{node:04d}-{j:03d}",
            "node_id": f"N-{node:04d}",
            "name": f"{CITIES[node % len(CITIES)]} {MODELS[kind_i]} #{j + 1}",
            "telemetry": dict(template.telemetry),
        }
        if template.job_id is not None:
            update["job_id"] = f"J-{100000 + i}"
            update["progress"] = ((i * 37) % 100) / 100
        machines.append(template.model_copy(update=update))
    return machines


def changed_versions(machines: list[Machine], fraction: float, rng: random.Random) -> dict[str, Machine]:
    """New versions of a random ``fraction`` of the machines (at least one): progress and telemetry moved."""
    count = max(1, round(len(machines) * fraction))
    changed: dict[str, Machine] = {}
    for machine in rng.sample(machines, count):
        telemetry = {name: round(value * rng.uniform(0.97, 1.03), 1) for name, value in machine.telemetry.items()}
        progress = None if machine.progress is None else min(1.0, round(machine.progress + 0.01, 4))
        changed[machine.id] = machine.model_copy(update={"telemetry": telemetry, "progress": progress})
    return changed


def make_jobs(n: int, machines: list[Machine]) -> list[Job]:
    """``n`` jobs: about one running job per busy machine, the rest queued on machines or in the backlog."""
    template = Job.model_validate(
        {
            "id": "J-0",
            "order_id": "O-0",
            "part": "bracket",
            "design": {"file": "bracket-v3.step", "sha256": "ab" * 32},
            "process": "fdm",
            "material": "PETG",
            "size_mm": (120.0, 80.0, 30.0),
            "quantity": 40,
            "done_qty": 12,
            "scrap_qty": 1,
            "priority": 3,
            "due_at": T0 + timedelta(hours=6),
            "status": "queued",
            "progress": 0.0,
            "created_at": T0,
            "customer_region": "North of England",
        }
    )
    jobs: list[Job] = []
    n_machines = len(machines)
    for i in range(n):
        machine = machines[i % n_machines] if n_machines and i % 5 else None
        status = "running" if machine is not None and i < n_machines else "queued"
        jobs.append(
            template.model_copy(
                update={
                    "id": f"J-{100000 + i}",
                    "order_id": f"O-{i // 4}",
                    "part": f"part {i % 997}",
                    "status": status,
                    "priority": 1 + i % 5,
                    "machine_id": machine.id if machine is not None else None,
                    "node_id": machine.node_id if machine is not None else None,
                    "queue_position": None if status == "running" else i // max(1, n_machines),
                    "progress": 0.3 if status == "running" else 0.0,
                }
            )
        )
    return jobs
