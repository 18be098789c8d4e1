"""A runbook's Markdown as plain blocks of text: the small part of Markdown runbooks use, read, never executed.

Why not a Markdown renderer (Rich's ``Markdown``, Textual's ``Markdown`` widget): they turn links into terminal
hyperlinks (OSC 8) or clickable actions, and treat the text as theirs to interpret. A runbook may come from any
folder an operator points the console at, so this reads only the structure (headings, paragraphs, list items, code,
quotes, rules) and gives back plain strings with the Markdown punctuation taken off; the screen then cleans every
string (``widgets.safe_text``) and draws it as plain text. Nothing here is ever markup, a link or an escape sequence
to the terminal.

Supported (``docs/runbooks.md``): ``#``..``######`` headings (and ``===``/``---`` underlines), paragraphs (lines
joined), ``-``/``*``/``+`` and ``1.``/``1)`` list items (nested by indentation), fenced code (backticks or tildes)
and indented code, ``>`` quotes, ``---`` rules, ``|`` table rows (kept as written), ``<!-- -->`` comments (dropped);
inline: ``**strong**``, ``*em*``, ``_em_``, ``~~struck~~`` and ``` `code` ``` lose their marks, ``[text](url)``
becomes ``text (url)``, ``![alt](url)`` its alt text, ``<https://...>`` the address, ``\\*`` a plain ``*``.
Anything else stays as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Block", "BlockKind", "inline", "parse_blocks", "plain_lines"]

BlockKind = Literal["title", "heading", "subheading", "paragraph", "item", "code", "quote", "rule", "gap"]


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a runbook. ``text`` is plain (no Markdown marks; ``\\n`` only for a hard line break) but not yet
    cleaned for the terminal: whoever draws it cleans it. ``marker`` is a list item's ``-`` (a bullet) or its number
    (``3.``); ``depth`` its nesting (0: top level)."""

    kind: BlockKind
    text: str = ""
    marker: str = ""
    depth: int = 0


MAX_DEPTH = 4
"""Deeper list nesting is drawn at this depth (a runbook is read at 80 columns)."""

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BULLET = re.compile(r"^([ ]*)([-*+])(?:[ \t]+(.*))?$")
_NUMBERED = re.compile(r"^([ ]*)(\d{1,9})([.)])(?:[ \t]+(.*))?$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?(.*)$")
_TABLE = re.compile(r"^ {0,3}\|")
_HARD_BREAK = re.compile(r"(?:  |\\)$")

_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_COMMENT = re.compile(r"<!--.*?-->")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRUCK = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_EM_STAR = re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*")
_EM_UNDERSCORE = re.compile(r"(?<![\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w])")


def inline(text: str) -> str:
    """``text`` with the inline Markdown marks taken off (see the module docstring); code spans and backslash
    escapes are kept exactly as written."""
    out: list[str] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            out.append(_inline_marks("".join(plain)))
            plain.clear()

    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            flush()
            out.append(text[i + 1])
            i += 2
        elif char == "`":
            run = 1
            while i + run < n and text[i + run] == "`":
                run += 1
            close = _closing_backticks(text, i + run, run)
            if close < 0:
                plain.append("`" * run)
                i += run
                continue
            flush()
            code = text[i + run : close]
            if len(code) > 1 and code.startswith(" ") and code.endswith(" ") and code.strip():
                code = code[1:-1]
            out.append(code)
            i = close + run
        else:
            plain.append(char)
            i += 1
    flush()
    return "".join(out)


def _closing_backticks(text: str, start: int, run: int) -> int:
    """Where a run of exactly ``run`` backticks starts at or after ``start`` (-1: none)."""
    i, n = start, len(text)
    while i < n:
        if text[i] != "`":
            i += 1
            continue
        j = i
        while j < n and text[j] == "`":
            j += 1
        if j - i == run:
            return i
        i = j
    return -1


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    return label if not url or url == label else f"{label} ({url})"


