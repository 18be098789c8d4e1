"""Runbooks: what an alert code means and what to do about it, one Markdown page per code.

Where a runbook comes from (``docs/runbooks.md``): the folder named by ``runbooks_dir`` in the config file first
(``<code>.md``), then the one shipped in this package (``builtin/<code>.md``), else a page saying there is none and
where to add it. :mod:`console.runbooks.loader` finds and caches them (codes are server strings: only plain names
map to files); :mod:`console.runbooks.blocks` reads their Markdown as plain blocks of text for the runbook screen
(``console.screens.runbook``). No Textual here (an import-linter contract).
"""

from __future__ import annotations

from console.runbooks.blocks import Block, BlockKind, parse_blocks, plain_lines
from console.runbooks.loader import (
    MAX_RUNBOOK_BYTES,
    Runbook,
    RunbookLoader,
    builtin_codes,
    loader_for,
    runbook_name,
)

__all__ = [
    "MAX_RUNBOOK_BYTES",
    "Block",
    "BlockKind",
    "Runbook",
    "RunbookLoader",
    "builtin_codes",
    "loader_for",
    "parse_blocks",
    "plain_lines",
    "runbook_name",
]
