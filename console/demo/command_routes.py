"""The command endpoints (``POST /v1/{machines|nodes|jobs|alerts}/{id}/<verb>``).

Order of checks, each a problem when it fails: the caller's role (403), the ``Idempotency-Key`` header (400
``idempotency_key_required``: the contract says every command carries one, and a command without it could be applied
twice by a retry, so the server refuses it rather than guess), the body (422), a replay of a key already answered
(the stored answer, or 422 ``idempotency_key_reused`` when the key came with another command), the target being in
this server's view (404), and finally the simulation (200, or its 404/409/422 problem).

No ``from __future__ import annotations`` here: FastAPI must see each handler's body model as a real type, and the
model is a local of the loop that builds the routes.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel
from starlette.responses import Response

from console.api.command_bodies import AckBody, CommandResult, PauseMachineBody, ReasonBody, RerouteBody, ShelveBody
from console.api.models import Role
from console.demo.auth import Principal, principal_of, require_role
from console.demo.context import ServerContext, problem_responses
from console.demo.idempotency import fingerprint
from console.demo.problems import (
    CODE_IDEMPOTENCY_KEY_REQUIRED,
    CODE_IDEMPOTENCY_KEY_REUSED,
    CODE_IDEMPOTENCY_KEY_TOO_LONG,
    CODE_NOT_FOUND,
    PROBLEM_MEDIA_TYPE,
    ApiProblem,
)
from console.demo.sim.errors import SimCommandError

MAX_KEY_LENGTH = 255
KEY_WHITESPACE = " \t"
"""What is stripped from a key: HTTP's optional whitespace, and nothing else (so the document can say which keys
are blank)."""

IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "a fresh UUID per command; a retry sends the same one. Missing or blank: 400 "
    f"idempotency_key_required; longer than {MAX_KEY_LENGTH} characters: 400 idempotency_key_too_long",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "[^ \t]"},
}
"""The header as the OpenAPI document gives it. The handler reads it as optional and checks it itself (so a missing
key is 400 with its own code, after 401/403 and before the body's 422), which FastAPI would document as optional."""


@dataclass(frozen=True)
class CommandSpec:
    kind: str  # machine, node, job, alert: the target's kind, the path's collection without the "s"
    verb: str
    body: type[BaseModel]
    role: str
    summary: str

    @property
    def action(self) -> str:
        return f"{self.kind}.{self.verb}"

    @property
    def path(self) -> str:
        return f"/{self.kind}s/{{target_id}}/{self.verb}"


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("machine", "pause", PauseMachineBody, Role.OPERATOR, "hold a machine now, or drain it after its job"),
    CommandSpec("machine", "resume", ReasonBody, Role.OPERATOR, "let a machine go on and take work"),
    CommandSpec("machine", "ready", ReasonBody, Role.OPERATOR, "confirm a blocked machine is clear"),
    CommandSpec("node", "pause", ReasonBody, Role.SUPERVISOR, "drain a node: no new jobs"),
    CommandSpec("node", "resume", ReasonBody, Role.SUPERVISOR, "let a node take jobs again"),
    CommandSpec("job", "pause", ReasonBody, Role.OPERATOR, "pause a job"),
    CommandSpec("job", "resume", ReasonBody, Role.OPERATOR, "resume a job"),
    CommandSpec("job", "cancel", ReasonBody, Role.OPERATOR, "cancel a job"),
    CommandSpec("job", "reroute", RerouteBody, Role.OPERATOR, "move a job to another machine or node"),
    CommandSpec("alert", "ack", AckBody, Role.OPERATOR, "acknowledge an alert"),
    CommandSpec("alert", "shelve", ShelveBody, Role.OPERATOR, "hide an alert from the active list until a time"),
    CommandSpec("alert", "unshelve", ShelveBody, Role.OPERATOR, "bring a shelved alert back"),
)


def _stored_response(status: int, body: bytes, media_type: str) -> Response:
    return Response(content=body, status_code=status, media_type=media_type)


