"""RFC 9457 problem details for every error the demo server answers.

The contract says *every* error is ``application/problem+json``; FastAPI's default is ``{"detail": ...}``. So the
server raises :class:`ApiProblem` itself and :func:`install_problem_handlers` turns Starlette's own errors (unknown
route, wrong method, request validation, unexpected exceptions) into problems too.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Codes for problems the server itself raises (the simulation brings its own codes for 404/409/422).
CODE_NOT_FOUND = "not_found"
CODE_METHOD_NOT_ALLOWED = "method_not_allowed"
CODE_VALIDATION = "validation_error"
CODE_UNAUTHORIZED = "unauthorized"
CODE_FORBIDDEN = "forbidden"
CODE_INVALID_CURSOR = "invalid_cursor"
CODE_IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
CODE_IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
CODE_IDEMPOTENCY_KEY_TOO_LONG = "idempotency_key_too_long"
CODE_INTERNAL = "internal_error"
CODE_BAD_REQUEST = "bad_request"
CODE_INVALID_TEXT = "invalid_text"
"""422: a string in the request body is not Unicode scalar text (a lone surrogate such as ``"\\ud800"``), or the
body is not UTF-8."""
CODE_TEXT_TOO_LONG = "text_too_long"
"""422: a string in the request body is longer than ``console.demo.limits.MAX_TEXT_CHARS``."""
CODE_BODY_TOO_LARGE = "body_too_large"
"""413: the request body is larger than ``console.demo.limits.MAX_BODY_BYTES``."""

_DEFAULT_CODES = {
    400: CODE_BAD_REQUEST,
    401: CODE_UNAUTHORIZED,
    403: CODE_FORBIDDEN,
    404: CODE_NOT_FOUND,
    405: CODE_METHOD_NOT_ALLOWED,
    413: CODE_BODY_TOO_LARGE,
    422: CODE_VALIDATION,
    500: CODE_INTERNAL,
}


def default_code(status: int) -> str:
    """The ``code`` of a problem raised without one: every problem carries a code (``http_<status>`` at worst)."""
    return _DEFAULT_CODES.get(status, f"http_{status}")


def status_title(status: int) -> str:
    """The standard reason phrase of a status (``409`` -> ``Conflict``), the problem's default ``title``."""
    if status == 422:
        return "Unprocessable Content"  # RFC 9110's name (Python's table still says "Unprocessable Entity")
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ApiProblem(Exception):
    """An error answer of the API; raised anywhere in a request, rendered by the installed handler."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or status_title(status))
        self.status = status
        self.detail = detail
        self.code = code or default_code(status)
        self.title = title or status_title(status)
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The problem document (``type``, ``title``, ``status``, ``code``, ``detail`` when given, and extensions)."""
        doc: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail is not None:
            doc["detail"] = self.detail
        doc["code"] = self.code
        doc.update(self.extra)
        return doc

    def response(self) -> Response:
        return problem_response(self.status, self.body(), headers=self.headers)


def problem_response(status: int, body: dict[str, Any], *, headers: dict[str, str] | None = None) -> Response:
    """A ``Response`` carrying a problem document with the right media type."""
    return Response(
        content=json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _validation_detail(exc: RequestValidationError) -> str:
    """A short human text for pydantic/FastAPI validation errors: ``query.limit: Input should be ...``."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "the request is not valid"


def _jsonable_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """The validation errors as plain JSON (locations and messages only: inputs may be large or not serialisable)."""
    return [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        for err in exc.errors()[:20]
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document (never FastAPI's ``{"detail": ...}``)."""

    async def on_api_problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return exc.response()

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        code = default_code(status)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != status_title(status) else None
        if status == 404 and detail is None:
            detail = f"no such resource: {request.url.path}"
        if status == 405 and detail is None:
            allowed = (exc.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed here" + (f"; allowed: {allowed}" if allowed else "")
        problem = ApiProblem(status, detail, code=code, headers=dict(exc.headers or {}))
        return problem.response()

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if errors and all(tuple(err.get("loc", ())) == ("query", "cursor") for err in errors):
            # A cursor the schema's pattern refuses is just another cursor that is not ours: 400, as always.
            return ApiProblem(400, "the cursor is not valid", code=CODE_INVALID_CURSOR).response()
        problem = ApiProblem(
            422, _validation_detail(exc), code=CODE_VALIDATION, extra={"errors": _jsonable_errors(exc)}
        )
        return problem.response()

    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in the demo server", exc_info=exc)
        return ApiProblem(500, "the server failed; see its log", code=CODE_INTERNAL).response()

    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
