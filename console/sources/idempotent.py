"""Idempotency for a source whose server has none of its own (OctoPrint, Moonraker): one mechanism, not a copy each.

The contract promises that a command sent again with the same ``Idempotency-Key`` returns the first answer and does
nothing twice; the command service relies on it when it retries a lost answer. A printer's API has no such key, so
without this a retried pause would pause twice (the second time getting a confusing 409). :class:`IdempotentCarrier`
gives an adapter's command carrier that promise: the first answer (result or problem) is kept per key, a command
still on its way is joined rather than sent again, and a caller that gives up does not abandon it half-way.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from console.api.command_bodies import CommandResult
from console.api.errors import ApiError

__all__ = ["IdempotentCarrier", "ResultCache"]


class ResultCache:
    """The first answer to each idempotency key (a result or an :class:`ApiError`), the newest ``size`` keys."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._answers: OrderedDict[str, CommandResult | ApiError] = OrderedDict()

    def get(self, key: str | None) -> CommandResult | ApiError | None:
        """The first answer to ``key``, or ``None`` (never asked, forgotten, or no key)."""
        if key is None:
            return None
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: str | None, answer: CommandResult | ApiError) -> None:
        """Remember ``answer`` as the one to ``key`` (nothing without a key)."""
        if key is None:
            return
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


class IdempotentCarrier:
    """``command(...)`` with the contract's idempotency over :meth:`_command`, which a subclass implements."""

    def __init__(self) -> None:
        self._answers = ResultCache()
        self._in_flight: dict[str, asyncio.Future[CommandResult]] = {}

    async def command(
        self, path: str, body: dict[str, Any] | None, idempotency_key: str | None = None
    ) -> CommandResult:
        """Carry out one console command; a key already answered returns (or raises) its first answer again."""
        cached = self._answers.get(idempotency_key)
        if isinstance(cached, ApiError):
            raise cached
        if cached is not None:
            return cached
        task = self._in_flight.get(idempotency_key) if idempotency_key is not None else None
        if task is None:
            task = asyncio.ensure_future(self._command_once(path, body or {}, idempotency_key))
            # Retrieve a failure even if every caller was cancelled meanwhile (no "never retrieved" warning).
            task.add_done_callback(lambda done: None if done.cancelled() else done.exception())
            if idempotency_key is not None:
                self._in_flight[idempotency_key] = task
        # Shielded: a caller giving up does not abandon a command half-way; its answer is still cached for the key.
        return await asyncio.shield(task)

    async def _command_once(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> CommandResult:
        try:
            result = await self._command(path, body)
        except ApiError as error:
            self._answers.put(idempotency_key, error)
            raise
        else:
            self._answers.put(idempotency_key, result)
            return result
        finally:
            if idempotency_key is not None:
                self._in_flight.pop(idempotency_key, None)

    async def _command(self, path: str, body: dict[str, Any]) -> CommandResult:
        raise NotImplementedError
