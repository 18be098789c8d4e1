"""Names for dialogs and notifications: a machine, job or alert as an operator tells it apart from its neighbours.

Why the id and the name together: names repeat across a cluster ("Leeds Bambu Lab X1E" three times); ids are
unique but mean little to a person. A toast that says ``Pause M-LDS-02 Leeds Bambu Lab X1E #2: applied`` is both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from console.api.models import Alert, Job, Machine, Node
from console.screens.columns import source_name, source_text
from widgets.safe_text import clean

__all__ = ["alert_names", "job_label", "job_names", "machine_label", "machine_names", "paused_why"]


def machine_label(machine: Machine) -> str:
    """``Leeds Bambu Lab X1E #2 (M-LDS-02)``, for dialogs that describe one machine at length."""
    return f"{clean(machine.name, 40)} ({clean(machine.id, 30)})"


def job_label(job: Job) -> str:
    return f"{clean(job.id, 30)} ({clean(job.part, 40)} x{job.quantity})"


def paused_why(machine: Machine) -> str:
    """Why a machine is held, as the server says it (``paused by ana: operator check``), else who held it."""
    if machine.state_reason:
        return clean(machine.state_reason, 100)
    state = "draining" if machine.draining and machine.state != "paused" else clean(machine.state, 20)
    return f"{state} by {clean(machine.paused_by, 30)}" if machine.paused_by else state


def _id_and_name(ident: str, name: str) -> str:
    ident = clean(ident, 40)
    return ident if not name or name == ident else f"{ident} {clean(name, 40)}"


def machine_names(machines: Sequence[Machine]) -> str:
    """``M-LDS-02 Leeds Bambu Lab X1E #2`` for one machine, ``3 machines`` for several."""
    if len(machines) == 1:
        return _id_and_name(machines[0].id, machines[0].name)
    return f"{len(machines)} machines"


def job_names(jobs: Sequence[Job]) -> str:
    """``J-1042 (bracket)`` for one job, ``3 jobs`` for several."""
    if len(jobs) == 1:
        return f"{clean(jobs[0].id, 40)} ({clean(jobs[0].part, 40)})"
    return f"{len(jobs)} jobs"


def alert_names(alerts: Sequence[Alert], machines: Mapping[str, Machine], nodes: Mapping[str, Node]) -> str:
    """``A-77 on M-LDS-02 Leeds Bambu Lab X1E #2`` for one alert (its source by id and name), ``3 alerts`` else."""
    if len(alerts) != 1:
        return f"{len(alerts)} alerts"
    alert = alerts[0]
    return f"{clean(alert.id, 40)} on {source_text(alert, source_name(alert, machines, nodes))}"
