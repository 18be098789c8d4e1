"""Hostile text from a server: stored intact, made inert by ``widgets.safe_text.clean``, never interpreted as markup.

Every hostile string is sent in every text field it can land in (on the event stream, as raw UTF-8 JSON, the way
pydantic and FastAPI write it), then the store must hold it byte for byte, and ``clean`` of it must carry no control,
escape, bidi or zero-width character, and Rich ``Text`` / Textual ``Content`` made from it must carry no span
(no style, no link, no ``@click`` meta). Problem details (error answers) go the same way into the source's reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.store import SourceState
from tests.faults.harness import (
    assert_continuous,
    assert_inert,
    assert_matches,
    publish_timeline,
    running_source,
)
from tests.faults.hostile_server import HostileServer, Reply
from widgets.safe_text import ELLIPSIS, clean

HOSTILE: dict[str, str] = {
    "markup-bold": "[bold red]FIRE[/bold red]",
    "markup-link": "[link=https://evil.example]click me[/link]",
    "markup-click": "[@click=app.quit]quit[/]",
    "markup-escaped": "\\[bold]not bold\\[/bold]",
    "markup-style-var": "[$accent on $error]x[/]",
    "csi-colour": "\x1b[31mRED\x1b[0m",
    "csi-clear-and-move": "\x1b[2J\x1b[H\x1b[10;10Hmoved\x1b[?25l",
    "osc8-link": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc-title": "\x1b]0;pwned\x07title",
    "dcs": "\x1bP1;1|secret\x1b\\",
    "bell": "ding\x07\x07",
    "c1-csi": "\x9b31mred",
    "c1-osc-st": "\x9d0;title\x9c",
    "c1-nel": "a\x85b",
    "nul-del-backspace": "a\x00b\x7fc\x08d",
    "newline-tab-cr": "line1\nline2\tcol\rover",
    "line-paragraph-separators": "a\u2028b\u2029c",
    "rtl-override": "\u202eexe.txt\u202c",
    "bidi-isolates": "\u2066abc\u2069\u2067def\u2069",
    "zwj-emoji": "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
    "zero-width-space": "M\u200b-07",
    "bom": "\ufeffM-07",
    "combining-zalgo": "e\u0301\u0301\u0301\u0301\u0301\u0301zalgo",
    "leading-combining": "\u0301start",
    "wide-cjk": "工作站三号機",
    "emoji": "\U0001f525\U0001f3ed\u2699\ufe0f",
    "arabic": "آلة الطباعة",
    "everything": "[bold]\x1b[31m\u202e\u200d\x9b\x07[link=x]y[/link]\u0301工",
}

# (event kind, field): the text fields of the contract where a server's string reaches a screen.
FIELDS: list[tuple[str, str]] = [
    ("machine", "name"),
    ("machine", "state_reason"),
    ("machine", "fault_code"),
    ("machine", "state"),
    ("node", "name"),
    ("alert", "message"),
    ("alert", "code"),
    ("alert", "ack_note"),
    ("job", "part"),
    ("job", "customer_region"),
]

TYPES = {"machine": "machine.updated", "node": "node.updated", "alert": "alert.updated", "job": "job.updated"}
TABLES = {"machine": "machines", "node": "nodes", "alert": "alerts", "job": "jobs"}
FIRST_ID = {"machine": "M-101", "node": "N-1", "alert": "A-1", "job": "J-101"}


def table_of(store: Any, kind: str) -> dict[str, Any]:
    return getattr(store, TABLES[kind])


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_text_in_an_event(hostile: Any, text: str) -> None:
    """``text`` in every field of ``FIELDS`` at once, one event per kind of object, between valid neighbours: one
    server and one source a hostile string (the fields are independent, so a field that broke would still fail here,
    named in the assertion; 29 connections instead of 290)."""
    server: HostileServer = await hostile()
    server.freeze_snapshot()
    publish_timeline(server, 2)
    for kind in TYPES:
        oid = FIRST_ID[kind]
        hostile_fields = {field: text for k, field in FIELDS if k == kind}
        server.publish(TYPES[kind], {**server.tables[TABLES[kind]][oid], **hostile_fields})
    publish_timeline(server, 2, start=5)  # neighbours that do not touch the objects under test
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        run.assert_alive()
        assert run.status.malformed_total == 0, [r.reason for r in run.status.malformed]
        for kind, field in FIELDS:
            value = getattr(table_of(run.store, kind)[FIRST_ID[kind]], field)
            assert value == text, f"{kind}.{field} not stored intact"
            assert_inert(value)
        assert_continuous(run.store, server.base_seq + 1, server.seq)
        assert_matches(run.store, server.snapshot_json())
        # The store's own summaries quote server text: they must be inert once cleaned too.
        for event in run.store.recent_machine_events(FIRST_ID["machine"]):
            assert_inert(event.summary)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_ids_and_names_in_the_snapshot(hostile: Any, text: str) -> None:
    """Hostile text as an object's id (a dict key, an index key) and in every name, straight in the snapshot."""
    server: HostileServer = await hostile()
    machine = {**server.tables["machines"]["M-101"], "id": text, "name": text, "model": text, "kind": text}
    server.tables["machines"][text] = machine
    server.tables["nodes"]["N-1"] = {**server.tables["nodes"]["N-1"], "name": text, "city": text}
    server.tables["alerts"]["A-1"] = {**server.tables["alerts"]["A-1"], "source": {"kind": text, "id": text}}
    async with running_source(server.url) as run:
        await run.until_live_at(server.seq)
        assert run.store.machines[text].name == text
        assert run.store.nodes["N-1"].city == text
        assert run.store.alerts_for(text, text)[0].id == "A-1"
        assert text in run.store.machines_of_kind(text)[0].id
        assert_inert(run.store.machines[text].id)
        assert_matches(run.store, server.snapshot_json())


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_problem_detail_becomes_an_inert_reason(hostile: Any, text: str) -> None:
    server: HostileServer = await hostile()
    body = {"type": "about:blank", "title": text, "status": 503, "detail": text, "code": text}

    server.fail("/v1/snapshot", Reply(503, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()))
    async with running_source(server.url, backoff_base=0.2, backoff_max=0.2) as run:
        await run.until_state(SourceState.RECONNECTING)
        reason = run.status.reason or ""
        assert text in reason  # kept as data for the connection log...
        assert_inert(reason)  # ...and inert once cleaned for display
        for line in run.status.log:
            assert_inert(line.message)
        await run.until_live_at(server.seq)