def _inline_marks(text: str) -> str:
    text = _COMMENT.sub("", text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(_link, text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _STRONG.sub(lambda m: m.group(2), text)
    text = _STRUCK.sub(lambda m: m.group(1), text)
    text = _EM_STAR.sub(lambda m: m.group(1), text)
    return _EM_UNDERSCORE.sub(lambda m: m.group(1), text)


class _Reader:
    """Builds the blocks line by line: an open paragraph, quote or list item takes the lines that continue it."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.kind: BlockKind | None = None
        self.lines: list[str] = []
        self.marker = ""
        self.depth = 0
        self.after_gap = False
        self.item_indents: list[int] = []
        """The indentation of the list items open around here, outermost first: a deeper one nests."""
        self.items: list[tuple[int, str, int]] = []
        """The list's items so far: (column of the marker, marker, depth)."""

    def close(self) -> None:
        if self.kind is not None:
            text = ""
            for line in self.lines:
                hard = bool(_HARD_BREAK.search(line))
                piece = inline(line.removesuffix("\\").strip())
                text += piece + ("\n" if hard else " ")
            self.blocks.append(Block(self.kind, text.strip(), self.marker, self.depth))
        self.kind, self.lines, self.marker, self.depth = None, [], "", 0

    def open(self, kind: BlockKind, line: str, marker: str = "", depth: int = 0) -> None:
        self.close()
        self.kind, self.lines, self.marker, self.depth = kind, [line], marker, depth
        self.after_gap = False

    def item(self, indent: int, marker: str, line: str) -> None:
        while self.item_indents and indent < self.item_indents[-1]:
            self.item_indents.pop()
        if not self.item_indents or indent > self.item_indents[-1]:
            self.item_indents.append(indent)
        depth = min(MAX_DEPTH, len(self.item_indents) - 1)
        self.items.append((indent, marker, depth))
        self.open("item", line, marker, depth)

    def end_list(self) -> None:
        self.item_indents.clear()
        self.items.clear()

    def add(self, block: Block, *, ends_list: bool = True) -> None:
        self.close()
        self.blocks.append(block)
        self.after_gap = False
        if ends_list:
            self.end_list()

    def gap(self) -> None:
        self.close()
        if self.blocks and self.blocks[-1].kind != "gap":
            self.blocks.append(Block("gap"))
        self.after_gap = True

    def owner(self, indent: int) -> tuple[str, int] | None:
        """The ``(marker, depth)`` of the open list item an indented line after a gap continues: the latest one
        whose marker stands left of the line (``None``: not in a list)."""
        for column, marker, depth in reversed(self.items):
            if column < indent:
                return marker, depth
        return None

    def result(self) -> list[Block]:
        self.close()
        while self.blocks and self.blocks[-1].kind == "gap":
            self.blocks.pop()
        return self.blocks


def parse_blocks(markdown: str) -> list[Block]:
    """The blocks of ``markdown`` in order, a ``gap`` where the source has blank lines (never two in a row, none at
    either end). Never raises: text it does not recognise is a paragraph.

    A list item's further paragraph (indented, after a blank line) is an item with a blank ``marker`` as wide as its
    item's, so that it lines up under the item's text."""
    reader = _Reader()
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fence: str | None = None
    in_comment = False
    for raw in lines:
        line = raw.expandtabs(4)
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            else:
                reader.add(Block("code", line.rstrip()), ends_list=False)
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = True
            continue
        if stripped.startswith("<!--") and stripped.endswith("-->") and stripped.count("-->") == 1:
            continue
        if not stripped:
            reader.gap()
            continue
        indent = len(line) - len(line.lstrip(" "))
        if match := _FENCE.match(line):
            fence = match.group(1)
            reader.close()
            continue
        if reader.kind == "paragraph" and (match := _SETEXT.match(line)):
            text = " ".join(reader.lines)
            reader.kind = None
            reader.add(Block("title" if match.group(1).startswith("=") else "heading", inline(text.strip())))
            continue
        if match := _HEADING.match(line):
            level = len(match.group(1))
            text = _CLOSING_HASHES.sub("", match.group(2) or "")
            reader.add(
                Block("title" if level == 1 else "heading" if level == 2 else "subheading", inline(text.strip()))
            )
            continue
        if _RULE.match(line):
            reader.add(Block("rule"))
            continue
        if match := _BULLET.match(line):
            reader.item(len(match.group(1)), "-", match.group(3) or "")
            continue
        if match := _NUMBERED.match(line):
            reader.item(len(match.group(1)), match.group(2) + match.group(3), match.group(4) or "")
            continue
        if match := _QUOTE.match(line):
            if reader.kind == "quote":
                reader.lines.append(match.group(1))
            else:
                reader.open("quote", match.group(1))
            continue
        if _TABLE.match(line):
            reader.add(Block("code", inline(stripped)))
            continue
        if reader.kind in ("paragraph", "item", "quote"):
            reader.lines.append(line.lstrip())  # a continuation line (lazy, as Markdown allows)
            continue
        owner = reader.owner(indent) if indent >= 2 and reader.after_gap else None
        if owner is not None:
            marker, depth = owner
            reader.open("item", line.lstrip(), " " * len(marker), depth)
            continue
        if indent >= 4 and (reader.after_gap or not reader.blocks or reader.blocks[-1].kind == "code"):
            reader.add(Block("code", line[4:].rstrip()))
            continue
        reader.end_list()
        reader.open("paragraph", line.lstrip())
    return reader.result()


def plain_lines(blocks: list[Block], *, bullet: str = "-") -> list[str]:
    """The blocks as lines of plain text (no wrapping): for a log, a test, or a terminal that shows no layout."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "gap":
            out.append("")
        elif block.kind == "rule":
            out.append("-" * 20)
        elif block.kind == "item":
            marker = bullet if block.marker == "-" else block.marker
            lines = block.text.split("\n")
            pad = "  " * block.depth
            out.append(f"{pad}{marker} {lines[0]}")
            out.extend(f"{pad}{' ' * (len(marker) + 1)}{rest}" for rest in lines[1:])
        elif block.kind == "code":
            out.append(f"    {block.text}")
        elif block.kind == "quote":
            out.extend(f"| {line}" for line in block.text.split("\n"))
        else:
            out.extend(block.text.split("\n"))
    return out
