"""The one error a simulation command raises: a refusal the server turns into an RFC 9457 problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.api.models import AuditEntry

__all__ = ["SimCommandError"]

_TITLES = {404: "Not Found", 409: "Conflict", 422: "Unprocessable Content"}


class SimCommandError(Exception):
    """A refused command: ``status`` (404, 409, 422), a machine-readable ``code``, ``title`` and a human ``detail``.

    ``audit`` is the ``rejected`` audit entry the simulation recorded for it (set by ``Simulation.execute``).
    """

    def __init__(self, status: int, code: str, detail: str, title: str | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.title = title or _TITLES.get(status, "Error")
        self.detail = detail
        self.audit: AuditEntry | None = None
