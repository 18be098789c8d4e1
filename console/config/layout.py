"""Where each key and table of a TOML file is written: the layout of the text, not its values.

Why a scanner of our own: ``tomllib`` gives values but no positions, and the operator needs an error that names the
line (``config error: <file> line 12: profiles.leeds.agents[0]: ...``). The same positions let the console rewrite
one top-level value in place (``console.config.saving``), so every other line and comment in the file stays exactly as
the operator wrote it; a TOML writer that re-renders the document would not promise that.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from console.config.errors import BARE_KEY

__all__ = ["Entry", "TomlLayout"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A ``[table]`` header or a ``key = value`` line, located in the file's text."""

    path: tuple[str, ...]
    line: int
    start: int  # offset of the line's first character
    value_start: int  # offset of the value (== start for headers)
    value_end: int  # offset just past the value, before any trailing comment
    header: bool


class TomlLayout:
    """A forgiving scan of TOML text that records where each key and table is defined.

    It understands just enough TOML (headers, dotted and quoted keys, strings of the four kinds, multi-line arrays
    and inline tables, comments) to map a validation error to its line and to rewrite one top-level value in place.
    It runs only on text that ``tomllib`` has already accepted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: list[Entry] = []
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self._scan()

    def line_at(self, offset: int) -> int:
        """The 1-based line number of the character at ``offset``."""
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

    def top_level(self, key: str) -> Entry | None:
        """The ``key = value`` line that sets top-level ``key`` (not one of that name inside a table), if any."""
        for entry in self.entries:
            if not entry.header and entry.path == (key,):
                return entry
        return None

    def is_top_level(self, entry: Entry) -> bool:
        """An entry before the first table header (dotted keys at top level count too)."""
        first_header = next((e.start for e in self.entries if e.header), None)
        return first_header is None or entry.start < first_header

    def end_of_line(self, i: int) -> int:
        """Offset of the start of the line after the one holding offset ``i`` (or the end of the text)."""
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end + 1

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
                i = self.end_of_line(i)
                continue
            if ch == "[":
                array = text.startswith("[[", i)
                keys, i = self._keys(i + (2 if array else 1))
                table = keys
                self.entries.append(Entry(keys, self.line_at(line_start), line_start, line_start, line_start, True))
                i = self.end_of_line(i)
                continue
            keys, i = self._keys(i)
            i = self._skip_blank(i)
            if not keys or i >= n or text[i] != "=":
                i = self.end_of_line(i)
                continue
            value_start = self._skip_blank(i + 1)
            value_end, i = self._value(value_start)
            self.entries.append(
                Entry(table + keys, self.line_at(line_start), line_start, value_start, value_end, False)
            )

    def _skip_blank(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

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
                match = BARE_KEY.match(text, i)
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
        return last, min(n, self.end_of_line(i) if i < n else n)
