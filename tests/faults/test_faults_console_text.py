"""Hostile text through the whole console: shown literally, inert, and the console still handles keys.

Drawn from the same catalogue as the store-level text suite (``test_faults_text.HOSTILE``). Each string arrives as an
event on the live stream (the incremental repaint path, not only the first paint), must be stored intact, and the
screen export must hold the cleaned text with no link and no raw escape; then a key must still be handled.

A representative subset boots the app: every field a server's text is most often shown in (machine name, state reason
and fault code on the dashboard, alert message and code on Alerts, job part on Jobs, node name and city on Nodes),
and every kind of hostile text (markup, CSI, OSC, DCS, C0, C1, line separators, bidi, zero-width, combining, wide,
and everything at once) at least once. Every string in every one of these fields is proven one level down, in the
very line each screen draws (``test_faults_text_rows``), and in the store (``test_faults_text``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.faults.console_harness import (
    assert_literal_on_screen,
    assert_responsive,
    running_console,
    settle,
    switch_to,
    until,
    until_live_at,
)
from tests.faults.hostile_server import HostileServer
from tests.faults.test_faults_text import HOSTILE

# (kind, field) -> (mode key, mode name, extra fields so the field is shown at all)
SCREENS: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
    ("machine", "name"): ("1", "dashboard", {}),
    ("alert", "message"): ("3", "alerts", {}),
    ("job", "part"): ("2", "jobs", {}),
    ("node", "name"): ("5", "nodes", {}),
    # The dashboard tile shows the reason and fault code only for a machine that needs attention.
    ("machine", "state_reason"): ("1", "dashboard", {"state": "fault"}),
    ("machine", "fault_code"): ("1", "dashboard", {"state": "fault"}),
    ("alert", "code"): ("3", "alerts", {}),
    ("node", "city"): ("5", "nodes", {}),
}

TYPES = {"machine": "machine.updated", "node": "node.updated", "alert": "alert.updated", "job": "job.updated"}
TABLES = {"machine": "machines", "node": "nodes", "alert": "alerts", "job": "jobs"}
FIRST_ID = {"machine": "M-101", "node": "N-1", "alert": "A-1", "job": "J-101"}

# (hostile string, kind, field): each kind of hostile text once, every field of SCREENS at least once.
CASES = [
    ("markup-click", "machine", "name"),
    ("rtl-override", "machine", "name"),
    ("osc8-link", "alert", "message"),
    ("line-paragraph-separators", "alert", "message"),
    ("c1-csi", "job", "part"),
    ("zwj-emoji", "job", "part"),
    ("combining-zalgo", "node", "name"),
    ("wide-cjk", "node", "name"),
    ("csi-clear-and-move", "machine", "state_reason"),
    ("dcs", "machine", "fault_code"),
    ("nul-del-backspace", "alert", "code"),
    ("everything", "node", "city"),
]
assert {(kind, field) for _, kind, field in CASES} == set(SCREENS), "every field of SCREENS has an app-level case"


@pytest.mark.parametrize(("name", "kind", "field"), CASES, ids=[f"{k}.{f}-{n}" for n, k, f in CASES])
async def test_hostile_text_reaches_the_screen_inert(
    hostile: Any, tmp_path: Path, name: str, kind: str, field: str
) -> None:
    text = HOSTILE[name]
    key, mode, extra = SCREENS[(kind, field)]
    table, oid = TABLES[kind], FIRST_ID[kind]
    server: HostileServer = await hostile()
    async with running_console(server, tmp_path) as pilot:
        app = pilot.app
        await until_live_at(pilot, server.seq)
        if mode != "dashboard":
            await switch_to(pilot, key, mode)
        else:
            await settle(pilot)
        seq = server.publish(TYPES[kind], {**server.tables[table][oid], **extra, field: text})
        await until(pilot, lambda: app.store.sources["cluster"].seq == seq, f"seq {seq} applied")
        assert getattr(getattr(app.store, table)[oid], field) == text  # stored intact
        assert app.store.sources["cluster"].malformed_total == 0
        await settle(pilot)
        assert_literal_on_screen(app, text)
        await assert_responsive(pilot)
