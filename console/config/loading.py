"""Finding the config file, reading it, and turning whatever is wrong with it into one line.

Why the care over errors: the console checks its set-up before it takes over the terminal, so a bad file must be
reported as a single line an operator can act on (file, line, key, what is wrong), not a pydantic traceback. A missing
file is not an error: every setting has a default. Reading uses ``tomllib``; positions come from
``console.config.layout``, since ``tomllib`` gives none.

The checks that need more than one field or the file itself live here too: ``default_profile`` must name a profile,
and a ``token`` in the file is accepted only when no one but its owner can read it (mode 0600). So does what needs
the file's place: a relative ``runbooks_dir`` is taken from the config file's folder.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError

from console.config.errors import ConfigError, dotted, error_line, one_line
from console.config.layout import TomlLayout
from console.config.schema import Config, Profile

__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "check_cross_fields",
    "config_path",
    "format_validation_error",
    "load_config",
    "parse_toml",
    "resolve_profile",
]

APP_NAME = "factory-console"
CONFIG_ENV = "FACTORY_CONSOLE_CONFIG"
"""The environment variable that overrides the config file's path (tests and unusual setups use it)."""


def config_path() -> Path:
    """Where the config file is: ``$FACTORY_CONSOLE_CONFIG`` if set, else the platform's user config dir."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


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
        # The defaults, unvalidated: they are the schema's own, and the models' validators are built only when a
        # file is validated (``defer_build``), ~8 ms of every start without a file (issue 15). A test holds it equal
        # to ``Config()``.
        config = Config.model_construct()
        config._path = path
        return config
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"config error: {path} line {line}: not valid UTF-8") from None
    data = parse_toml(text, path)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, text, path)) from None
    config._path = path
    config._text = text
    check_cross_fields(config, text, path)
    if config.runbooks_dir is not None and not config.runbooks_dir.is_absolute():
        # From the file's folder, not from wherever the console happens to be started.
        config.runbooks_dir = path.parent / config.runbooks_dir
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


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """``text`` as parsed by ``tomllib``; a syntax error becomes a ``ConfigError`` naming the line (and column)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        match = _TOML_POSITION.search(message)
        at_end = _TOML_END.search(message)
        if match:
            message = message[: match.start()]
            where = f"line {match.group(1)} column {match.group(2)}"
        elif at_end:
            message = message[: at_end.start()]
            where = f"line {text.count(chr(10)) + 1}"
        else:
            where = "line ?"
        raise ConfigError(f"config error: {path} {where}: TOML syntax: {message}") from None


_FRIENDLY_MESSAGES = {
    "extra_forbidden": "unknown key (check the spelling)",
}


def format_validation_error(exc: ValidationError, text: str, path: Path) -> str:
    """The first error (in file order) as one line; the count of the others after it."""
    layout = TomlLayout(text)
    found: list[tuple[int, str, str]] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = tuple(error["loc"])
        line = layout.line_of(loc)
        message = _FRIENDLY_MESSAGES.get(error["type"], error["msg"])
        found.append((line or 0, dotted(loc), one_line(message)))
    found.sort(key=lambda item: item[0])
    line, key, message = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return error_line(path, line, key, message) + more


def check_cross_fields(config: Config, text: str, path: Path) -> None:
    """Checks that need the whole config or the file itself, with the same one-line errors."""
    layout = TomlLayout(text)
    if config.default_profile is not None and config.default_profile not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none defined"
        line = layout.line_of(("default_profile",))
        raise ConfigError(
            error_line(path, line, "default_profile", f"no profile with that name (known profiles: {known})")
        )
    for name, profile in config.profiles.items():
        for member in profile.clusters:
            other = config.profiles.get(member)
            loc = ("profiles", name, "clusters")
            if other is None or member == name:
                known = ", ".join(sorted(set(config.profiles) - {name})) or "none defined"
                message = f"{member!a} is not another profile (known profiles: {known})"
                raise ConfigError(error_line(path, layout.line_of(loc), dotted(loc), message))
            if other.clusters:
                message = f"{member!a} names clusters itself: a cluster profile has its own api"
                raise ConfigError(error_line(path, layout.line_of(loc), dotted(loc), message))
            if other.api is None:
                message = f"{member!a} has no api: each cluster of a profile needs its cluster API"
                raise ConfigError(error_line(path, layout.line_of(loc), dotted(loc), message))
    with_token = [name for name, profile in config.profiles.items() if profile.token_secret is not None]
    if with_token and os.name != "nt":  # Windows has no group/other mode bits to check
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            loc = ("profiles", with_token[0], "token")
            message = (
                f"a token in the file is allowed only if no one else can read it (mode is {mode:04o}); "
                f"run `chmod 600 {path}` or use token_env instead"
            )
            raise ConfigError(error_line(path, layout.line_of(loc), dotted(loc), message))
