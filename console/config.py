"""The console's settings and connection profiles, read from one TOML file.

Why a file of our own and not only flags: an operator connects to the same cluster every shift, with the same token
variable, agents and CA; a profile names that once. Why strict validation (unknown keys are errors): a typo such as
``insecrue = true`` must not silently fall back to a default on a console that commands machines. Every error is one
line naming the file, the line and the key, so it can be shown in a terminal before the UI starts.

Reading uses ``tomllib``. Writing is limited to top-level scalars (the theme the operator picked, and a few others),
done by editing the one ``key = value`` line in place so comments and layout survive; a full TOML writer would drop
the operator's comments.

Secrets: a bearer token belongs in an environment variable (``token_env``). A ``token`` written in the file is
accepted only when the file is readable by its owner alone (mode 0600); it is held as ``SecretStr`` so it never shows
in a repr, and no error message ever quotes a value from the file.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import stat
import tempfile
import tomllib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from console.theme_names import THEME_NAMES, describe_themes

__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "SAVABLE_KEYS",
    "Config",
    "ConfigError",
    "Profile",
    "config_path",
    "load_config",
    "resolve_profile",
    "save_setting",
    "save_theme",
]

APP_NAME = "factory-console"
CONFIG_ENV = "FACTORY_CONSOLE_CONFIG"
"""The environment variable that overrides the config file's path (tests and unusual setups use it)."""


class ConfigError(Exception):
    """A problem with the config file, as one line fit for a terminal: file, line, key and what is wrong."""


def config_path() -> Path:
    """Where the config file is: ``$FACTORY_CONSOLE_CONFIG`` if set, else the platform's user config dir."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


# --- field types ----------------------------------------------------------------------------------------------------


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


HttpUrlStr = Annotated[str, Field(strict=True), AfterValidator(_check_http_url)]
EnvName = Annotated[str, Field(strict=True), AfterValidator(_check_env_name)]
NonBlank = Annotated[str, Field(strict=True), AfterValidator(_check_not_blank)]
ThemeName = Annotated[str, Field(strict=True), AfterValidator(_check_theme)]
StrictBool = Annotated[bool, Field(strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, hide_input_in_errors=True)


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

    _name: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _needs_a_source(self) -> Profile:
        if self.api is None and not self.agents:
            raise PydanticCustomError("no_source", "a profile needs `api` or `agents` (or both)")
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
    max_response_mb: Annotated[int, Field(strict=True, ge=1, le=MAX_RESPONSE_MB_LIMIT)] = 512
    """The largest HTTP response body the console reads, in MiB (``Settings.max_response_bytes``)."""
    max_event_kb: Annotated[int, Field(strict=True, ge=1, le=MAX_EVENT_KB_LIMIT)] = 1024
    """The largest single server-sent event, in KiB (``Settings.max_event_bytes``)."""
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
        line = _TomlLayout(self._text).line_of(loc) if self._text else None
        if self._path is None:
            return ConfigError(f"config error: {_dotted(loc)}: {message}")
        return ConfigError(_error_line(self._path, line, _dotted(loc), message))


# --- loading --------------------------------------------------------------------------------------------------------


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config file; a missing file gives the defaults.

    Raises ``ConfigError`` (one line: file, line, key, problem) for unreadable files, TOML syntax errors, values of
    the wrong type, unknown keys, a ``default_profile`` that names no profile, and a ``token`` in a file that others
    can read.
    """
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        config = Config()
        config._path = path
        return config
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"config error: {path} line {line}: not valid UTF-8") from None
    data = _parse_toml(text, path)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, text, path)) from None
    config._path = path
    config._text = text
    _check_cross_fields(config, text, path)
    return config


def resolve_profile(config: Config, name: str | None = None) -> Profile:
    """The profile called ``name``, else ``config.default_profile``, else the only profile there is.

    Raises ``ConfigError`` listing the known names when the name is unknown or no profile can be chosen.
    """
    where = f" in {config.path}" if config.path else ""
    known = ", ".join(sorted(config.profiles)) or "none"
    chosen = name or config.default_profile
    if chosen is None:
        if len(config.profiles) == 1:
            return next(iter(config.profiles.values()))
        raise ConfigError(
            f"config error: no profile chosen; pick one with --profile or default_profile{where} "
            f"(known profiles: {known})"
        )
    profile = config.profiles.get(chosen)
    if profile is None:
        raise ConfigError(f"config error: unknown profile {chosen!r}{where} (known profiles: {known})")
    return profile


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        match = _TOML_POSITION.search(message)
        if match:
            message = message[: match.start()]
            where = f"line {match.group(1)} column {match.group(2)}"
        elif _TOML_END.search(message):
            message = message[: _TOML_END.search(message).start()]  # type: ignore[union-attr]
            where = f"line {text.count(chr(10)) + 1}"
        else:
            where = "line ?"
        raise ConfigError(f"config error: {path} {where}: TOML syntax: {message}") from None


_FRIENDLY_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling)",
}


