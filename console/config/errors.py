"""The one error the config package raises, and the one-line form every message takes.

Why a module of its own: loading, the schema's later checks (``Config.error_at``) and saving all report problems the
same way, as one line naming the file, the line and the key, fit to print in a terminal before the UI starts. Key
names come from the operator's file, so they are escaped here, once, before they reach that terminal; values from the
file are never quoted at all (one may be a token pasted in the wrong place).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["BARE_KEY", "ConfigError", "dotted", "error_line", "one_line"]


class ConfigError(Exception):
    """A problem with the config file, as one line fit for a terminal: file, line, key and what is wrong."""


BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
"""A TOML bare key: written as is in an error line (and recognised as such by the layout scan)."""

_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
"""What must not reach a terminal from a key name in an error line: C0, DEL, C1 (``0x9b`` is CSI), bidi controls,
invisible characters, line separators and lone surrogates."""


def error_line(path: Path, line: int | None, key: str, message: str) -> str:
    """``config error: <file> line <n>: <key>: <message>`` (without the line part when it is not known)."""
    where = f" line {line}" if line else ""
    return f"config error: {path}{where}: {key}: {message}"


def one_line(message: str) -> str:
    """``message`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(message.split())


def _u_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dotted(loc: tuple[Any, ...]) -> str:
    """A pydantic ``loc`` as a TOML-ish key path: ``profiles.leeds.agents[0]``, ``keys."machine.pause"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        piece = (
            text if BARE_KEY.fullmatch(text) else _TERMINAL_UNSAFE.sub(_u_escape, json.dumps(text, ensure_ascii=False))
        )
        out += f".{piece}" if out else piece
    return out or "(top level)"
