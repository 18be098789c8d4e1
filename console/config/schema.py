"""The shape of the config file: pydantic models of its tables and keys, and what each value may be.

Why strict models (unknown keys are errors, no type coercion): a typo such as ``insecrue = true`` must not silently
fall back to a default on a console that commands machines. Why the checks live on the fields: the loader turns each
pydantic error into one line naming the key, so every rule here is reported the same way.

Secrets: a bearer token belongs in an environment variable (``token_env``). A ``token`` written in the file is held as
``SecretStr`` so it never shows in a repr; no validator quotes a value back (``hide_input_in_errors``). Whether the file
may hold a token at all (mode 0600) is the loader's check, since it needs the file.

No I/O here beyond :meth:`Profile.verify` loading a CA bundle when asked, and no Textual (an import-linter contract).
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from console.config.errors import ConfigError, dotted, error_line
from console.config.layout import TomlLayout
from console.config.opcua import OpcUaEntry
from console.config.sparkplug import SparkplugProfile
from console.theme_names import THEME_NAMES, describe_themes

__all__ = ["MAX_EVENT_KB_LIMIT", "MAX_RESPONSE_MB_LIMIT", "Config", "Profile"]


def _check_http_url(value: str) -> str:
    """Accept an http(s) URL with a host and keep it as written (minus a trailing slash).

    Why not pydantic's ``HttpUrl``: it rewrites the URL (adds a ``/`` path), and the client joins paths onto it.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise PydanticCustomError("url", "Input should be a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("url", "Input should be a valid URL (http:// or https:// and a host)")
    return value.rstrip("/")


def _check_env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        # The message never quotes the value: someone may have pasted the token itself here.
        raise PydanticCustomError(
            "env_name", "should be the name of an environment variable (e.g. FACTORY_TOKEN), not the token itself"
        )
    return value


def _check_not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "should not be empty")
    return value


def _check_theme(value: str) -> str:
    # Not quoted back: the value is the operator's, but it is text from a file and the line goes to a terminal.
    if value not in THEME_NAMES:
        raise PydanticCustomError("theme", "no such theme ({themes})", {"themes": describe_themes()})
    return value


def _check_shift_start(value: object) -> object:
    """``"06:00"`` or ``["06:00", "14:00", "22:00"]``: shift starts as UTC times of day (``HH:MM``). Not quoted back
    in an error (text from a file, and the line goes to a terminal)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise PydanticCustomError("shift_start", 'should be a time of day like "06:00", or a list of them')
    for item in items:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", item.strip()):
            raise PydanticCustomError("shift_start", 'should be a time of day as HH:MM in UTC, like "06:00"')
    return [item.strip() for item in items]


def _check_folder(value: object) -> object:
    """A folder's path as written: a non-empty string without NUL (which no file system accepts). ``~`` is expanded
    after; a relative path is taken from the config file's folder (``console.config.loading``)."""
    if not isinstance(value, str):
        raise PydanticCustomError("path_type", "should be a path (a quoted string)")
    if not value.strip():
        raise PydanticCustomError("blank", "should not be empty")
    if "\x00" in value:
        raise PydanticCustomError("path_nul", "should be a path (it holds a NUL character)")
    return value


HttpUrlStr = Annotated[str, Field(strict=True), AfterValidator(_check_http_url)]
EnvName = Annotated[str, Field(strict=True), AfterValidator(_check_env_name)]
NonBlank = Annotated[str, Field(strict=True), AfterValidator(_check_not_blank)]
ThemeName = Annotated[str, Field(strict=True), AfterValidator(_check_theme)]
StrictBool = Annotated[bool, Field(strict=True)]
FolderPath = Annotated[Path, BeforeValidator(_check_folder), AfterValidator(Path.expanduser)]
ShiftStarts = Annotated[list[str], BeforeValidator(_check_shift_start)]


class _Model(BaseModel):
    # defer_build: the validators are built when a file is first validated, not at import (a start without a config
    # file never needs them: ``load_config``).
    model_config = ConfigDict(extra="forbid", frozen=False, hide_input_in_errors=True, defer_build=True)


