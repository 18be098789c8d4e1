"""Make untrusted server strings safe to draw in a terminal.

Every string that comes from a server (names, reasons, alert messages, job parts, unknown enum values) goes through
:func:`clean` before any widget draws it. Why this one place matters:

* A raw ESC, CSI (``ESC [`` or the single byte C1 ``0x9b``) or OSC (``ESC ]``: hyperlinks, clipboard writes with OSC 52,
  window titles) in a machine name would be *executed* by the operator's terminal. We replace every C0 and C1 control
  character, ESC and DEL with an inert, visible placeholder, so the start of every such sequence is gone.
* Bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069) reorder what follows them, so a name can *look*
  like another one ("Trojan Source"); zero-width characters hide text or make two different ids look equal. They
  are replaced with a visible ``<U+XXXX>`` escape so the operator sees that something odd is there.
* Markup: Textual and Rich interpret ``[bold]``/``[link=...]``/``[@click=...]`` only when text is parsed as markup.
  :func:`plain` and :func:`content` build ``Text``/``Content`` objects directly from the cleaned string, so markup is
  never interpreted. Widgets must never f-string server text into markup.
* Column alignment: :func:`fit` pads and cuts by *terminal cells* (``rich.cells``), so wide CJK and emoji and
  zero-width combining marks never shift the columns that follow.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.content import Content

from widgets.charset import ellipsis
from widgets.text_clean import ELLIPSIS, inert

__all__ = ["ELLIPSIS", "clean", "clean_multiline", "content", "fit", "fit_middle", "id_and_name", "plain"]


def clean(text: object, max_len: int | None = None) -> str:
    """Return ``text`` with every control, escape, bidi and zero-width character made visible and inert
    (:func:`widgets.text_clean.inert`).

    ``max_len`` (in characters) cuts the result, ending it with ``…`` (``...`` in ASCII mode). ``None`` is shown as
    an empty string and any other non-string is converted with ``str`` first (an unknown enum value may arrive as a
    number).
    """
    text = inert(text)
    if max_len is not None and len(text) > max_len:
        text = text[: max(0, max_len - 1)] + ellipsis() if max_len > 0 else ""
    return text


def clean_multiline(text: object, max_len: int | None = None) -> str:
    """:func:`clean` for text of several lines (a toast listing bulk outcomes): each line is cleaned, the line breaks
    between them are kept, and ``max_len`` cuts the whole."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    joined = "\n".join(clean(line) for line in text.split("\n"))
    return _cut(joined, max_len)


def _cut(text: str, max_len: int | None) -> str:
    if max_len is not None and len(text) > max_len:
        return text[: max(0, max_len - 1)] + ellipsis() if max_len > 0 else ""
    return text


def fit(text: str, width: int, *, align: str = "left", cleaned: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` terminal cells (an over-long text ends with ``…``).

    The text is cleaned first unless ``cleaned`` says it already is. ``align`` is ``left``, ``right`` or ``center``.
    """
    if width <= 0:
        return ""
    if not cleaned:
        text = clean(text)
    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + ellipsis()
    gap = width - size
    if not gap:
        return text
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    return text + " " * gap


def fit_middle(text: str, width: int, *, cleaned: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, cutting from the middle: ``Leeds Ba…X1E #1``.

    For names that differ at their end (``... #1``, ``... #2``): the distinguishing end stays in view.
    """
    if width <= 0:
        return ""
    if not cleaned:
        text = clean(text)
    if cell_len(text) <= width:
        return fit(text, width, cleaned=True)
    if width < 6:
        return fit(text, width, cleaned=True)
    tail_cells = (width - 1) // 2
    head_cells = width - 1 - tail_cells
    head = set_cell_size(text, head_cells)
    tail = text
    while cell_len(tail) > tail_cells:
        tail = tail[1:]
    return fit(head + ellipsis() + tail, width, cleaned=True)


def id_and_name(ident: str, name: str, width: int) -> str:
    """``M-LDS-02 Leeds Ba…X1E #2`` in exactly ``width`` cells: the id whole (it tells machines apart even when
    their names are alike), then the name cut from the middle; at a very small width, the id alone."""
    ident = clean(ident)
    if not name or name == ident:
        return fit_middle(ident, width, cleaned=True)
    room = width - cell_len(ident) - 1
    if room < 4:
        return fit_middle(ident, width, cleaned=True)
    return ident + " " + fit_middle(name, room)


def plain(text: object, style: str | Style = "", max_len: int | None = None) -> Text:
    """A Rich ``Text`` holding the cleaned string as *plain text*: markup in it is never interpreted."""
    return Text(clean(text, max_len), style=style, end="", no_wrap=True)


def content(text: object, max_len: int | None = None) -> Content:
    """A Textual ``Content`` holding the cleaned string as plain text (never parsed as markup)."""
    return Content(clean(text, max_len))
