"""A profile's ``sparkplug`` table: the MQTT broker a Sparkplug B source follows, and its metric mapping.

::

    [profiles.plant.sparkplug]
    url = "mqtts://broker.plant.example:8883"
    groups = ["Plant1"]                 # default: every group (spBv1.0/#)
    host_id = "console-control-room-1"  # default: factory-console-<this machine's name>
    username_env = "SPARKPLUG_USER"     # the variables holding the credentials, never the credentials
    password_env = "SPARKPLUG_PASSWORD"

    [profiles.plant.sparkplug.mapping]
    state = "Status"
    telemetry = { "Spindle/Load" = "spindle_load_pct" }

Strict like the rest of the file (unknown keys are errors, no coercion); every key is explained in
``docs/sparkplug.md``. No I/O here and nothing of the source itself: the launcher hands the validated table to it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

__all__ = ["SparkplugMapping", "SparkplugProfile"]

_ID_RE = re.compile(r"^[^/+#\x00-\x1f\x7f]{1,128}$")
_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_url(value: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise PydanticCustomError(
            "url", "Input should be a broker URL (mqtt://HOST:PORT or mqtts://HOST:PORT)"
        ) from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise PydanticCustomError("url", "Input should be a broker URL (mqtt://HOST:PORT or mqtts://HOST:PORT)")
    if parts.username is not None or parts.password is not None:
        raise PydanticCustomError("url", "no credentials in the URL: use username_env and password_env")
    return value.rstrip("/")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise PydanticCustomError("sparkplug_id", "should be a Sparkplug id (no '/', '+', '#' or control characters)")
    return value


def _check_env(value: str) -> str:
    if not _ENV_RE.fullmatch(value):
        raise PydanticCustomError(
            "env_name", "should be the name of an environment variable, not the user name or password itself"
        )
    return value


def _check_metric(value: str) -> str:
    if not value or len(value) > 256:
        raise PydanticCustomError("metric", "should be a metric name (1 to 256 characters)")
    return value


BrokerUrl = Annotated[str, Field(strict=True), AfterValidator(_check_url)]
SparkplugId = Annotated[str, Field(strict=True), AfterValidator(_check_id)]
EnvName = Annotated[str, Field(strict=True), AfterValidator(_check_env)]
MetricName = Annotated[str, Field(strict=True), AfterValidator(_check_metric)]
ShortText = Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)


class SparkplugCommands(_Model):
    """The metric a device declares (in its DBIRTH) to be told to pause, resume or cancel."""

    pause: MetricName | None = "Command/Pause"
    resume: MetricName | None = "Command/Resume"
    cancel: MetricName | None = "Command/Cancel"


class SparkplugMapping(_Model):
    """Which metric is which (the defaults are those of ``console.sources.sparkplug.mapping.MetricMapping``)."""

    state: MetricName = "State"
    progress: MetricName = "Progress"
    progress_scale: Annotated[float, Field(strict=True, gt=0)] = 100.0
    job_id: MetricName = "Job/Id"
    job_part: MetricName = "Job/Part"
    kind: MetricName = "Kind"
    model: MetricName = "Model"
    default_kind: ShortText = "sparkplug_device"
    commands: SparkplugCommands = Field(default_factory=SparkplugCommands)
    state_values: dict[str, ShortText] = Field(default_factory=dict)
    telemetry: dict[str, ShortText] = Field(default_factory=dict)
    ignore: list[MetricName] = Field(
        default_factory=lambda: ["Node Control/", "Device Control/", "Properties/", "bdSeq"]
    )


class SparkplugProfile(_Model):
    """The ``sparkplug`` table of a profile."""

    url: BrokerUrl
    groups: list[SparkplugId] = Field(default_factory=list)
    host_id: SparkplugId | None = None
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    primary: Annotated[bool, Field(strict=True)] = True
    """Publish the host application's STATE (birth and will)."""
    rebirth: Annotated[bool, Field(strict=True)] = True
    """Ask edge nodes for a rebirth on a ``seq`` gap or data before a birth."""
    rebirth_interval_s: Annotated[float, Field(strict=True, ge=0.5, le=3600)] = 5.0
    reorder_timeout_s: Annotated[float, Field(strict=True, ge=0, le=60)] = 0.0
    max_payload_kb: Annotated[int, Field(strict=True, ge=1, le=64 * 1024)] = 1024
    mapping: SparkplugMapping = Field(default_factory=SparkplugMapping)

    def options(self) -> dict[str, object]:
        """The table as the plain mapping the launcher resolves (``console.sources.sparkplug.spec``)."""
        table = self.model_dump()
        commands = table["mapping"].pop("commands")
        table["mapping"]["commands"] = {verb: name for verb, name in commands.items() if name}
        return table
