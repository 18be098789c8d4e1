"""What the console would write to the terminal, and the check that nothing in it came from a server.

The headless driver of ``run_test`` writes nothing, so the frame is rendered here exactly as the Linux driver would
render it (``Compositor.render_update(full=True).render_segments(console)``: the same string the writer thread sends
to the tty). The console itself only emits a small set of sequences: SGR colours and attributes (``CSI ... m``),
cursor moves (``CSI row;col H``) and, for links the console makes, OSC 8. Anything else that the terminal would act
on (another CSI, OSC 52 clipboard writes, OSC 0 titles, DCS, APC, a C1 control, BEL, BS, CR) can only have come
from server text that was not cleaned: the check fails on it and names it.
"""

from __future__ import annotations

import re
from typing import Any

_OWN = re.compile(r"\x1b\[[0-9;:?]*[mHJlh]")
"""The console's own sequences: SGR, cursor position, and the private modes Textual sets (sync output, cursor)."""

_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""After the console's own sequences are taken out: any C0 control but LF, DEL, any C1, bidi controls, surrogates."""


def frame_bytes(app: Any) -> str:
    """The full frame of the active screen, as the terminal would receive it."""
    screen = app.screen
    update = screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    if update is None:
        return ""
    return update.render_segments(app.console)


def foreign_sequences(frame: str) -> list[str]:
    """Every control or escape in ``frame`` that the console itself does not emit (with a little context)."""
    rest = _OWN.sub("", frame)
    found = []
    for match in _FORBIDDEN.finditer(rest):
        start = max(0, match.start() - 12)
        found.append(repr(rest[start : match.end() + 12]))
        if len(found) >= 5:
            break
    return found


def interpreted_markup(app: Any) -> list[str]:
    """Text on screen that carries a link or a click action: the console makes neither, so either can only come from
    server text parsed as markup (``[link=...]``, ``[@click=app.quit]``)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    found: list[str] = []
    for line in getattr(update, "strips", []):
        for strip in line:
            for segment in strip:
                style = segment.style
                if style is None:
                    continue
                meta = style.meta if style._meta else {}
                if style.link or "@click" in meta:
                    found.append(repr(segment.text[:40]))
    return found[:5]


def assert_segments_inert(segments: Any, where: str) -> None:
    """A drawn line (segments, as a widget renders them): no control or escape in its text (the console's own
    sequences are added later, by the driver), and no style carrying a link or a click action."""
    text = "".join(segment.text for segment in segments)
    found = [repr(text[max(0, m.start() - 12) : m.end() + 12]) for m in _FORBIDDEN.finditer(text)][:5]
    assert not found, f"{where}: the terminal would receive server controls: {found}"
    marked = []
    for segment in segments:
        style = segment.style
        if style is not None and (style.link or "@click" in (style.meta if style._meta else {})):
            marked.append(repr(segment.text[:40]))
    assert not marked, f"{where}: server text was parsed as markup (link or click): {marked[:5]}"


def assert_inert(app: Any, where: str) -> None:
    frame = frame_bytes(app)
    assert frame, f"{where}: nothing rendered"
    foreign = foreign_sequences(frame)
    assert not foreign, f"{where}: the terminal would receive server escapes: {foreign}"
    marked = interpreted_markup(app)
    assert not marked, f"{where}: server text was parsed as markup (link or click): {marked}"
