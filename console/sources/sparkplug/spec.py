"""How a Sparkplug broker is configured: ``--sparkplug URL`` and its flags, or a profile's ``[profiles.P.sparkplug]``.

The launcher (``console.launch``) calls :func:`resolve` before the terminal is taken over, so every mistake is one
line. Credentials never come from the command line or the URL: the flags and the profile name the environment
variables that hold them (``--sparkplug-user-env``, ``--sparkplug-password-env``; ``username_env``,
``password_env``). Flags win over the profile, key by key. Standard library only (no MQTT, no protobuf).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from console.sources.sparkplug.topics import ID_RE

__all__ = ["SparkplugFlags", "SparkplugSetup", "resolve"]

_OPTION_KEYS = ("primary", "rebirth", "rebirth_interval_s", "reorder_timeout_s", "max_payload_kb", "mapping")


@dataclass(frozen=True)
class SparkplugFlags:
    """The command line's Sparkplug options (each ``None`` or empty when not given)."""

    url: str | None = None
    groups: Sequence[str] = ()
    host_id: str | None = None
    user_env: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class SparkplugSetup:
    """One broker to follow: its URL, credentials (from the environment) and the source's options."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("--sparkplug: not a broker URL (mqtt://HOST:PORT or mqtts://HOST:PORT)") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("--sparkplug: the broker URL must be mqtt://HOST:PORT or mqtts://HOST:PORT")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "--sparkplug: no credentials in the URL; name the variables that hold them "
            "(--sparkplug-user-env, --sparkplug-password-env)"
        )
    return url.strip().rstrip("/")


def _from_env(var: str | None, what: str, environ: Mapping[str, str]) -> str | None:
    if not var:
        return None
    value = environ.get(var)
    if value is None:
        raise ValueError(f"the environment variable {var} (holding the Sparkplug broker's {what}) is not set")
    if not value:
        raise ValueError(f"the environment variable {var} (holding the Sparkplug broker's {what}) is empty")
    return value


def resolve(
    flags: SparkplugFlags, table: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> SparkplugSetup | None:
    """The broker to follow from the flags and the profile's ``sparkplug`` table (already checked by the config's
    schema), or ``None`` when neither names one. Raises ``ValueError`` with a one-line reason."""
    table = table or {}
    url = flags.url or table.get("url")
    if not url:
        if flags.groups or flags.host_id or flags.user_env or flags.password_env:
            raise ValueError("--sparkplug-* options need a broker: --sparkplug mqtt://HOST:PORT")
        return None
    url = _check_url(str(url))
    user_env = flags.user_env or table.get("username_env")
    password_env = flags.password_env or table.get("password_env")
    username = _from_env(user_env, "user name", environ)
    password = _from_env(password_env, "password", environ)
    if password is not None and username is None:
        raise ValueError("a Sparkplug broker password needs a user name too (--sparkplug-user-env or username_env)")
    options: dict[str, Any] = {key: table[key] for key in _OPTION_KEYS if table.get(key) is not None}
    options["groups"] = [str(group) for group in flags.groups or table.get("groups") or []]
    for group in options["groups"]:
        if not ID_RE.match(group):
            raise ValueError("a Sparkplug group id must not be empty or hold '/', '+', '#' or control characters")
    host_id = flags.host_id or table.get("host_id")
    if host_id:
        if not ID_RE.match(str(host_id)):
            raise ValueError("the Sparkplug host id must not be empty or hold '/', '+', '#' or control characters")
        options["host_id"] = str(host_id)
    if username is not None:
        options["username"] = username
    return SparkplugSetup(url, username, password, options)
