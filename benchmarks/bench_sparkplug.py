"""Benchmark 8, Sparkplug B: metric updates applied per second on one core, and the CPU of following a live plant.

Throughput (in this process, one core): a plant of 20 edge nodes x 50 devices is born into a real
:class:`~console.sources.sparkplug.SparkplugSource` and store (NBIRTH, DBIRTHs with aliases), then pre-encoded DDATA
payloads (5 telemetry metrics by alias each, and on every 10th message a progress change, which makes a
``machine.updated`` and a ``job.updated`` too) go through the source's own path: ``SparkplugSource.handle`` per
message (topic, protobuf decode, ``seq``, aliases, values, the translation's contract events) and ``flush`` per 512
messages (the batch of events into ``store.apply_events``), as the MQTT loop does with the messages waiting. Only the
broker is left out, so the figure is the console's own cost per update. Beside it: protobuf decoding alone, and
telemetry-only messages.

Following (two processes and a real Mosquitto on loopback): a console-side process runs the same source against the
broker (aiomqtt and paho included), and a publisher process plays the 1,000 devices at a steady rate of metric
updates (5 per DDATA, QoS 0). After the births and a settling time, the console process's CPU over a window
(``/proc/<pid>/stat``) is its share of one core at that rate. Needs ``mosquitto`` (``make sysdeps``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Target, cpu_seconds, method_of, print_table, print_targets, rss_bytes, write_result

NAME = "sparkplug"
NODES, DEVICES = 20, 50
TELEMETRY = {
    "Temperature": (40.0, "°C"),
    "Spindle/Speed": (12000.0, "rpm"),
    "Spindle/Load": (30.0, "%"),
    "Power": (2.5, "kW"),
    "Vibration": (1.0, "mm/s"),
}
THROUGHPUT_TARGET = 100_000
CPU_RATE = 5_000
CPU_TARGET = 35.0


# --- the plant -------------------------------------------------------------------------------------------------------


def device_birth_metrics() -> list[tuple[str, int, Any, dict[str, Any]]]:
    from console.sources.sparkplug import payload as spb

    metrics: list[tuple[str, int, Any, dict[str, Any]]] = [
        ("State", spb.STRING, "running", {}),
        ("Progress", spb.DOUBLE, 0.0, {}),
        ("Job/Id", spb.STRING, "J-1", {}),
        ("Kind", spb.STRING, "cnc_mill", {}),
    ]
    metrics += [(name, spb.DOUBLE, value, {"engUnit": unit}) for name, (value, unit) in TELEMETRY.items()]
    metrics += [(f"Command/{verb}", spb.BOOLEAN, False, {}) for verb in ("Pause", "Resume", "Cancel")]
    return metrics


ALIASES = {name: alias for alias, (name, *_rest) in enumerate(device_birth_metrics())}


class Plant:
    """Payloads of 20 edge nodes x 50 devices, each edge node with its own ``seq``."""

    def __init__(self, group: str = "Bench") -> None:
        self.group = group
        self.seq = dict.fromkeys(range(NODES), 0)

    def _next(self, node: int) -> int:
        seq = self.seq[node]
        self.seq[node] = (seq + 1) % 256
        return seq

    def births(self) -> list[tuple[str, bytes]]:
        from console.sources.sparkplug import payload as spb

        out = []
        for n in range(NODES):
            self.seq[n] = 0
            node = [spb.build_metric("bdSeq", 0, spb.INT64), spb.build_metric("Node Control/Rebirth", False, 11)]
            out.append((f"spBv1.0/{self.group}/NBIRTH/edge-{n:02d}", spb.build_payload(node, seq=self._next(n))))
            for d in range(DEVICES):
                metrics = [
                    spb.build_metric(name, value, datatype, alias=ALIASES[name], properties=props)
                    for name, datatype, value, props in device_birth_metrics()
                ]
                topic = f"spBv1.0/{self.group}/DBIRTH/edge-{n:02d}/dev-{d:02d}"
                out.append((topic, spb.build_payload(metrics, seq=self._next(n))))
        return out

    def data(self, index: int, *, progress_every: int = 10) -> tuple[str, bytes, int]:
        """The ``index``-th DDATA (devices in turn): its topic, payload and number of metrics."""
        from console.sources.sparkplug import payload as spb

        n, d = index % NODES, (index // NODES) % DEVICES
        metrics = [
            spb.build_metric(None, float(index % 97) + k, spb.DOUBLE, alias=ALIASES[name])
            for k, name in enumerate(TELEMETRY)
        ]
        if progress_every and index % progress_every == 0:
            metrics.append(spb.build_metric(None, float(index % 100), spb.DOUBLE, alias=ALIASES["Progress"]))
        topic = f"spBv1.0/{self.group}/DDATA/edge-{n:02d}/dev-{d:02d}"
        return topic, spb.build_payload(metrics, seq=self._next(n)), len(metrics)


# --- throughput ------------------------------------------------------------------------------------------------------


def _born_source() -> tuple[Any, Any, Plant]:
    from console.sources.sparkplug import SparkplugSource
    from console.store import Store

    store = Store()
    source = SparkplugSource("sparkplug", "mqtt://127.0.0.1:1", store, host_id="bench")
    plant = Plant()
    for topic, payload in plant.births():
        source.handle(topic, payload)
    source.flush()
    assert len(store.machines) == NODES * DEVICES
    return source, store, plant


def throughput(messages: int, repeats: int, progress_every: int) -> dict[str, Any]:
    """Metric updates applied per second through ``handle`` + ``flush`` (the best and the median of ``repeats``)."""
    from console.sources.sparkplug import payload as spb

    runs: list[float] = []
    decode_runs: list[float] = []
    updates = 0
    for _ in range(repeats):
        source, store, plant = _born_source()
        batch = [plant.data(i, progress_every=progress_every) for i in range(messages)]
        updates = sum(count for _t, _p, count in batch)
        gc.collect()
        started = time.process_time()
        handle, flush = source.handle, source.flush
        for start in range(0, messages, 512):
            for topic, payload, _count in batch[start : start + 512]:
                handle(topic, payload)
            flush()
        runs.append(updates / (time.process_time() - started))
        status = store.sources["sparkplug"]
        assert status.malformed_total == 0 and source.host.rebirths_requested == 0
        started = time.process_time()
        for _topic, payload, _count in batch:
            spb.decode(payload, 1 << 20)
        decode_runs.append(updates / (time.process_time() - started))
    runs.sort()
    decode_runs.sort()
    return {
        "messages": messages,
        "metric_updates": updates,
        "updates_per_s_best": round(runs[-1]),
        "updates_per_s_median": round(runs[len(runs) // 2]),
        "us_per_message": round(1e6 * updates / runs[len(runs) // 2] / messages, 2),
        "decode_only_updates_per_s": round(decode_runs[len(decode_runs) // 2]),
    }


# --- following a live plant ------------------------------------------------------------------------------------------


def _start_mosquitto(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    sys.path.insert(0, str(REPO))
    from tests.sparkplug.broker import start_broker

    broker = start_broker(folder, extra="max_queued_messages 0\n")
    return broker.process, broker.port


async def _follow(url: str, seconds: float) -> None:
    """The console side: a source and a store, nothing else; prints ``live``, ``born`` and, at the end, its stats."""
    from console.sources.sparkplug import SparkplugSource
    from console.store import Store

    store = Store()
    source = SparkplugSource("sparkplug", url, store, host_id="bench-console", groups=("Bench",))
    task = asyncio.ensure_future(source.run())
    while source.sessions == 0:  # noqa: ASYNC110 - a benchmark's helper polls what it reports
        await asyncio.sleep(0.01)
    print("live", flush=True)
    while len(store.machines) < NODES * DEVICES:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    print("born", flush=True)
    await asyncio.sleep(seconds)
    status = store.sources["sparkplug"]
    stats = {
        "messages": source.host.messages,
        "events": status.events_total,
        "malformed": status.malformed_total,
        "rebirths": source.host.rebirths_requested,
        "rss_mb": round(rss_bytes() / 2**20, 1),
    }
    print(json.dumps(stats), flush=True)
    source.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _publish(port: int, rate: float, seconds: float) -> None:
    """The plant's side: births, then DDATA at ``rate`` metric updates per second (paho, QoS 0)."""
    import paho.mqtt.client as mqtt

    plant = Plant()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-plant")
    client.connect("127.0.0.1", port)
    client.loop_start()
    for topic, payload in plant.births():
        client.publish(topic, payload, qos=0)
    per_message = len(TELEMETRY) + 0.1
    interval = per_message / rate
    started = time.monotonic()
    index = 0
    while time.monotonic() - started < seconds:
        topic, payload, _count = plant.data(index)
        client.publish(topic, payload, qos=0)
        index += 1
        delay = started + index * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    client.loop_stop()
    client.disconnect()


