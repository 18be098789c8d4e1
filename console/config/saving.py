"""Writing a setting back to the config file: the theme the operator picked, and a few other top-level scalars.

Why in place: the file is the operator's, with their comments and layout. A save rewrites only the value of one
``key = value`` line (found by ``console.config.layout``), or adds that line after the other top-level keys, and
leaves every other byte as it was. Why not ``tomlkit`` (a style-preserving TOML library, considered for this): the
edit is limited to top-level scalars, which this does exactly and is tested byte for byte; the layout scan is needed
anyway for the line numbers in load errors, so tomlkit would be a second TOML model and a new dependency, and its
rendering of values and its choice of where to add a missing key differ from what the console writes today.

Why careful: the new text is validated as a whole before it is written, and written atomically (temp file + rename,
the file's mode kept, 0600 for a new one), so a failed save leaves the old file intact.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from pydantic import ValidationError

from console.config.errors import ConfigError
from console.config.layout import TomlLayout
from console.config.loading import config_path, format_validation_error, parse_toml
from console.config.schema import Config

__all__ = ["SAVABLE_KEYS", "save_setting", "save_theme"]

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

    parse_toml(old, path)  # refuse to edit a file that is already broken
    new = _with_top_level(old, key, _toml_scalar(value))
    try:
        Config.model_validate(parse_toml(new, path))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, new, path)) from None
    _write_atomic(target, new, keep_mode=existed)


def _with_top_level(text: str, key: str, value: str) -> str:
    """``text`` with top-level ``key`` set to ``value`` (already TOML): its value replaced, or a line added."""
    layout = TomlLayout(text)
    entry = layout.top_level(key)
    if entry is not None:
        return text[: entry.value_start] + value + text[entry.value_end :]
    line = f"{key} = {value}\n"
    top_entries = [e for e in layout.entries if not e.header and len(e.path) >= 1 and layout.is_top_level(e)]
    if top_entries:
        last = max(top_entries, key=lambda e: e.value_end)
        insert_at = layout.end_of_line(last.value_end)
        prefix = text[:insert_at]
        if not prefix.endswith("\n"):
            prefix += "\n"
        return prefix + line + text[insert_at:]
    return line + text


def _toml_scalar(value: str | int | float | bool) -> str:
    """``value`` written as a TOML scalar; ``ConfigError`` for NaN, infinities and other types."""
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
    """Replace ``path`` with ``text`` via a temp file and a rename; its mode is kept, or 0600 for a new file."""
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
