"""Broken events through the whole console: refused, listed on Diagnostics with their reason, the stream goes on.

Drawn from the store-level malformed catalogues (``test_faults_malformed``): wrong types and out-of-range values,
NaN and infinities, bad JSON, bad ids, missing required fields. Each bad event comes on the live stream between valid
ones; the console must stay live at the server's last ``seq``, count it, and the Diagnostics screen (key ``6``, the
key press of the case) must list it with its reason, its excerpt inert.

The whole app boots for one case of each catalogue, and for the two whose excerpt is the most hostile to a screen
(HTML, raw control characters): every case of every catalogue is proven at the source and store level in
``test_faults_malformed`` (counted, recorded with its reason, skipped, the stream goes on, reason and excerpt inert
once cleaned: what Diagnostics draws).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.console_harness import (
    assert_running,
    header_line,
    running_console,
    screen_text,
    status,
    switch_to,
    until,
    until_live_at,
)
from tests.faults.harness import publish_timeline
from tests.faults.hostile_server import HostileServer, frame
from tests.faults.malformed_catalogue import (
    BAD_IDS,
    BAD_JSON,
    MODELS,
    NON_FINITE,
    WRONG_VALUES,
    raw_with,
    required_fields,
    samples,
)
from widgets.safe_text import clean

Make = Callable[[HostileServer, int], bytes]


def wrong_value(kind: str, field: str, value: Any) -> Make:
    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        return frame(seq, type_, {**payload, field: value})

    return make


def non_finite(kind: str, field: str, literal: str) -> Make:
    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        return frame(seq, type_, raw_with(payload, field, literal))

    return make


def bad_json(type_: str, text: str) -> Make:
    return lambda server, seq: frame(seq, type_, text)


def missing(kind: str, field: str) -> Make:
    def make(server: HostileServer, seq: int) -> bytes:
        type_, payload, _ = samples(server)[kind]
        payload.pop(field)
        return frame(seq, type_, payload)

    return make


def bad_id(raw_id: str) -> Make:
    def make(server: HostileServer, seq: int) -> bytes:
        payload = dict(server.tables["machines"]["M-101"], name="never applied")
        return f"id: {raw_id}\nevent: machine.updated\ndata: {json.dumps(payload)}\n\n".encode()

    return make


# (id, make, issues a seq of its own): a bad id carries no usable seq, so the server does not advance for it.
CATALOGUE: list[tuple[str, Make, bool]] = (
    [(f"wrong-{name}", wrong_value(*case), True) for name, case in WRONG_VALUES.items()]
    + [(f"non-finite-{name}", non_finite(*case), True) for name, case in NON_FINITE.items()]
    + [(f"bad-json-{name}", bad_json(*case), True) for name, case in BAD_JSON.items()]
    + [(f"bad-id-{name}", bad_id(value), False) for name, value in BAD_IDS.items()]
    # One missing field per event type (the store-level suite has them all): the first required one.
    + [
        (f"{kind}-without-{required_fields(model)[0]}", missing(kind, required_fields(model)[0]), True)
        for kind, model in MODELS.items()
    ]
)
APP_LEVEL = [
    "wrong-machine-name-object",
    "non-finite-machine-progress-nan",
    "bad-json-html",
    "bad-json-control-char-raw-in-string",
    "bad-id-huge",
    "machine-without-id",
]
CASES = [case for case in CATALOGUE if case[0] in APP_LEVEL]
assert [case[0] for case in CASES] == APP_LEVEL, "every app-level case names one of the catalogue"


@pytest.mark.parametrize(("make", "advance"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_malformed_event_is_listed_and_the_stream_goes_on(
    hostile: Any, tmp_path: Path, make: Make, advance: bool
) -> None:
    server: HostileServer = await hostile()
    async with running_console(server, tmp_path) as pilot:
        app = pilot.app
        await until_live_at(pilot, server.seq)
        publish_timeline(server, 1)
        bad_seq = server.next_seq()
        server.publish_raw(make(server, bad_seq), advance=advance)
        publish_timeline(server, 2, start=1)
        await until(pilot, lambda: status(app).malformed_total >= 1, "the bad event to be counted")
        await until_live_at(pilot, server.seq)  # the valid events after it were applied: the stream went on
        assert status(app).malformed_total == 1, [r.reason for r in status(app).malformed]
        assert app.store.machines["M-101"].name != "never applied"
        record = status(app).malformed[-1]
        assert record.seq == (bad_seq if advance else None)
        await switch_to(pilot, "6", "diagnostics")  # the key press: Diagnostics opens and lists it
        assert_running(app)
        svg, shown = screen_text(app)
        assert "Malformed events: 1 refused" in shown
        assert clean(record.reason, 200)[:12] in shown, f"reason {record.reason!r} not listed"
        assert "\x1b" not in shown and "href=" not in svg
        assert "live" in header_line(app)
