"""The HTTP/1.1 protocol the demo server runs: uvicorn's h11 protocol, answering problem details when a request is
not valid HTTP.

uvicorn answers a request it cannot parse (a ``Content-Length: Xg``, a header line without a colon, headers too
large) with ``400`` and a ``text/plain`` body before the app sees it, so the app's problem handlers never run. The
contract says every error is ``application/problem+json``: :class:`ProblemH11Protocol` sends the same ``400`` as a
problem document (code ``bad_request``), and the OpenAPI document lists ``400`` on every operation.

h11 is used whatever else is installed (uvicorn's ``auto`` would take httptools when present, with its own 400).
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from console.demo.problems import CODE_BAD_REQUEST, PROBLEM_MEDIA_TYPE, ApiProblem

MALFORMED_DETAIL = "the request is not valid HTTP/1.1"


def malformed_request_body() -> bytes:
    """The problem document answered to a request that is not valid HTTP."""
    problem = ApiProblem(400, MALFORMED_DETAIL, code=CODE_BAD_REQUEST)
    return json.dumps(problem.body(), separators=(",", ":")).encode()


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, whose answer to a request it cannot parse is a problem document."""

    def send_400_response(self, msg: str) -> None:
        body = malformed_request_body()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()
