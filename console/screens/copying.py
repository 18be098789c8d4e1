"""``y``: copy what is under the cursor to the operator's clipboard, with OSC 52 (Textual's ``copy_to_clipboard``).

OSC 52 travels in the terminal's own output stream, so it reaches the clipboard of the machine the operator sits at,
over SSH and through tmux (with ``set -g set-clipboard on``), where no X11 or Wayland clipboard of the server would.
The texts are :mod:`console.copy_text`'s (server text made inert there); this module finds the objects in the store
and tells the operator what was copied, in a toast that goes through the app's sanitiser like every other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from console.copy_text import Copy, alert_copy, job_copy

if TYPE_CHECKING:
    from console.store.store import Store

__all__ = ["COPY_BINDING", "copy_alert", "copy_job", "copy_out"]

COPY_BINDING = Binding("y", "copy", "Copy", tooltip="Copy it to the clipboard (OSC 52)", id="view.copy")
"""One binding id on every screen that copies, so ``[keys] "view.copy" = ...`` remaps it everywhere."""


def copy_job(store: Store, job_id: str | None) -> Copy | None:
    """A job's details, with its machine's and node's names when the store knows them."""
    job = store.jobs.get(job_id) if job_id else None
    if job is None:
        return None
    machine = store.machines.get(job.machine_id) if job.machine_id else None
    node = store.nodes.get(job.node_id) if job.node_id else None
    return job_copy(job, machine_name=machine.name if machine else None, node_name=node.name if node else None)


def copy_alert(store: Store, alert_id: str | None) -> Copy | None:
    """An alert's id, priority, code, source and message (an alert gone from the store: from the journal)."""
    if not alert_id:
        return None
    alert = store.alerts.get(alert_id)
    if alert is None:
        alert = next((a for a in store.journal.alerts() if a.id == alert_id), None)
    return None if alert is None else alert_copy(alert)


def copy_out(screen: Any, copy: Copy | None) -> None:
    """Put ``copy`` on the clipboard and say so; with nothing under the cursor, say that instead."""
    if copy is None:
        screen.notify("Nothing under the cursor to copy", timeout=2)
        return
    screen.app.copy_to_clipboard(copy.text)
    screen.notify(f"Copied {copy.what} to the clipboard", timeout=3)
