"""Benchmark: ``factory-console status --json``, process start to exit, against a demo-server.

Each run spawns ``python -m console status --json --api URL`` (the real process: interpreter start, imports, the
config file, one ``GET /v1/snapshot``, the summary, JSON on stdout) and times from just before ``Popen`` to its exit;
a run counts only if it exits 0 or 2 with a JSON document of the expected ``format``. ``FACTORY_CONSOLE_CONFIG``
points at a file that does not exist, so an operator's own configuration (a ``[keys]`` table makes the settings
check import Textual) cannot change the figure. Scenarios:

* the default 120-machine demo-server (the target: at most 1 s wall);
* ``status --help`` (no network: interpreter start and the command's imports, which come before the parser);
* in a full run, a 20,000-machine demo-server (200 nodes x 100, telemetry 0.25 Hz), for information: a 37 MB
  snapshot to download, validate and summarise.

Also recorded: which of ``textual``, ``fastapi``, ``uvicorn``, ``starlette`` and the simulator the process loaded
(there must be none).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Target, method_of, print_table, print_targets, write_result
from benchmarks.servers import DemoServerProcess, console_argv

NAME = "status"
FORMAT = "factory-console.status/1"

IMPORT_PROBE = r"""
import json, sys
from console.cli import main
code = main(sys.argv[1:])
heavy = {"textual", "fastapi", "uvicorn", "starlette"}
loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
loaded += sorted(m for m in sys.modules if m == "console.demo" or m.startswith("console.demo."))
print(json.dumps({"code": code, "loaded": loaded, "module_count": len(sys.modules)}), file=sys.stderr)
"""


def _env(config_dir: str) -> dict[str, str]:
    return {**os.environ, "FACTORY_CONSOLE_CONFIG": str(Path(config_dir) / "absent.toml")}


def time_status(args: list[str], env: dict[str, str], *, expect_json: bool = True) -> float | None:
    """Seconds from ``Popen`` to the exit of ``python -m console status ARGS``; ``None`` if the run failed."""
    started = time.perf_counter()
    done = subprocess.run(console_argv("status", *args), cwd=REPO, env=env, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - started
    if not expect_json:
        return elapsed if done.returncode == 0 else None
    if done.returncode not in (0, 2):
        return None
    try:
        document = json.loads(done.stdout)
    except ValueError:
        return None
    return elapsed if document.get("format") == FORMAT else None


def _runs(args: list[str], env: dict[str, str], repeats: int, *, expect_json: bool = True) -> dict[str, Any]:
    times = [time_status(args, env, expect_json=expect_json) for _ in range(repeats)]
    ok = [t for t in times if t is not None]
    return {
        "runs_s": [None if t is None else round(t, 3) for t in times],
        "median_s": statistics.median(ok) if ok else None,
        "max_s": max(ok) if ok else None,
        "failed_runs": len(times) - len(ok),
    }


def loaded_modules(url: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, "status", "--json", "--api", url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        facts: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"code": None, "loaded": None, "module_count": None}
    return facts


def measure(repeats: int, big_cluster: tuple[int, int] | None = (200, 100)) -> dict[str, Any]:
    scenarios: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as config_dir:
        env = _env(config_dir)
        scenarios["help"] = {"machines": 0, **_runs(["--help"], env, repeats, expect_json=False)}
        with DemoServerProcess() as small:
            machines = len(small.get("/v1/snapshot")["machines"])
            time_status(["--json", "--api", small.url], env)  # one warm-up run: the OS's file cache, not measured
            scenarios["api_120"] = {"machines": machines, **_runs(["--json", "--api", small.url], env, repeats)}
            imports = loaded_modules(small.url, env)
        if big_cluster is not None:
            nodes, per_node = big_cluster
            options = ["--nodes", str(nodes), "--machines-per-node", str(per_node), "--telemetry-hz", "0.25"]
            with DemoServerProcess(options) as big:
                scenarios["api_big"] = {
                    "machines": nodes * per_node,
                    **_runs(["--json", "--api", big.url, "--timeout", "30"], env, repeats),
                }
    targets = [
        Target("status --json, 120-machine demo-server: process wall", 1.0, scenarios["api_120"]["median_s"], "s"),
        Target(
            "textual, server stack or simulator loaded by status",
            0,
            None if imports["loaded"] is None else len(imports["loaded"]),
            "modules",
        ),
    ]
    return {
        "method": method_of(__doc__),
        "command": "python -m benchmarks.bench_status",  # not yet in benchmarks.run's list
        "repeats": repeats,
        "scenarios": scenarios,
        "imports": imports,
        "targets": targets,
    }


def report(result: dict[str, Any]) -> None:
    rows = [
        [name, s["machines"], s["median_s"], s["max_s"], " ".join(str(t) for t in s["runs_s"])]
        for name, s in result["scenarios"].items()
    ]
    print_table(
        "status: python -m console status, Popen to exit",
        ["scenario", "machines", "median s", "max s", "runs s"],
        rows,
    )
    imports = result["imports"]
    print(f"  loaded by status: {', '.join(imports['loaded'] or []) or 'none'} ({imports['module_count']} modules)")
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(repeats=3 if quick else 10, big_cluster=None if quick else (200, 100))
    report(result)
    write_result(NAME, result, quick=quick)
    return result


if __name__ == "__main__":
    run()
