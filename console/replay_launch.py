"""``factory-console replay FILE`` / ``replay --last HOURS``: the console over a recording, read-only.

Everything that can be wrong (no such file, not a recording, a damaged one, an empty ring) is found here, before the
terminal is taken over, and reported as one line. The console then runs as it always does, with one source: the
recording (``console.sources.replay``), under the recorded source ids.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from console.launch import LaunchError, _ascii_wanted, _shown
from console.settings import Settings, SourceSpec
from console.theme_names import THEME_NAMES, describe_themes

__all__ = ["build_replay_parser", "replay_main", "replay_settings"]


def build_replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory-console replay",
        description="Replay a recording: the console as it was then, read-only. Keys: p play/pause, + - speed, "
        "[ ] 10 s back/on, S seek, n next alert or state change.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="a recording (made with --record FILE, or the ring's)")
    parser.add_argument(
        "--last",
        metavar="HOURS",
        type=float,
        help="start HOURS before the end; without FILE, of the ring's newest recording",
    )
    parser.add_argument("--theme", help="factory-dark, factory-light, isa101 or mono")
    parser.add_argument("--ascii", action=argparse.BooleanOptionalAction, default=None, help="ASCII only")
    return parser


def replay_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """The settings of a replay; raises ``LaunchError`` (one line) when it cannot start."""
    from console.config import ConfigError, load_config
    from console.recording.format import RecordingError
    from console.recording.reader import RecordingReader
    from console.recording.ring import newest_ring_file, ring_dir

    environ = dict(os.environ if environ is None else environ)
    if args.last is not None and not args.last > 0:
        raise LaunchError("--last takes a number of hours above 0")
    if args.file is None and args.last is None:
        raise LaunchError("replay what? name a recording (replay FILE) or open the ring (replay --last HOURS)")
    if args.theme is not None and args.theme not in THEME_NAMES:
        raise LaunchError(f"--theme {_shown(args.theme)}: no such theme ({describe_themes()})")
    try:
        config = load_config()
        if config.keys:
            from console.keymap_check import check_config_keys

            check_config_keys(config)
    except ConfigError as error:
        raise LaunchError(str(error)) from None
    if args.file is not None:
        path = Path(args.file).expanduser()
    else:
        folder = ring_dir(environ)
        newest = newest_ring_file(folder)
        if newest is None:
            raise LaunchError(f"no recording in {folder} (record_retention_h = 0 turns the ring off); name a FILE")
        path = newest
    try:
        RecordingReader(path).close()
    except RecordingError as error:
        raise LaunchError(f"replay: {error}") from None
    no_color = "NO_COLOR" in environ
    return Settings(
        sources=[SourceSpec("replay", "replay", str(path), name=path.name)],
        read_only=True,
        theme=args.theme or ("mono" if no_color else config.theme),
        keymap=dict(config.keys),
        refresh_ms=config.refresh_ms,
        stale_after_s=float(config.stale_after_s),
        no_color=no_color,
        ascii=_ascii_wanted(args.ascii, config.ascii, environ),
        replay_last_h=args.last,
    )


def replay_main(argv: Sequence[str]) -> int:
    """Run the replay until the operator quits; the process exit code."""
    args = build_replay_parser().parse_args(argv)
    from console.terminal_guard import TerminalGuard

    try:
        settings = replay_settings(args)
    except LaunchError as error:
        print(f"factory-console: {error}", file=sys.stderr)
        return 2
    guard = TerminalGuard()
    guard.install_signal_handlers()
    guard.watch_terminal()
    try:
        from console.app import FactoryConsoleApp
        from themes import fit_colours

        app = FactoryConsoleApp(settings)
        fit_colours(app)  # 16 or 256 colours: chosen for legibility (themes.ansi16, themes.ansi256)
        guard.attach(app)
        app.run()
        return app.return_code or 0
    finally:
        guard.finish()
