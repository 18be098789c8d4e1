"""Polling OctoPrint's REST API: what to ask, and when.

Polling is the fallback: while OctoPrint's push socket is up (:mod:`.push`) nothing is polled; when the socket
cannot be opened or drops, the source asks, until the socket is back. What it asks:

* once per connection, ``GET /api/version`` (it checks the API key, and its text is the machine's model) and
  ``GET /api/printerprofiles`` (the build volume; a key without the *Connection* permission gets a 403 there and
  everything else still works, so that failure is swallowed);
* every interval, ``GET /api/printer`` (state flags, temperatures) and ``GET /api/job`` (file, progress, time left),
  side by side. OctoPrint answers ``/api/printer`` with 409 while its serial port is closed; ``/api/job``'s state
  text then says why, so a 409 there is an answer (``printer=None``), not a failure.

When: never more than once a second per printer (OctoPrint usually runs on a Raspberry Pi next to the printer; be
gentle), but a command asks for an early look (:meth:`Poller.wake`) so its effect shows within a second, because
the effect reaches the store only through the next poll (:mod:`console.sources.octoprint.translation`). The poller
returns raw answers: judging them is the translation's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.api.errors import ClientError
from console.sources.base import Backoff
from console.sources.octoprint.mapping import clean_text, current_profile, envelope_from_profile
from console.sources.octoprint.rest import PrinterRest

__all__ = ["MIN_POLL_INTERVAL", "PollAnswer", "Poller", "PrinterInfo"]

MIN_POLL_INTERVAL = 1.0
"""Never poll one printer more than once a second (a Raspberry Pi runs OctoPrint; be gentle)."""


@dataclass(frozen=True, slots=True)
class PrinterInfo:
    """What is asked once per connection: the model text and the build volume (zeros when unknown)."""

    model: str
    envelope: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class PollAnswer:
    """One poll's raw answers: ``/api/printer`` (``None`` when it answered 409, the port being closed) and
    ``/api/job``. Untrusted JSON; the translation checks every field it reads."""

    printer: Any
    job: Any


class Poller:
    """Asks one OctoPrint server (through ``rest``) and paces the asking. See the module docstring."""

    def __init__(self, rest: PrinterRest, *, poll_interval: float, backoff: Backoff) -> None:
        self.rest = rest
        self.poll_interval = max(MIN_POLL_INTERVAL, poll_interval)
        self.backoff = backoff
        self._wake = asyncio.Event()

    async def printer_info(self) -> PrinterInfo:
        """``/api/version`` and ``/api/printerprofiles``; raises what :meth:`PrinterRest.get` raises for the first."""
        version = await self.rest.get("/api/version")
        text = clean_text(version.get("text") if isinstance(version, Mapping) else None, 60)
        try:
            profile = current_profile(await self.rest.get("/api/printerprofiles"))
        except ClientError:
            # The build volume is a nicety: a key without the Connection permission (403 here, after /api/version
            # accepted it) still gets everything else.
            profile = None
        return PrinterInfo(text or "OctoPrint", envelope_from_profile(profile))

    async def poll(self) -> PollAnswer:
        """``/api/printer`` and ``/api/job`` side by side."""
        printer, job = await asyncio.gather(self.rest.get("/api/printer", none_on_409=True), self.rest.get("/api/job"))
        return PollAnswer(printer, job)

    def wake(self) -> None:
        """Ask for the next poll now (still at most one a second): a command was carried out, or a console-side
        change (an acknowledgement) waits to be translated."""
        self._wake.set()

    async def wait_next(self, started: float, until: float | None = None) -> None:
        """After a good poll begun at ``started`` (``time.monotonic()``): sleep until the next is due, or until
        :meth:`wake` (never within a second of ``started``), or until ``until`` (the push socket's next try)."""
        await self._nap(_earliest(started + self.poll_interval, until), started)

    def retry_delay(self) -> float:
        """After a failed poll: the backoff's next delay (exponential, full jitter), at least a second."""
        return max(MIN_POLL_INTERVAL, self.backoff.next_delay())

    async def sleep_retry(self, started: float, delay: float, until: float | None = None) -> None:
        """After a failed poll begun at ``started``: sleep ``delay`` (:meth:`retry_delay`), or until :meth:`wake`.

        Why a wake cuts a retry short too: what woke it (an acknowledgement) reaches the store only through a poll's
        translation, even a failing poll's; the retry still comes at least a second after ``started``.
        """
        await self._nap(_earliest(time.monotonic() + delay, until), started)

    async def _nap(self, deadline: float, started: float) -> None:
        delay = deadline - time.monotonic()
        if delay <= 0:
            self._wake.clear()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)  # a wake during the last poll counts too
        self._wake.clear()
        # Woken early: still keep to at most one poll a second.
        if (rest := started + MIN_POLL_INTERVAL - time.monotonic()) > 0:
            await asyncio.sleep(rest)


def _earliest(deadline: float, until: float | None) -> float:
    return deadline if until is None else min(deadline, until)
