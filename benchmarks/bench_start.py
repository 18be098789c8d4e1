"""Benchmark 5, start: process start to the first frame that shows machines; and no server stack outside demo mode.

Each run starts ``python -m console ...`` on a 160x48 pseudo-terminal (the real Textual driver) and times from just
before ``Popen`` to the arrival of the first output chunk containing a machine tile's name (``<name> #<n> ``, the
simulator's naming), i.e. the first frame that shows machines. Scenarios:

* ``--api`` against ``factory-console demo-server`` (default 120-machine scenario), started beforehand;
* ``--api`` against a 20,000-machine demo-server (200 nodes x 100, telemetry 0.25 Hz: a busy stream during start);
* ``--demo`` (the simulator embedded: its build and the loopback server's start are part of the time).

Targets (issue 15): 0.6 s with 120 machines and 1.0 s with 20,000 (issue 5's were 0.8 s and 3 s); ``--demo`` 1.2 s.
At 20,000 machines the first frame is the preview (``console.sources.cluster_preview``: the first pages of the
paged lists, marked LOADING), the snapshot following; the method is unchanged: Popen to the first tile on screen.

Bytecode first: before the runs the project's packages are compiled (``compileall``), as an installed package's are.
Without it, a module edited since its ``.pyc`` was last written is compiled from source at every start where
``PYTHONDONTWRITEBYTECODE`` is set (as in this machine's shells): 3-20 ms a module, which measured the edits of the
day, not the start (found in issue 15's profiles: ``builtins.compile`` on the start path).

Import check: the console is started through a wrapper that, a few seconds after start (machines shown), writes
which of ``fastapi``, ``uvicorn``, ``starlette`` are in ``sys.modules``. Outside demo mode there must be none; the
same check in ``--demo`` mode must find them (showing the check works).
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Target, method_of, print_table, print_targets, write_result
from benchmarks.servers import MACHINE_NAME, DemoServerProcess, console_argv
from benchmarks.terminal import PtyProcess

NAME = "start"
FIRST_FRAME = re.compile(MACHINE_NAME)
SERVER_STACK = ("fastapi", "uvicorn", "starlette")

IMPORT_PROBE = r"""
import json, sys, threading
path = sys.argv.pop(1)
delay = float(sys.argv.pop(1))
def dump():
    loaded = sorted(m for m in list(sys.modules) if m.split(".")[0] in ("fastapi", "uvicorn", "starlette"))
    with open(path, "w") as handle:
        json.dump({"server_modules": loaded, "module_count": len(sys.modules)}, handle)
timer = threading.Timer(delay, dump)
timer.daemon = True
timer.start()
from console.cli import main
sys.exit(main())
"""


def time_to_machines(args: list[str], timeout: float = 60.0) -> float | None:
    """Seconds from process start to the first output showing a machine tile; ``None`` if it never came."""
    with PtyProcess(console_argv(*args)) as console:
        found = console.wait_for(FIRST_FRAME, 0, timeout)
        return None if found is None else found[0] - console.started


def server_modules(args: list[str], delay: float = 3.0) -> dict[str, Any]:
    """Which server-stack modules the console has imported ``delay`` seconds after start."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "modules.json"
        import sys

        with PtyProcess([sys.executable, "-c", IMPORT_PROBE, str(path), str(delay), *args]) as console:
            shown = console.wait_for(FIRST_FRAME, 0, 60.0) is not None
            deadline = delay + 10.0
            import time

            start = time.perf_counter()
            while not path.exists() and time.perf_counter() - start < deadline:
                time.sleep(0.1)
        if not path.exists():
            return {"server_modules": None, "machines_shown": shown}
        return {**json.loads(path.read_text()), "machines_shown": shown}


