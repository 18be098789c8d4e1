"""What a screen may ask of the app it runs in: the session and a few pieces of Textual glue, nothing more.

Screens, flows and the palette used to import ``FactoryConsoleApp`` (under ``TYPE_CHECKING``, which still made a
14-file import circle: the app imports every screen). They depend on this protocol instead; the app satisfies it.
Anything domain-side (the store, the server clock, routing, reads) is on :class:`~console.session.Session`; what is
here needs the UI loop: sending commands with toasts for their outcome, a background fetch, the frozen view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from console.command_service import Command
    from console.server_clock import ServerClock
    from console.session import Session
    from console.settings import Settings
    from console.store.store import Store

__all__ = ["ConsoleHost"]


class ConsoleHost(Protocol):
    """The app as the screens see it (see the module docstring)."""

    @property
    def session(self) -> Session: ...

    @property
    def store(self) -> Store: ...

    @property
    def server_clock(self) -> ServerClock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def frozen(self) -> bool:
        """The view is frozen (``f``): data flows into the store, the screens stop moving."""
        ...

    @property
    def read_only(self) -> bool: ...

    def can(self, action: str, count: int = 1) -> bool: ...

    def target_allows(self, action: str, kind: str, target_id: str | None) -> bool: ...

    def send_commands(self, commands: list[Command], *, what: str) -> None:
        """Send in the background; the outcome is a toast, the effect comes back on the event stream."""
        ...

    def fetch_audit(self, done: Callable[[list[Any]], None]) -> None:
        """Fetch the server's audit trail in the background and hand it to ``done`` (a toast on failure)."""
        ...
