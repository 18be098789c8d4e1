"""Property-based: a whole hostile cluster through the whole console, and nothing reaches the terminal.

Each example is a cluster drawn by ``hostile_strategies.snapshots`` (every string hostile, every number and time from
the whole range the models accept). The console opens on it and visits every main screen, the machine detail, the
node detail, the palette (searching with a server's own name), help, a toast carrying server text and a bulk
outcome. After every step it must still run, and the frame the terminal would receive must hold no escape or
control that the console did not emit itself (``terminal_bytes``).

The budget is set for ``make test``: a handful of examples (each boots the app), derandomised so a run is repeatable;
``HYPOTHESIS_PROFILE=deep`` runs many more, random, for a hunt.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from console.api.models import Snapshot, WhoAmI
from console.app import FactoryConsoleApp
from console.audit_log import AuditLog
from console.command_service import Command, CommandOutcome
from console.server_clock import ServerClock
from console.settings import Settings
from console.store.store import Store
from tests.faults.hostile_strategies import hostile_text, snapshots
from tests.faults.terminal_bytes import assert_inert

SIZE = (120, 36)


def _store(snapshot: Snapshot) -> Store:
    store = Store()
    store.register_source("cluster", kind="cluster", url="http://127.0.0.1:1")
    store.set_source_state("cluster", "live")
    store.apply_snapshot("cluster", snapshot)
    store.set_whoami(WhoAmI(operator="op", role="supervisor"), "cluster")
    return store


async def _tour(snapshot: Snapshot, toast_text: str, tmp_path: Path) -> None:
    settings_ = Settings(sources=[], save_theme=False, refresh_ms=20, panel_interval_s=0.0)
    app = FactoryConsoleApp(
        settings_,
        store=_store(snapshot),
        audit_log=AuditLog(tmp_path / "audit.jsonl"),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def step(where: str, *keys: str) -> None:
            if keys:
                await pilot.press(*keys)
            await pilot.pause()
            assert app.is_running, f"{where}: the console stopped"
            assert_inert(app, where)

        await step("dashboard")
        await step("machine detail", "enter")
        await step("machine detail, back", "escape")
        for key, name in zip("234567", ("jobs", "alerts", "quality", "nodes", "diagnostics", "audit"), strict=True):
            await step(name, key)
        await step("quality, next characteristic", "4", "v")
        await step("node detail", "5", "enter")
        await step("node detail, back", "escape")
        await step("help", "question_mark")
        await step("help closed", "escape")
        await step("dashboard again", "1")

        machine = snapshot.machines[0]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*[c for c in machine.name[:6] if c.isprintable() and c.isascii() and c != " "] or ["M"])
        await pilot.pause(0.3)
        await step("palette searching a server's name")
        await step("palette closed", "escape")

        command = Command("machine.pause", machine.id, {"reason": toast_text})
        failed = CommandOutcome(command, "rejected", detail=toast_text, code=toast_text[:20], status=409)
        app.report_outcomes([failed], toast_text[:40])
        await step("toast of a rejected command")
        app.report_outcomes([failed, CommandOutcome(command, "applied")], "bulk")
        await step("toast of a bulk outcome")
        app.notify(toast_text, title=toast_text)
        await step("toast of raw server text")
    # The audit log (written during the tour by nothing, or by the app on exit) stays readable.
    assert app.return_code in (None, 0)


DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
"""``HYPOTHESIS_PROFILE=deep``: a hunt (many random examples, no shrinking, every distinct bug reported)."""


@pytest.mark.timeout(0 if DEEP else 240)
@settings(
    max_examples=300 if DEEP else 3,
    derandomize=not DEEP,
    deadline=None,
    database=None,
    phases=[Phase.generate] if DEEP else [Phase.explicit, Phase.generate, Phase.shrink],
    report_multiple_bugs=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(snapshot=snapshots(size=3), toast_text=hostile_text)
def test_hostile_cluster_through_every_screen(snapshot: Snapshot, toast_text: str, tmp_path_factory: Any) -> None:
    asyncio.run(_tour(snapshot, toast_text, tmp_path_factory.mktemp("tour")))


@settings(max_examples=4, derandomize=True, deadline=None, database=None)
@given(names=st.lists(st.sampled_from(["[bold red]X[/]", "[@click=app.quit]go[/]", "M17[/]", "[/]"]), min_size=1))
def test_palette_search_never_interprets_server_markup(names: list[str], tmp_path_factory: Any) -> None:
    """The machine search shows a marked-up name as its literal text and still finds the others (Textual's matcher
    would raise ``MarkupError`` on ``M17[/]`` and return nothing at all)."""
    from tests.store import factories as f

    machines = [f.machine(f"M-{i}", name=name) for i, name in enumerate(names)]
    machines.append(f.machine("M-OK", name="M17 plain"))
    snapshot = f.snapshot(1, nodes=[f.node("N-1")], machines=machines)

    async def run() -> None:
        from console.palette import EntityProvider

        settings_ = Settings(sources=[], save_theme=False, refresh_ms=20, panel_interval_s=0.0)
        app = FactoryConsoleApp(
            settings_,
            store=_store(snapshot),
            audit_log=AuditLog(tmp_path_factory.mktemp("pal") / "audit.jsonl"),
            server_clock=ServerClock(extrapolate=False),
            install_signal_handlers=False,
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            provider = EntityProvider(app.screen)
            hits = [hit async for hit in provider.search("M")]
            shown = [str(hit.match_display) for hit in hits]
            assert any("M17 plain" in text for text in shown), shown
            for name in names:
                assert any(name in text for text in shown), (name, shown)
            for hit in hits:
                spans = getattr(hit.match_display, "spans", [])
                assert all("@click" not in str(span.style) and "link" not in str(span.style) for span in spans)

    asyncio.run(run())