def _runs(args: list[str], repeats: int, timeout: float = 60.0) -> dict[str, Any]:
    times = [time_to_machines(args, timeout) for _ in range(repeats)]
    ok = [t for t in times if t is not None]
    return {
        "runs_s": [None if t is None else round(t, 3) for t in times],
        "median_s": statistics.median(ok) if ok else None,
        "max_s": max(ok) if ok else None,
        "failed_runs": len(times) - len(ok),
    }


def compile_bytecode() -> int:
    """Compile the project's packages to bytecode where it is missing or stale (see the module docstring); returns
    how many modules were compiled."""
    import compileall
    import contextlib
    import io

    compiled = 0
    for package in ("console", "widgets", "themes"):
        folder = REPO / package
        before = {path: path.stat().st_mtime for path in folder.rglob("*.pyc")}
        with contextlib.redirect_stdout(io.StringIO()):
            compileall.compile_dir(folder, quiet=1, workers=1)
        compiled += sum(1 for path in folder.rglob("*.pyc") if before.get(path) != path.stat().st_mtime)
    return compiled


def measure(repeats: int, big_cluster: tuple[int, int] | None = (200, 100)) -> dict[str, Any]:
    compiled = compile_bytecode()
    scenarios: dict[str, Any] = {}
    imports: dict[str, Any] = {}
    with DemoServerProcess() as small:
        scenarios["api_120"] = {
            "machines": len(small.get("/v1/snapshot")["machines"]),
            **_runs(["--api", small.url], repeats),
        }
        imports["api"] = server_modules(["--api", small.url])
    nodes, per_node = big_cluster or (200, 100)
    if big_cluster is not None:
        options = ["--nodes", str(nodes), "--machines-per-node", str(per_node), "--telemetry-hz", "0.25"]
        with DemoServerProcess(options) as big:
            scenarios["api_big"] = {"machines": nodes * per_node, **_runs(["--api", big.url], repeats, timeout=30)}
    else:  # quick mode: the live benchmark reports the first frame at 20,000 machines
        scenarios["api_big"] = {
            "machines": nodes * per_node,
            "runs_s": [],
            "median_s": None,
            "max_s": None,
            "failed_runs": 0,
            "skipped": "quick mode; see the live benchmark's first_machines_s",
        }
    scenarios["demo"] = {"machines": 120, **_runs(["--demo"], repeats)}
    imports["demo"] = server_modules(["--demo"])
    api_clean = imports["api"]["server_modules"] == []
    targets = [
        Target("--api, 120 machines: first frame with machines", 0.6, scenarios["api_120"]["median_s"], "s"),
        Target(
            f"--api, {nodes * per_node:,} machines: first frame with machines",
            1.0,
            scenarios["api_big"]["median_s"],
            "s",
        ),
        Target("--demo: first frame with machines", 1.2, scenarios["demo"]["median_s"], "s"),
        Target(
            "server-stack modules imported with --api",
            0,
            None if imports["api"]["server_modules"] is None else len(imports["api"]["server_modules"]),
            "modules",
        ),
    ]
    return {
        "method": method_of(__doc__),
        "repeats": repeats,
        "modules_compiled_first": compiled,
        "scenarios": scenarios,
        "imports": imports,
        "no_server_stack_with_api": api_clean,
        "targets": targets,
    }


def report(result: dict[str, Any]) -> None:
    rows = [
        [name, s["machines"], s["median_s"], s["max_s"], " ".join(str(t) for t in s["runs_s"])]
        for name, s in result["scenarios"].items()
    ]
    print_table(
        "start: process start to first frame showing machines (pty 160x48)",
        ["scenario", "machines", "median s", "max s", "runs s"],
        rows,
    )
    for mode, info in result["imports"].items():
        modules = info["server_modules"]
        shown = (
            "not measured"
            if modules is None
            else (", ".join(modules[:6]) + (" ..." if len(modules) > 6 else "") or "none")
        )
        print(f"  server-stack modules loaded with --{mode}: {shown}")
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(repeats=2 if quick else 5, big_cluster=None if quick else (200, 100))
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