def command_router(ctx: ServerContext) -> APIRouter:
    router = APIRouter(prefix="/v1", responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
    for spec in COMMANDS:
        _add_command(router, ctx, spec)
    return router


def _add_command(router: APIRouter, ctx: ServerContext, spec: CommandSpec) -> None:
    def authorise(request: Request) -> Principal:
        principal = principal_of(request)
        require_role(principal, spec.role, f"{spec.action}")
        return principal

    def idempotency_key(
        principal: Principal = Depends(authorise),
        # Documented by IDEMPOTENCY_KEY_PARAMETER (openapi_extra below), not by FastAPI.
        key: str | None = Header(None, alias="Idempotency-Key", include_in_schema=False),
    ) -> str:
        if key is None or not key.strip(KEY_WHITESPACE):
            raise ApiProblem(400, "commands need an Idempotency-Key header", code=CODE_IDEMPOTENCY_KEY_REQUIRED)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiProblem(
                400, f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters", code=CODE_IDEMPOTENCY_KEY_TOO_LONG
            )
        return key.strip(KEY_WHITESPACE)

    body_model = spec.body

    async def handler(
        request: Request,
        target_id: str,
        key: str = Depends(idempotency_key),
        body: body_model | None = Body(None),  # type: ignore[valid-type]
    ) -> Response:
        principal = principal_of(request)
        payload = body.model_dump(mode="json") if body is not None else body_model().model_dump(mode="json")
        fp = fingerprint("POST", request.url.path, payload)
        stored = ctx.idempotency.lookup(key)
        if stored is not None:
            if stored.fingerprint != fp:
                raise ApiProblem(
                    422,
                    "this Idempotency-Key was already used for another command",
                    code=CODE_IDEMPOTENCY_KEY_REUSED,
                )
            return _stored_response(stored.status, stored.body, stored.media_type)
        status, content, media_type = _execute(ctx, spec, target_id, payload, principal, key)
        ctx.idempotency.store(key, fp, status, content, media_type)
        return _stored_response(status, content, media_type)

    handler.__name__ = f"{spec.kind}_{spec.verb}"
    router.add_api_route(
        spec.path,
        handler,
        methods=["POST"],
        response_model=CommandResult,
        summary=spec.summary,
        tags=["commands"],
        name=spec.action,
        openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
    )


def _execute(
    ctx: ServerContext, spec: CommandSpec, target_id: str, payload: dict[str, Any], principal: Principal, key: str
) -> tuple[int, bytes, str]:
    """Run one command on the simulation; the answer's status, body and media type (to send and to store)."""
    try:
        if not ctx.view.contains(spec.kind, target_id):
            raise ApiProblem(404, f"no {spec.kind} {target_id}", code=CODE_NOT_FOUND)
        payload = _check_reroute_target(ctx, spec, payload)
        # A node agent is on the shop floor: its node's WAN outage does not stop its commands (the cluster's do).
        local = {"local_node": ctx.view.node_id} if ctx.view.node_id is not None else {}
        entry = ctx.sim.execute(spec.action, target_id, payload, principal.operator, idempotency_key=key, **local)
    except ApiProblem as problem:
        return problem.status, _problem_bytes(problem), PROBLEM_MEDIA_TYPE
    except SimCommandError as err:
        refusal = ApiProblem(err.status, err.detail, code=err.code, title=err.title)
        return refusal.status, _problem_bytes(refusal), PROBLEM_MEDIA_TYPE
    result = CommandResult(command_id=str(uuid.uuid4()), status="applied", audit_id=entry.id)
    return 200, result.model_dump_json().encode(), "application/json"


def _check_reroute_target(ctx: ServerContext, spec: CommandSpec, payload: dict[str, Any]) -> dict[str, Any]:
    """On a node agent (a cluster of one node) a reroute stays on the node.

    A target outside the node does not exist there (422 ``unknown_target``, as the simulation says of an unknown
    target), and ``auto`` picks the best machine of this node (sent to the simulation as ``node_id``).
    """
    if spec.action != "job.reroute" or ctx.view.node_id is None:
        return payload
    machine_id, node_id = payload.get("machine_id"), payload.get("node_id")
    if machine_id and not ctx.view.contains("machine", machine_id):
        raise ApiProblem(422, f"machine {machine_id} not found on node {ctx.view.node_id}", code="unknown_target")
    if node_id and node_id != ctx.view.node_id:
        raise ApiProblem(422, f"node {node_id} not found: this agent serves {ctx.view.node_id}", code="unknown_target")
    if payload.get("auto") and not machine_id and not node_id:
        return {**payload, "auto": False, "node_id": ctx.view.node_id}
    return payload


def _problem_bytes(problem: ApiProblem) -> bytes:
    return json.dumps(problem.body(), separators=(",", ":")).encode()
