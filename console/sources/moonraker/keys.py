"""Where a Moonraker printer's API key comes from (never the command line: other users can read it there)."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["API_KEY_ENV", "env_name_for", "resolve_api_key"]

API_KEY_ENV = "MOONRAKER_API_KEY"


def env_name_for(name: str) -> str:
    """The per-printer variable: ``MOONRAKER_API_KEY_<NAME>`` (upper case, ``-`` and ``.`` as ``_``)."""
    return f"{API_KEY_ENV}_{name.upper().replace('-', '_').replace('.', '_')}"


def resolve_api_key(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key of printer ``name``: ``$MOONRAKER_API_KEY_<NAME>`` if set, else ``$MOONRAKER_API_KEY``, else
    ``None`` (Moonraker then has to trust the console's address: ``[authorization] trusted_clients``)."""
    env = os.environ if environ is None else environ
    return env.get(env_name_for(name)) or env.get(API_KEY_ENV) or None
