"""``make screenshots``: SVG pictures of the main screens against the seeded simulator, for the README.

``python -m console.screenshots DIR`` writes ``DIR/<screen>.svg`` at 160x48 (and the dashboard at 80x24 too). The
simulator runs on a stepped clock with a fixed seed, so the pictures only change when the console or the simulation
does.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

SHOTS: list[tuple[str, tuple[str, ...], tuple[int, int]]] = [
    ("dashboard", ("1",), (160, 48)),
    ("dashboard-80x24", ("1",), (80, 24)),
    ("jobs", ("2",), (160, 48)),
    ("alerts", ("3",), (160, 48)),
    ("quality", ("4",), (160, 48)),
    ("nodes", ("5",), (160, 48)),
    ("help", ("question_mark",), (160, 48)),
]


async def _shoot(url: str, keys: tuple[str, ...], size: tuple[int, int], title: str, log_dir: Path) -> str:
    from console.app import FactoryConsoleApp
    from console.audit_log import AuditLog
    from console.server_clock import ServerClock
    from console.settings import Settings, SourceSpec

    settings = Settings(sources=[SourceSpec("cluster", "cluster", url)], save_theme=False, refresh_ms=30)
    app = FactoryConsoleApp(
        settings,
        audit_log=AuditLog(log_dir / "audit.jsonl"),
        server_clock=ServerClock(extrapolate=False),
        install_signal_handlers=False,
    )
    async with app.run_test(size=size) as pilot:
        for _ in range(300):
            status = app.store.sources.get("cluster")
            if status and status.state == "live" and app.store.machines:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        app.flush_changes()
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
            app.flush_changes()
        await pilot.pause(0.2)
        return app.export_screenshot(title=title)


def main(argv: list[str]) -> int:
    from console.demo.embedded import start_demo
    from console.demo.sim import SimConfig
    from console.demo.sim.clock import DEFAULT_START, SteppedClock

    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as log_dir:
        for name, keys, size in SHOTS:
            # A stepped clock, half an hour in: every run draws the same screens.
            server = start_demo(SimConfig(seed=7), clock=SteppedClock(DEFAULT_START))
            server.advance(1800)
            try:
                svg = asyncio.run(_shoot(server.url, keys, size, f"factory-console: {name}", Path(log_dir)))
                (out / f"{name}.svg").write_text(svg, encoding="utf-8")
            finally:
                server.stop()
            print(f"wrote {out / (name + '.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