def _format_validation_error(exc: ValidationError, text: str, path: Path) -> str:
    """The first error (in file order) as one line; the count of the others after it."""
    layout = _TomlLayout(text)
    found: list[tuple[int, str, str]] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = tuple(error["loc"])
        line = layout.line_of(loc)
        message = _FRIENDLY_MESSAGES.get(error["type"], error["msg"])
        found.append((line or 0, _dotted(loc), _one_line(message)))
    found.sort(key=lambda item: item[0])
    line, key, message = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return _error_line(path, line, key, message) + more


def _check_cross_fields(config: Config, text: str, path: Path) -> None:
    """Checks that need the whole config or the file itself, with the same one-line errors."""
    layout = _TomlLayout(text)
    if config.default_profile is not None and config.default_profile not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none defined"
        line = layout.line_of(("default_profile",))
        raise ConfigError(
            _error_line(path, line, "default_profile", f"no profile with that name (known profiles: {known})")
        )
    with_token = [name for name, profile in config.profiles.items() if profile.token_secret is not None]
    if with_token and os.name != "nt":  # Windows has no group/other mode bits to check
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            loc = ("profiles", with_token[0], "token")
            message = (
                f"a token in the file is allowed only if no one else can read it (mode is {mode:04o}); "
                f"run `chmod 600 {path}` or use token_env instead"
            )
            raise ConfigError(_error_line(path, layout.line_of(loc), _dotted(loc), message))


def _error_line(path: Path, line: int | None, key: str, message: str) -> str:
    where = f" line {line}" if line else ""
    return f"config error: {path}{where}: {key}: {message}"


def _one_line(message: str) -> str:
    return " ".join(message.split())


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
"""What must not reach a terminal from a key name in an error line: C0, DEL, C1 (``0x9b`` is CSI), bidi controls,
invisible characters, line separators and lone surrogates."""


def _u_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _dotted(loc: tuple[Any, ...]) -> str:
    """A pydantic ``loc`` as a TOML-ish key path: ``profiles.leeds.agents[0]``, ``keys."machine.pause"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        piece = (
            text if _BARE_KEY.fullmatch(text) else _TERMINAL_UNSAFE.sub(_u_escape, json.dumps(text, ensure_ascii=False))
        )
        out += f".{piece}" if out else piece
    return out or "(top level)"


# --- where keys are in the file -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """A ``[table]`` header or a ``key = value`` line, located in the file's text."""

    path: tuple[str, ...]
    line: int
    start: int  # offset of the line's first character
    value_start: int  # offset of the value (== start for headers)
    value_end: int  # offset just past the value, before any trailing comment
    header: bool


