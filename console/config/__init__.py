"""The console's settings and connection profiles, read from one TOML file.

Why a file of our own and not only flags: an operator connects to the same cluster every shift, with the same token
variable, agents and CA; a profile names that once. Why strict validation (unknown keys are errors): a typo such as
``insecrue = true`` must not silently fall back to a default on a console that commands machines. Every error is one
line naming the file, the line and the key, so it can be shown in a terminal before the UI starts.

Why a package: each module has one job, and this one only re-exports the names the rest of the console imports, so
``from console.config import ...`` keeps working wherever it is written.

- ``schema``: the pydantic models of the file (``Config``, ``Profile``) and what each value may be;
- ``loading``: where the file is, reading it with ``tomllib``, and one-line errors (file, line, key);
- ``layout``: where each key and table is written in the TOML text (for error lines and in-place edits);
- ``saving``: writing the theme and a few other top-level scalars back, keeping the operator's comments;
- ``errors``: ``ConfigError`` and the one-line, terminal-safe form of every message.

Secrets: a bearer token belongs in an environment variable (``token_env``). A ``token`` written in the file is
accepted only when the file is readable by its owner alone (mode 0600); it is held as ``SecretStr`` so it never shows
in a repr, and no error message ever quotes a value from the file. Nothing in this package imports Textual.
"""

from __future__ import annotations

from console.config.errors import ConfigError
from console.config.loading import APP_NAME, CONFIG_ENV, config_path, load_config, resolve_profile
from console.config.saving import SAVABLE_KEYS, save_setting, save_theme
from console.config.schema import MAX_EVENT_KB_LIMIT, MAX_RESPONSE_MB_LIMIT, Config, Profile

__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "MAX_EVENT_KB_LIMIT",
    "MAX_RESPONSE_MB_LIMIT",
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
