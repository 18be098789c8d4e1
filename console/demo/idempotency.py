"""Idempotency keys for commands: the same key within 24 h gets the first answer, and nothing happens twice.

A command's *fingerprint* is its method, path and canonical JSON body. The same key with the same fingerprint
replays the stored answer (status and body, byte for byte); the same key with another fingerprint is a client bug
and gets a 422 problem ``idempotency_key_reused``. Only answers that reached the simulation are stored (applied, or
refused by it with 404/409/422): a 401, 403 or a malformed body never consumed the key, so a corrected retry works.

Keys are kept per server (not per operator) for 24 h of *wall* time (the simulated clock may run fast), and at most
``max_entries`` of them (oldest dropped first) so a long demo does not grow without bound.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DAY_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given to a key."""

    fingerprint: str
    status: int
    body: bytes
    media_type: str
    stored_at: float


def fingerprint(method: str, path: str, body: Any) -> str:
    """A stable text for "the same command": method, path and the body as canonical JSON."""
    return f"{method.upper()} {path} " + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class IdempotencyStore:
    """Remembers answers by ``Idempotency-Key``; not thread-safe (used from the server's event loop only)."""

    def __init__(
        self, *, ttl_s: float = DAY_S, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._answers: OrderedDict[str, StoredAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def lookup(self, key: str) -> StoredAnswer | None:
        """The stored answer for ``key``, or ``None`` if it is unknown or older than the TTL."""
        self._expire()
        return self._answers.get(key)

    def store(self, key: str, fp: str, status: int, body: bytes, media_type: str) -> StoredAnswer:
        answer = StoredAnswer(fp, status, body, media_type, self._clock())
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)
        return answer

    def _expire(self) -> None:
        cutoff = self._clock() - self.ttl_s
        while self._answers:
            oldest = next(iter(self._answers.values()))
            if oldest.stored_at >= cutoff:
                break
            self._answers.popitem(last=False)
