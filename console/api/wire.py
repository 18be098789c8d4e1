"""The base every wire object is built on, and how the contract writes times and models.

Split out of ``console.api.models`` so that the wire objects (``models``) and the command bodies
(``command_bodies``) share one base without importing each other. It holds the forward-compatibility rule of the
contract that every model follows: unknown fields are ignored (``extra="ignore"``), so a newer server does not break
an older console; and the number rules: values the contract bounds are validated, NaN and infinity are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "ApiModel",
    "Count",
    "Fraction",
    "NonNegative",
    "Timestamp",
    "as_jsonable",
    "dump_json",
    "format_time",
    "utc_now",
]


class ApiModel(BaseModel):
    """Base of every wire object: ignores unknown fields, refuses NaN and infinity."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, populate_by_name=True)


Timestamp = AwareDatetime
"""RFC 3339 times; a time without an offset is refused (the contract says UTC)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
"""A number in 0..1: progress, scores, OEE and its components."""

NonNegative = Annotated[float, Field(ge=0.0)]
Count = Annotated[int, Field(ge=0)]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """Format a time as the contract writes it: RFC 3339 UTC with a ``Z`` and whole seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_json(model: BaseModel) -> str:
    """Serialise a model as the wire writes it (JSON, times in RFC 3339)."""
    return model.model_dump_json()


def as_jsonable(model: BaseModel) -> dict[str, Any]:
    """A model as a JSON-ready dict (for FastAPI responses and SSE data)."""
    return model.model_dump(mode="json")