def following(rate: float, window: float, settle: float) -> dict[str, Any]:
    """The console process's CPU share while a live plant sends ``rate`` metric updates per second."""
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        broker, port = _start_mosquitto(Path(folder))
        url = f"mqtt://127.0.0.1:{port}"
        total = settle + window + 2
        console = subprocess.Popen(
            [python, "-m", "benchmarks.bench_sparkplug", "follow", url, str(total)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        publisher = None
        try:
            assert console.stdout is not None
            assert console.stdout.readline().strip() == "live"
            publisher = subprocess.Popen(
                [python, "-m", "benchmarks.bench_sparkplug", "publish", str(port), str(rate), str(total)], cwd=REPO
            )
            assert console.stdout.readline().strip() == "born"
            time.sleep(settle)
            cpu0, t0 = cpu_seconds(console.pid), time.monotonic()
            time.sleep(window)
            cpu1, t1 = cpu_seconds(console.pid), time.monotonic()
            publisher.wait(timeout=total + 30)
            out, _ = console.communicate(timeout=total + 30)
            lines = [line for line in out.splitlines() if line.startswith("{")]
            stats: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        finally:
            for process in (publisher, console, broker):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
    return {
        "rate_updates_per_s": rate,
        "window_s": round(t1 - t0, 1),
        "console_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "console": stats,
    }


# --- the run ---------------------------------------------------------------------------------------------------------


def measure(*, messages: int, repeats: int, window: float, settle: float) -> dict[str, Any]:
    result: dict[str, Any] = {"method": method_of(__doc__), "plant": {"edge_nodes": NODES, "devices": DEVICES}}
    result["throughput"] = throughput(messages, repeats, progress_every=10)
    result["throughput_telemetry_only"] = throughput(messages, repeats, progress_every=0)
    try:
        result["following"] = following(CPU_RATE, window, settle)
        cpu: float | None = result["following"]["console_cpu_pct_of_one_core"]
    except (OSError, FileNotFoundError, AssertionError) as error:
        result["following"] = {"error": f"{type(error).__name__}: {error}"}
        cpu = None
    result["targets"] = [
        Target(
            "metric updates applied per second (one core)",
            THROUGHPUT_TARGET,
            result["throughput"]["updates_per_s_median"],
            "updates/s",
            higher_is_better=True,
            note="5 telemetry metrics a DDATA, a progress change every 10th; decode, host, translation, apply_events",
        ),
        Target(
            f"console CPU following {CPU_RATE:,} updates/s over MQTT",
            CPU_TARGET,
            cpu,
            "% of a core",
            note="a separate process with aiomqtt/paho, a real Mosquitto, 1,000 devices",
        ),
    ]
    return result


def report(result: dict[str, Any]) -> None:
    rows = []
    for key, label in (("throughput", "mixed (progress every 10th)"), ("throughput_telemetry_only", "telemetry only")):
        r = result[key]
        rows.append(
            [
                label,
                r["updates_per_s_median"],
                r["updates_per_s_best"],
                r["us_per_message"],
                r["decode_only_updates_per_s"],
            ]
        )
    print_table(
        f"sparkplug ({NODES} edge nodes x {DEVICES} devices; one core)",
        ["DDATA", "updates/s (median)", "updates/s (best)", "µs/message", "decode only, updates/s"],
        rows,
    )
    following_result = result["following"]
    if "error" in following_result:
        print(f"\n  following: not measured ({following_result['error']})")
    else:
        print_table(
            "following a live plant over MQTT",
            ["measure", "value"],
            [
                ["updates/s published", following_result["rate_updates_per_s"]],
                ["window (s)", following_result["window_s"]],
                ["console CPU % of one core", following_result["console_cpu_pct_of_one_core"]],
                ["console stats", json.dumps(following_result["console"])],
            ],
        )
    print_targets(result["targets"])


def run(quick: bool = False) -> dict[str, Any]:
    result = measure(
        messages=10_000 if quick else 60_000,
        repeats=2 if quick else 5,
        window=5 if quick else 30,
        settle=1 if quick else 3,
    )
    report(result)
    write_result(NAME, result, quick=quick)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sparkplug")
    sub = parser.add_subparsers(dest="role")
    follow = sub.add_parser("follow", help="(internal) the console side of the following benchmark")
    follow.add_argument("url")
    follow.add_argument("seconds", type=float)
    publish = sub.add_parser("publish", help="(internal) the plant side of the following benchmark")
    publish.add_argument("port", type=int)
    publish.add_argument("rate", type=float)
    publish.add_argument("seconds", type=float)
    sub.add_parser("run", help="run the benchmark (as python -m benchmarks.run sparkplug does)")
    args = parser.parse_args(argv)
    if args.role == "follow":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_follow(args.url, args.seconds))
    elif args.role == "publish":
        _publish(args.port, args.rate, args.seconds)
    else:
        run()


if __name__ == "__main__":
    main()
