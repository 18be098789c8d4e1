"""The simulation builds its wire models without validating them (``console.demo.sim.construct``): every payload it
sends and every object it reads out must be exactly what validating the same values gives (same classes, same field
values of the same types, the same fields set), or the events would not be the ones a validated build sent."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from console.api.lean import LeanModel
from console.demo.sim import SimCommandError, SimConfig, Simulation, SteppedClock


def _typed(value: Any) -> Any:
    """``value`` spelled out with the type of everything in it (``1`` and ``1.0`` differ, as on the wire)."""
    if isinstance(value, BaseModel):
        fields = [(name, _typed(getattr(value, name))) for name in type(value).model_fields]
        return type(value).__name__, sorted(value.model_fields_set), fields
    if isinstance(value, LeanModel):
        return type(value).__name__, [(name, _typed(getattr(value, name))) for name in type(value).model_fields]
    if isinstance(value, dict):
        return "dict", [(_typed(k), _typed(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return type(value).__name__, [_typed(v) for v in value]
    if isinstance(value, datetime):
        return "datetime", value.isoformat(), type(value.tzinfo).__name__
    return type(value).__name__, repr(value)


def _validated(model: Any) -> Any:
    """``model``'s values validated again by its class (from Python values: no JSON in between to hide a type)."""
    cls = type(model)
    return cls.__pydantic_validator__.validate_python(model.model_dump())


def _check(model: Any) -> None:
    assert _typed(_validated(model)) == _typed(model), model


def test_every_payload_and_read_is_what_validation_gives() -> None:
    clock = SteppedClock()
    sim = Simulation(SimConfig(seed=3, opening_scene=True), clock)  # the opening scene: every state on screen
    payloads: list[Any] = []
    sim.subscribe(lambda t, p: payloads.append(p))
    for step in range(40):
        clock.advance(30.0)
        sim.tick()
        if step == 5:
            running = [j for j in sim.jobs() if j.status == "running"]
            with contextlib.suppress(SimCommandError):
                sim.execute("machine.pause", running[0].machine_id or "", {"mode": "now", "reason": "x"}, "alice")
            with contextlib.suppress(SimCommandError):
                sim.execute("job.reroute", running[1].id, {"auto": True, "restart": True}, "alice")
    seen = {type(p).__name__ for p in payloads}
    assert {"Machine", "Job", "MachineTelemetry", "Quality", "Node", "JobRemoved"} <= seen, seen
    for payload in payloads:
        _check(payload)
    for read in (sim.nodes(), sim.machines(), sim.jobs(), sim.quality()):
        for model in read:
            _check(model)
