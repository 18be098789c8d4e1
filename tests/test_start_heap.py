"""The collector during the start (issue 15): off while the console imports and sets up, back on (the start's
objects frozen) when the app runs, and back on whenever the launch ends early."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

import console.launch
from console.cli import main
from console.launch import LaunchError

PROBE = """
import gc, json, sys
import console.launch
seen = {}
def run(args, guard):
    seen["during_launch"] = gc.isenabled()
    console.launch.start_heap()
    seen["after_start_heap"] = gc.isenabled()
    seen["frozen"] = gc.get_freeze_count() > 0
    return 0
console.launch._run = run
from console.cli import main
code = main(sys.argv[1:])
seen["after_main"] = gc.isenabled()
print(json.dumps(seen))
"""


@pytest.mark.parametrize("argv", [["--api", "http://127.0.0.1:9"], ["--demo"]])
def test_the_collector_is_off_in_the_start_on_for_the_app(tmp_path: Path, argv: list[str]) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"during_launch": False, "after_start_heap": True, "frozen": True, "after_main": True}


def test_a_launch_that_stops_early_turns_the_collector_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def refused(args: object) -> int:
        seen.append(gc.isenabled())
        raise LaunchError("nothing to connect to")

    monkeypatch.setattr(console.launch, "launch", refused)
    assert gc.isenabled()
    assert main(["--api", "http://127.0.0.1:9"]) == 2
    assert seen == [False] and gc.isenabled()