class _TomlLayout:
    """A forgiving scan of TOML text that records where each key and table is defined.

    It understands just enough TOML (headers, dotted and quoted keys, strings of the four kinds, multi-line arrays
    and inline tables, comments) to map a validation error to its line and to rewrite one top-level value in place.
    It runs only on text that ``tomllib`` has already accepted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: list[_Entry] = []
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self._scan()

    def line_at(self, offset: int) -> int:
        return bisect_right(self._line_starts, offset)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line that defines ``loc`` or, failing that, its nearest enclosing key or table."""
        keys = tuple(str(part) for part in loc if not isinstance(part, int))
        while keys:
            for entry in self.entries:
                if entry.path == keys:
                    return entry.line
            for entry in self.entries:  # a table defined only through its sub-tables or dotted keys
                if entry.path[: len(keys)] == keys:
                    return entry.line
            keys = keys[:-1]
        return None

    def top_level(self, key: str) -> _Entry | None:
        for entry in self.entries:
            if not entry.header and entry.path == (key,):
                return entry
        return None

    # scanning

    def _scan(self) -> None:
        text, n, i = self.text, len(self.text), 0
        table: tuple[str, ...] = ()
        while i < n:
            line_start = i
            i = self._skip_blank(i)
            if i >= n:
                break
            ch = text[i]
            if ch in "\r\n":
                i += 1
                continue
            if ch == "#":
                i = self._eol(i)
                continue
            if ch == "[":
                array = text.startswith("[[", i)
                keys, i = self._keys(i + (2 if array else 1))
                table = keys
                self.entries.append(_Entry(keys, self.line_at(line_start), line_start, line_start, line_start, True))
                i = self._eol(i)
                continue
            keys, i = self._keys(i)
            i = self._skip_blank(i)
            if not keys or i >= n or text[i] != "=":
                i = self._eol(i)
                continue
            value_start = self._skip_blank(i + 1)
            value_end, i = self._value(value_start)
            self.entries.append(
                _Entry(table + keys, self.line_at(line_start), line_start, value_start, value_end, False)
            )

    def _skip_blank(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

    def _eol(self, i: int) -> int:
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end + 1

    def _keys(self, i: int) -> tuple[tuple[str, ...], int]:
        text, parts = self.text, []
        while True:
            i = self._skip_blank(i)
            if i >= len(text):
                break
            if text[i] == '"':
                end = self._string_end(i, '"')
                raw = text[i:end]
                try:
                    parts.append(json.loads(raw))
                except ValueError:
                    parts.append(raw[1:-1])
                i = end
            elif text[i] == "'":
                end = self._string_end(i, "'")
                parts.append(text[i + 1 : end - 1])
                i = end
            else:
                match = _BARE_KEY.match(text, i)
                if not match:
                    break
                parts.append(match.group())
                i = match.end()
            i = self._skip_blank(i)
            if i < len(text) and text[i] == ".":
                i += 1
                continue
            break
        return tuple(parts), i

    def _string_end(self, i: int, quote: str) -> int:
        """Offset just past the string that starts at ``i`` (single-line or triple-quoted)."""
        text = self.text
        triple = quote * 3
        if text.startswith(triple, i):
            j = i + 3
            while j < len(text):
                if quote == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(triple, j):
                    j += 3
                    while j < len(text) and text[j] == quote:  # up to two quotes may end the content
                        j += 1
                    return j
                j += 1
            return len(text)
        j = i + 1
        while j < len(text) and text[j] != "\n":
            if quote == '"' and text[j] == "\\":
                j += 2
                continue
            if text[j] == quote:
                return j + 1
            j += 1
        return j

    def _value(self, i: int) -> tuple[int, int]:
        """Scan one value from ``i``: (offset past its last significant character, offset of the next line)."""
        text, n = self.text, len(self.text)
        depth, last = 0, i
        while i < n:
            ch = text[i]
            if ch in "\"'":
                i = self._string_end(i, ch)
                last = i
            elif ch == "#":
                newline = text.find("\n", i)
                i = n if newline < 0 else newline
                if depth == 0:
                    break
            elif ch == "\n":
                if depth == 0:
                    break
                i += 1
            elif ch in "[{":
                depth += 1
                i += 1
                last = i
            elif ch in "]}":
                depth -= 1
                i += 1
                last = i
            elif ch in " \t\r":
                i += 1
            else:
                i += 1
                last = i
        return last, min(n, self._eol(i) if i < n else n)


# --- saving ---------------------------------------------------------------------------------------------------------

SAVABLE_KEYS = frozenset({"theme", "default_profile", "refresh_ms", "stale_after_s", "read_only"})
"""Top-level scalars the console may write back to the file."""


def save_theme(name: str, path: Path | None = None) -> None:
    """Remember the operator's theme: rewrite only the ``theme = ...`` line, or add it."""
    save_setting("theme", name, path)


def save_setting(key: str, value: str | int | float | bool, path: Path | None = None) -> None:
    """Set one top-level scalar in the config file, keeping every other line and comment as it is.

    Creates the file (mode 0600) and its directory if missing. The new text is validated as a whole before it is
    written, and written atomically (temp file + rename), so a failed save leaves the old file intact. Raises
    ``ConfigError`` for an unknown key, an invalid value, or a file that does not parse.
    """
    if key not in SAVABLE_KEYS:
        raise ConfigError(f"config error: {key} cannot be saved from the console")
    path = config_path() if path is None else path
    target = path.resolve() if path.is_symlink() else path  # keep a dotfile symlink pointing where it did
    try:
        old = target.read_text(encoding="utf-8")
        existed = True
    except FileNotFoundError:
        old, existed = "", False
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config error: {path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None

    _parse_toml(old, path)  # refuse to edit a file that is already broken
    new = _with_top_level(old, key, _toml_scalar(value))
    try:
        Config.model_validate(_parse_toml(new, path))
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, new, path)) from None
    _write_atomic(target, new, keep_mode=existed)


def _with_top_level(text: str, key: str, value: str) -> str:
    layout = _TomlLayout(text)
    entry = layout.top_level(key)
    if entry is not None:
        return text[: entry.value_start] + value + text[entry.value_end :]
    line = f"{key} = {value}\n"
    top_entries = [e for e in layout.entries if not e.header and len(e.path) >= 1 and _is_top_level(layout, e)]
    if top_entries:
        last = max(top_entries, key=lambda e: e.value_end)
        insert_at = layout._eol(last.value_end)
        prefix = text[:insert_at]
        if not prefix.endswith("\n"):
            prefix += "\n"
        return prefix + line + text[insert_at:]
    return line + text


def _is_top_level(layout: _TomlLayout, entry: _Entry) -> bool:
    """An entry before the first table header (dotted keys at top level count too)."""
    first_header = next((e.start for e in layout.entries if e.header), None)
    return first_header is None or entry.start < first_header


def _toml_scalar(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError("config error: cannot save a value that is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    raise ConfigError(f"config error: cannot save a value of type {type(value).__name__}")


def _toml_string(value: str) -> str:
    """A TOML basic string: escape quote, backslash and every control character (including DEL)."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _write_atomic(path: Path, text: str, *, keep_mode: bool) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(path.stat().st_mode) if keep_mode else 0o600
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot write: {exc.strerror or exc}") from None
