"""Keys typed ahead follow the focus: a burst of keys reaches the widget the operator meant, not the one before it.

Why: Textual hands each raw key to the widget focused *when the key is read* and checks the bindings only when the key
comes back up to the app. Keys that arrive in one read (a quick typist over SSH, where a whole word comes in one
packet) are all handed to the old widget before the first of them has opened anything. Typing ``/state:unack`` on
the Alerts screen then ran ``s`` (shelve) and ``a`` (acknowledge) on the alert under the cursor instead of filling
the filter that ``/`` had just opened; ``p`` followed by a reason lost the reason.

The fix: the app notes where it sent each raw key (:func:`note_route`). When the key comes back unhandled and the
focus has moved meanwhile (to the filter input ``/`` opened, to the dialog ``p`` pushed), the key is handed to the
new focus instead of being read as a binding of the old one (:func:`follow_focus`). The screens focus their input
at once (:func:`focus_now`), not after the keys already waiting, so the next key finds it. A key is handed on at most
:data:`MAX_HOPS` times, so no key can travel in a circle.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget

ROUTE_ATTR = "_console_route"
HOPS_ATTR = "_console_hops"
MAX_HOPS = 3


def note_route(event: events.Key, target: Widget) -> None:
    """Remember which widget (or screen) a raw key was handed to."""
    setattr(event, ROUTE_ATTR, target)


def follow_focus(event: events.Key, target_now: Widget) -> bool:
    """Hand ``event`` (a key back at the app, unhandled) to ``target_now`` if the focus moved since it was routed.

    Returns True when the key was handed on (the caller then ignores it); False when it should be read as usual.
    """
    routed = getattr(event, ROUTE_ATTR, None)
    if routed is None or routed is target_now:
        return False
    hops = int(getattr(event, HOPS_ATTR, 0))
    if hops >= MAX_HOPS:
        return False
    fresh = events.Key(event.key, event.character)
    setattr(fresh, HOPS_ATTR, hops + 1)
    note_route(fresh, target_now)
    target_now._forward_event(fresh)
    return True


def focus_now(widget: Widget) -> None:
    """Focus ``widget`` before the next key waiting in the queue is handled.

    ``Widget.focus()`` defers the change to after every message already queued, keys included; the keys typed right
    after the one that opened an input would still go to the widget before it.
    """
    widget.screen.set_focus(widget)