class Profile(_Model):
    """One cluster to connect to: its API, the node agents to reach directly, and how to authenticate.

    ``name`` is the profile's table key (``[profiles.<name>]``); it is not written inside the table.
    """

    api: HttpUrlStr | None = None
    token_env: EnvName | None = None
    token_secret: SecretStr | None = Field(default=None, alias="token", strict=True)
    agents: list[HttpUrlStr] = Field(default_factory=list)
    ca_file: Path | None = None
    insecure: StrictBool = False
    read_only: StrictBool = False
    octoprint: dict[str, HttpUrlStr] = Field(default_factory=dict)
    moonraker: dict[str, HttpUrlStr] = Field(default_factory=dict)
    """Klipper printers by name: their Moonraker's base URL (``docs/moonraker.md``)."""
    opcua: dict[str, OpcUaEntry] = Field(default_factory=dict)
    """OPC UA servers by name: a URL, or a table with security, user and node (``docs/opcua.md``)."""
    sparkplug: SparkplugProfile | None = None
    """A Sparkplug B broker to follow, and its metric mapping (``docs/sparkplug.md``)."""
    clusters: list[NonBlank] = Field(default_factory=list)
    """Other profiles, one per cluster, shown together in one console (``docs/multi-cluster.md``): each keeps its own
    ``api``, agents, token and CA, and its profile name names the cluster (``leeds/N-01``)."""

    _name: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _needs_a_source(self) -> Profile:
        if (
            self.api is None
            and not self.agents
            and not self.opcua
            and self.sparkplug is None
            and not self.moonraker
            and not self.clusters
        ):
            raise PydanticCustomError(
                "no_source", "a profile needs `api`, `agents`, `clusters`, `opcua`, `sparkplug` or `moonraker`"
            )
        if self.ca_file is not None:
            self.ca_file = self.ca_file.expanduser()
        return self

    @property
    def name(self) -> str:
        return self._name

    def token(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The bearer token: ``$<token_env>`` when set and non-empty, else the file's ``token``, else ``None``.

        The environment wins so an operator can override a stored token for one run without editing the file.
        Never log the result.
        """
        env = os.environ if environ is None else environ
        if self.token_env:
            value = env.get(self.token_env)
            if value:
                return value
        if self.token_secret is not None:
            return self.token_secret.get_secret_value() or None
        return None

    def verify(self) -> bool | ssl.SSLContext:
        """The ``verify`` argument for httpx: ``False`` if ``insecure``, a context trusting ``ca_file``, or ``True``.

        Raises ``ConfigError`` if ``ca_file`` cannot be loaded (checked here, not at load, so an unused profile with a
        missing CA does not stop the console).
        """
        if self.insecure:
            return False
        if self.ca_file is None:
            return True
        try:
            return ssl.create_default_context(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or exc.__class__.__name__
            raise ConfigError(f"config error: profile {self._name}: ca_file {self.ca_file}: {reason}") from None


MAX_RETENTION_H = 24 * 366
"""``record_retention_h`` above a year is a typo: the ring would fill the disk first."""
MAX_RESPONSE_MB_LIMIT = 4096
"""``max_response_mb`` above 4 GiB is a typo, not a cluster: the console would hold the whole body in memory."""
MAX_EVENT_KB_LIMIT = 64 * 1024
"""``max_event_kb`` above 64 MiB: one event that size would stall the stream for every other source."""


class Config(_Model):
    """The whole config file. Every field has a default, so a missing file is a valid config."""

    theme: ThemeName = "factory-dark"
    default_profile: NonBlank | None = None
    refresh_ms: Annotated[int, Field(strict=True, ge=50, le=2000)] = 100
    stale_after_s: Annotated[float, Field(strict=True, gt=0)] = 30.0
    read_only: StrictBool = False
    ascii: StrictBool | None = None
    """ASCII-only glyphs: ``true`` always, ``false`` never, unset: only on the Linux console (``TERM=linux``)."""
    record_retention_h: Annotated[float, Field(strict=True, ge=0, le=MAX_RETENTION_H)] = 24.0
    """Hours of what the console received kept in the recording ring (``docs/recording.md``); 0: no ring."""
    record_checkpoint_min: Annotated[float, Field(strict=True, gt=0, le=24 * 60)] = 5.0
    """Minutes between full checkpoints of a recording (a seek replays at most this much)."""
    max_response_mb: Annotated[int, Field(strict=True, ge=1, le=MAX_RESPONSE_MB_LIMIT)] = 512
    """The largest HTTP response body the console reads, in MiB (``Settings.max_response_bytes``)."""
    max_event_kb: Annotated[int, Field(strict=True, ge=1, le=MAX_EVENT_KB_LIMIT)] = 1024
    """The largest single server-sent event, in KiB (``Settings.max_event_bytes``)."""
    runbooks_dir: FolderPath | None = None
    """A folder of the site's own runbooks, one Markdown file per alert code (``nozzle_clog.md``); a file there wins
    over the runbook built into the console for that code (``console.runbooks``, ``docs/runbooks.md``). ``~`` is
    expanded; a relative path is taken from the config file's folder. Not checked at load: a folder that is missing
    or unreadable only means the built-in runbooks are shown, and the runbook screen says why."""
    shift_start: ShiftStarts | None = None
    """When shifts start, UTC times of day (``"06:00"``, or ``["06:00", "14:00", "22:00"]``): the handover looks
    back to the last of them (``docs/timeline-and-handover.md``); unset, 8 hours back."""
    keys: dict[str, NonBlank] = Field(default_factory=dict)
    profiles: dict[str, Profile] = Field(default_factory=dict)

    _path: Path | None = PrivateAttr(default=None)
    _text: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _name_profiles(self) -> Config:
        for name, profile in self.profiles.items():
            profile._name = name
        return self

    @property
    def path(self) -> Path | None:
        """The file this config was read from (``None`` when built in code)."""
        return self._path

    def is_read_only(self, profile: Profile | None) -> bool:
        """Read-only if the config says so globally or for this profile."""
        return self.read_only or (profile is not None and profile.read_only)

    def error_at(self, loc: tuple[Any, ...], message: str) -> ConfigError:
        """A ``ConfigError`` about ``loc`` (e.g. ``("keys", "machine.pause")``) in the same one-line form as the
        errors found while loading: file, line, key, message. For checks made later, such as ``[keys]`` against the
        app's bindings (``console.keymap_check``), which needs Textual."""
        line = TomlLayout(self._text).line_of(loc) if self._text else None
        if self._path is None:
            return ConfigError(f"config error: {dotted(loc)}: {message}")
        return ConfigError(error_line(self._path, line, dotted(loc), message))