# --- huge strings ---------------------------------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024
# One event is capped (``max_event_kb``, 1 MiB by default; over the cap it is dropped, see test_faults_limits.py), so a
# huge string on the stream is one that still fits: 200 KiB of three-byte characters is about 600 KiB of UTF-8.
EVENT_CHUNKS = 2 * 1024

HUGE_CASES = [("event", "machine", "name"), ("snapshot", "alert", "message"), ("event", "machine", "state_reason")]


@pytest.mark.parametrize(("where", "kind", "field"), HUGE_CASES, ids=[f"{w}-{k}.{f}" for w, k, f in HUGE_CASES])
async def test_huge_strings_are_stored_whole_and_cut_only_for_display(
    hostile: Any, where: str, kind: str, field: str
) -> None:
    server: HostileServer = await hostile()
    oid = FIRST_ID[kind]
    chunks = FIVE_MB // 100 if where == "snapshot" else EVENT_CHUNKS
    huge = ("[bold]\x1b[31m" + "工" * 97 + "x") * chunks
    payload = {**server.tables[TABLES[kind]][oid], field: huge}
    if where == "snapshot":
        server.tables[TABLES[kind]][oid] = payload
    else:
        server.freeze_snapshot()
        server.publish(TYPES[kind], payload)
        publish_timeline(server, 2, start=5)
    async with running_source(server.url, timeout=10) as run:
        await run.until_live_at(server.seq, timeout=20)
        value = getattr(table_of(run.store, kind)[oid], field)
        assert value == huge and len(value) >= chunks * 100
        shown = clean(value, max_len=80)
        assert len(shown) == 80 and shown.endswith(ELLIPSIS)
        assert_inert(value[:10_000])
        assert run.status.malformed_total == 0
