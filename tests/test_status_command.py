"""``factory-console status``: the pure summary on hand-built snapshots, and the command against the real simulator over
loopback (JSON, text, exit codes 0/2/3, profiles and tokens, hostile server text), and the real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import Alert, Cluster, Job, Machine, Node, Quality, Snapshot
from console.status_command import status_main
from console.status_render import render_json, render_text
from console.status_report import (
    EXIT_CRITICAL,
    EXIT_OK,
    EXIT_UNREACHABLE,
    FORMAT,
    build_report,
    clean,
)
from tests.faults.hostile_strategies import hostile_text, snapshots
from tests.faults.terminal_bytes import foreign_sequences
from widgets.safe_text import clean as widget_clean

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE = "\x1b[2J\x1b[H[bold]boom[/bold]\x9b31m\u202e"
REPO = Path(__file__).resolve().parent.parent


# --- hand-built snapshots ---------------------------------------------------------------------------------------------


def _node(node_id: str, state: str, name: str | None = None) -> Node:
    return Node(
        id=node_id, name=name or node_id, city="Leeds", lat=53.8, lon=-1.5, state=state, last_seen=NOW, machine_count=1
    )


def _machine(machine_id: str, state: str) -> Machine:
    return Machine(
        id=machine_id,
        node_id="N-1",
        name=machine_id,
        kind="fdm_printer",
        model="MK4",
        state=state,
        state_since=NOW,
        envelope_mm=(250, 210, 220),
        last_seen=NOW,
    )


def _job(job_id: str, status: str, due_in_h: float, eta_in_h: float | None) -> Job:
    return Job.model_validate(
        {
            "id": job_id,
            "order_id": "O-1",
            "part": "bracket",
            "design": {"file": "b.3mf", "sha256": "0" * 64},
            "process": "fdm",
            "material": "PLA",
            "size_mm": (10, 10, 10),
            "quantity": 1,
            "done_qty": 0,
            "scrap_qty": 0,
            "priority": 3,
            "due_at": NOW + timedelta(hours=due_in_h),
            "status": status,
            "progress": 0.5,
            "eta": None if eta_in_h is None else NOW + timedelta(hours=eta_in_h),
            "created_at": NOW - timedelta(hours=10),
            "customer_region": "UK",
        }
    )


def _alert(alert_id: str, priority: str, state: str, message: str = "x", minutes_ago: int = 5) -> Alert:
    at = NOW - timedelta(minutes=minutes_ago)
    return Alert(
        id=alert_id,
        priority=priority,
        state=state,
        source={"kind": "machine", "id": "M-1"},  # type: ignore[arg-type]
        code="thermal_runaway",
        message=message,
        raised_at=at,
        updated_at=at,
    )


def _quality(scope: str, object_id: str, oee: float) -> Quality:
    return Quality(
        scope=scope,
        id=object_id,
        window_h=8,
        oee=oee,
        availability=0.9,
        performance=0.95,
        quality_rate=0.98,
        first_pass_yield=0.97,
        scrap_rate=0.02,
        good_count=980,
        scrap_count=20,
    )


def hand_built(alerts: list[Alert] | None = None, *, node_name: str | None = None) -> Snapshot:
    return Snapshot(
        seq=41,
        cluster=Cluster(id="C-1", name="North", region="UK", server_time=NOW, seq=41, instance_id="i-1"),
        nodes=[_node("N-1", "online", node_name), _node("N-2", "online"), _node("N-3", "degraded"), _node("N-4", "x?")],
        machines=[_machine("M-1", "running"), _machine("M-2", "running"), _machine("M-3", "fault")],
        jobs=[
            _job("J-late", "running", due_in_h=-1, eta_in_h=1),  # overdue (not at risk: it is past due)
            _job("J-risk", "queued", due_in_h=2, eta_in_h=3),  # at risk: ETA after due
            _job("J-fine", "assigned", due_in_h=5, eta_in_h=1),
            _job("J-done", "completed", due_in_h=-5, eta_in_h=None),  # finished: neither
        ],
        alerts=alerts if alerts is not None else [],
        quality=[_quality("node", "C-1", 0.1), _quality("cluster", "other", 0.2), _quality("cluster", "C-1", 0.81)],
    )


EVERY_STATE = [
    _alert("A-1", "critical", "active_unacked", minutes_ago=30),
    _alert("A-2", "critical", "cleared_unacked", minutes_ago=1),
    _alert("A-3", "critical", "active_acked", minutes_ago=2),
    _alert("A-4", "critical", "shelved"),  # shelved: not active, not critical
    _alert("A-5", "critical", "resolved"),  # resolved: not counted at all
    _alert("A-6", "critical", "escalated"),  # a state this console does not know: "other", not critical
    _alert("A-7", "high", "active_unacked"),
    _alert("A-8", "low", "active_acked"),
    _alert("A-9", "urgent", "active_unacked"),  # a priority this console does not know: counted by its name
]


def test_the_summary_of_a_hand_built_snapshot() -> None:
    report = build_report(hand_built(EVERY_STATE))
    assert report.cluster.server_time == "2026-11-25T12:00:00Z" and report.cluster.seq == 41
    assert report.nodes.total == 4
    assert dict(report.nodes.by_state) == {"online": 2, "degraded": 1, "offline": 0, "paused": 0, "x?": 1}
    assert report.machines.total == 3
    assert report.machines.by_state["running"] == 2 and report.machines.by_state["fault"] == 1
    assert report.machines.by_state["idle"] == 0
    assert report.jobs.total == 4 and report.jobs.open == 3
    assert report.jobs.overdue == 1 and report.jobs.at_risk == 1
    assert report.alerts.active == 6
    assert dict(report.alerts.by_priority) == {"critical": 3, "high": 1, "medium": 0, "low": 1, "urgent": 1}
    assert report.alerts.shelved == 1 and report.alerts.other == 1
    # Critical: unacknowledged first (active before cleared), then acknowledged, as the Alerts screen sorts them.
    assert [a.id for a in report.alerts.critical] == ["A-1", "A-2", "A-3"]
    assert report.oee is not None and report.oee.oee == 0.81 and report.oee.id == "C-1"  # the cluster's own record
    assert report.exit_code == EXIT_CRITICAL and report.status == "critical"


@pytest.mark.parametrize("state", ["shelved", "resolved", "escalated"])
def test_a_critical_alert_that_is_not_active_does_not_make_it_critical(state: str) -> None:
    report = build_report(hand_built([_alert("A-1", "critical", state), _alert("A-2", "high", "active_unacked")]))
    assert report.exit_code == EXIT_OK and not report.alerts.critical


@pytest.mark.parametrize("state", ["active_unacked", "active_acked", "cleared_unacked"])
def test_each_active_state_of_a_critical_alert_makes_it_critical(state: str) -> None:
    assert build_report(hand_built([_alert("A-1", "critical", state)])).exit_code == EXIT_CRITICAL


def test_no_cluster_quality_and_nothing_else() -> None:
    empty = Snapshot(
        seq=0, cluster=Cluster(id="C", name="C", region="R", server_time=NOW, seq=0, instance_id="i"), quality=[]
    )
    report = build_report(empty)
    assert report.oee is None and report.exit_code == EXIT_OK
    document = render_json(report)
    assert document["oee"] is None and document["alerts"]["critical"] == []
    assert "no cluster-scope quality" in render_text(report)


def test_the_json_keys_are_stable() -> None:
    document = render_json(build_report(hand_built(EVERY_STATE)), "http://x")
    assert list(document) == ["format", "status", "exit_code", "source", "cluster", "nodes", "machines", "alerts",
                              "jobs", "oee"]  # fmt: skip
    assert document["format"] == FORMAT and document["exit_code"] == 2 and document["source"] == "http://x"
    assert list(document["cluster"]) == ["id", "name", "region", "server_time", "seq", "instance_id"]
    assert list(document["nodes"]["by_state"])[:4] == ["online", "degraded", "offline", "paused"]
    assert list(document["machines"]["by_state"])[:7] == [
        "idle", "running", "paused", "blocked", "fault", "maintenance", "offline"
    ]  # fmt: skip
    assert list(document["alerts"]) == ["active", "by_priority", "shelved", "other", "critical"]
    assert list(document["alerts"]["critical"][0]) == [
        "id", "priority", "state", "source", "code", "message", "raised_at", "count"
    ]  # fmt: skip
    assert list(document["jobs"]) == ["total", "open", "overdue", "at_risk"]
    assert document["oee"]["scope"] == "cluster" and document["oee"]["oee"] == 0.81
    json.dumps(document)  # plain JSON types only


def test_the_text_output() -> None:
    text = render_text(build_report(hand_built(EVERY_STATE)), "http://127.0.0.1:8700")
    lines = text.splitlines()
    assert lines[0] == "factory-console status: CRITICAL: 3 critical alerts active"
    assert "nodes         4  degraded 1  online 2  x? 1" in lines
    assert "machines      3  fault 1  running 2" in lines
    assert "alerts        6  active:  critical 3  high 1  medium 0  low 1  urgent 1  shelved 1  other states 1" in lines
    assert "jobs          4  open 3  overdue 1  at risk 1" in lines
    assert any(line.startswith("OEE       81.0%  availability 90.0%") for line in lines)
    assert lines[-4] == "critical alerts:" and lines[-3].startswith("  A-1  active_unacked  machine M-1")
    ok = render_text(build_report(hand_built([])))
    assert ok.startswith("factory-console status: OK: no critical alert active\n") and "critical alerts:" not in ok


def test_hostile_server_text_is_inert_in_both_outputs() -> None:
    snapshot = hand_built([_alert("A-1", "critical", "active_unacked", message=HOSTILE)], node_name=HOSTILE)
    snapshot = snapshot.model_copy(update={"nodes": [*snapshot.nodes, _node("N-9", HOSTILE)]})
    report = build_report(snapshot)
    text = render_text(report)
    document = json.dumps(render_json(report), ensure_ascii=False)
    for output in (text, document):
        assert not foreign_sequences(output), output
        assert "\x1b" not in output and "\x9b" not in output and "\u202e" not in output
    assert "\u241b[2J\u241b[H[bold]boom[/bold]" in text  # shown, inert: ESC as its picture, markup as plain text
    assert report.alerts.critical[0].message == widget_clean(HOSTILE)


# --- properties ---------------------------------------------------------------------------------------------------

BUDGET = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@BUDGET
@given(text=hostile_text, max_len=st.none() | st.integers(min_value=0, max_value=50))
def test_clean_is_the_widgets_clean(text: str, max_len: int | None) -> None:
    """``console.status_report.clean`` and ``widgets.safe_text.clean`` apply the one rule (``widgets.text_clean``): they
    agree on any text (the widgets one cuts with ``...`` in ASCII mode only)."""
    assert clean(text, max_len) == widget_clean(text, max_len)


@BUDGET
@given(snapshot=snapshots(size=3))
def test_any_snapshot_the_models_accept_is_summarised_and_rendered_inert(snapshot: Snapshot) -> None:
    report = build_report(snapshot)
    assert report.exit_code in (EXIT_OK, EXIT_CRITICAL)
    assert report.machines.total == len(snapshot.machines) and report.nodes.total == len(snapshot.nodes)
    text = render_text(report, "http://x")
    document = render_json(report, "http://x")
    assert document["exit_code"] == report.exit_code
    dumped = json.dumps(document, ensure_ascii=False)
    assert json.loads(dumped)["format"] == FORMAT
    for output in (text, dumped):
        assert not foreign_sequences(output)


# --- against the simulator over loopback ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(tmp_path / "no-config.toml"))


@pytest.fixture
def demo(live_server: Any) -> Any:
    return live_server(warmup_s=1800)  # long enough for alerts, late jobs and quality


def run_status(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = status_main(list(argv), environ=environ or {}, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_json_against_the_simulator_matches_its_snapshot(demo: Any) -> None:
    code, out, err = run_status("--api", demo.url, "--json")
    raw = httpx.get(f"{demo.url}/v1/snapshot", timeout=10).json()  # the stepped clock stands still meanwhile
    document = json.loads(out)
    assert (code, err) == (EXIT_OK, "")
    assert document["status"] == "ok" and document["exit_code"] == 0 and document["source"] == demo.url
    assert document["cluster"]["seq"] == raw["seq"] and document["cluster"]["id"] == raw["cluster"]["id"]
    assert document["machines"]["total"] == len(raw["machines"])
    for state in {m["state"] for m in raw["machines"]}:
        assert document["machines"]["by_state"][state] == sum(1 for m in raw["machines"] if m["state"] == state)
    assert document["nodes"]["by_state"]["online"] == sum(1 for n in raw["nodes"] if n["state"] == "online")
    active = [a for a in raw["alerts"] if a["state"] in ("active_unacked", "active_acked", "cleared_unacked")]
    assert document["alerts"]["active"] == len(active)
    assert document["jobs"]["total"] == len(raw["jobs"])
    cluster_quality = next(q for q in raw["quality"] if q["scope"] == "cluster")
    assert document["oee"]["oee"] == cluster_quality["oee"]


def test_text_against_the_simulator(demo: Any) -> None:
    code, out, err = run_status("--api", demo.url)
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[0] == "factory-console status: OK: no critical alert active"
    assert [line.split()[0] for line in lines[1:]] == ["cluster", "read", "nodes", "machines", "alerts", "jobs", "OEE"]
    assert f"from {demo.url}" in lines[2]


def raise_alert(demo: Any, priority: str, message: str) -> str:
    """The simulation raises an alert (its own alert path: folded into the snapshot, sent on the stream)."""
    machine_id = httpx.get(f"{demo.url}/v1/machines", timeout=10).json()["items"][0]["id"]
    state = demo.sim._s  # the simulation's state: its alert table raises like a fault does

    def raise_() -> str:
        alert_id: str = state.alerts.raise_(demo.sim.now(), "machine", machine_id, "thermal_runaway", priority, message)
        return alert_id

    return str(demo.call(raise_))


def test_a_critical_alert_exits_2_and_hostile_text_stays_inert(demo: Any) -> None:
    alert_id = raise_alert(demo, "critical", HOSTILE)
    node = httpx.get(f"{demo.url}/v1/nodes", timeout=10).json()["items"][0]
    demo.call(
        lambda: demo.feed.publish("node.updated", Node.model_validate({**node, "name": HOSTILE, "state": HOSTILE}))
    )

    code, out, err = run_status("--api", demo.url)
    assert code == EXIT_CRITICAL and err == ""
    assert out.startswith("factory-console status: CRITICAL: 1 critical alert active\n")
    assert alert_id in out and "\u241b[2J\u241b[H[bold]boom[/bold]" in out
    assert not foreign_sequences(out) and "\x1b" not in out

    code, out, _ = run_status("--api", demo.url, "--json")
    document = json.loads(out)
    assert code == EXIT_CRITICAL and document["status"] == "critical"
    (critical,) = document["alerts"]["critical"]
    assert critical["id"] == alert_id and critical["message"] == widget_clean(HOSTILE)
    assert document["nodes"]["by_state"][widget_clean(HOSTILE)] == 1  # the hostile state, cleaned, as a key
    assert "\x1b" not in json.dumps(document, ensure_ascii=False)  # even after jq -r decodes the \u escapes


def test_a_high_alert_is_not_critical(demo: Any) -> None:
    raise_alert(demo, "high", "spindle overload")
    assert run_status("--api", demo.url)[0] == EXIT_OK


def test_an_unreachable_port_exits_3_with_one_line(demo: Any) -> None:
    demo.set_cluster_down(True)  # its port now refuses connections
    code, out, err = run_status("--api", demo.url, "--timeout", "2")
    assert (code, out) == (EXIT_UNREACHABLE, "")
    assert err.count("\n") == 1 and err.startswith("factory-console status: cannot connect to ")
    code, out, err = run_status("--api", demo.url, "--json", "--timeout", "2")
    document = json.loads(out)
    assert code == EXIT_UNREACHABLE and document["status"] == "unknown" and document["exit_code"] == 3
    assert document["error"] in err and document["source"] == demo.url


def test_a_problem_answer_exits_3_and_the_token_resolves_as_the_console_does(
    live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = live_server(tokens=["alice:viewer:s3cret-token"])
    code, _, err = run_status("--api", demo.url)
    assert code == EXIT_UNREACHABLE and "answered 401" in err and err.count("\n") == 1
    code, out, err = run_status("--api", demo.url, "--token-env", "FC_TOKEN", environ={"FC_TOKEN": "s3cret-token"})
    assert code == EXIT_OK and "s3cret" not in out + err
    # The same through a profile of the config file (the console's own resolution: build_settings).
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.sim]\napi = "{demo.url}"\ntoken_env = "SIM_TOKEN"\n', encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(config))
    assert run_status("--profile", "sim", "--json", environ={"SIM_TOKEN": "s3cret-token"})[0] == EXIT_OK
    code, _, err = run_status("--profile", "sim")
    assert code == EXIT_UNREACHABLE and "SIM_TOKEN" in err  # the variable the profile names is not set
    code, _, err = run_status("--profile", "nope")
    assert code == EXIT_UNREACHABLE and "nope" in err


def test_usage_errors_exit_3_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        status_main(["--bogus"])
    assert stopped.value.code == EXIT_UNREACHABLE
    with pytest.raises(SystemExit) as stopped:
        status_main(["--timeout", "0"])
    assert stopped.value.code == EXIT_UNREACHABLE
    assert run_status()[0] == EXIT_UNREACHABLE  # nothing to connect to
    assert "nothing to connect to" in run_status()[2]


PROBE = """
import json, sys
from console.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"textual", "fastapi", "uvicorn", "starlette"})
TEXT_RULE = ("widgets.text_clean", "widgets.mark_ranges")
loaded += sorted(m for m in sys.modules if m.startswith("widgets.") and m not in TEXT_RULE)
demo = sorted(m for m in sys.modules if m.startswith("console.demo"))
print(json.dumps({"code": code, "loaded": loaded, "demo": demo}), file=sys.stderr)
"""


def test_the_real_process_imports_no_textual_nor_the_simulator(demo: Any, tmp_path: Path) -> None:
    env = {**os.environ, "FACTORY_CONSOLE_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run(
        [sys.executable, "-m", "console", "status", "--api", demo.url, "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["format"] == FORMAT
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, "status", "--api", demo.url],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    facts = json.loads(probe.stderr.strip().splitlines()[-1])
    assert facts == {"code": EXIT_OK, "loaded": [], "demo": []}
