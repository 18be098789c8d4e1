"""Setting a Sparkplug source up: the flags, a profile's ``sparkplug`` table, credentials from the environment, the
registry building the adapter, and the session asking it per target what it offers (no kind is named outside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.command_service import Command
from console.launch import LaunchError, build_settings
from console.session import Session
from console.sources.sparkplug import SparkplugSource
from console.sources.sparkplug import payload as spb
from console.store import SourceState
from tests.sparkplug.edge import device_metrics

MID = "G1/edge-1/mill-1"
MID2 = "G1/edge-1/mill-2"


def settings_for(argv: list[str], tmp_path: Path, monkeypatch, environ=None, config: str | None = None):
    path = tmp_path / "config.toml"
    if config is not None:
        path.write_text(config, encoding="utf-8")
        path.chmod(0o600)
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(path))
    return build_settings(build_run_parser().parse_args(argv), environ or {})


def test_flags_make_a_sparkplug_source_with_credentials_from_the_environment(tmp_path, monkeypatch):
    argv = [
        "--sparkplug", "mqtts://broker.plant:8883",
        "--sparkplug-group", "G1", "--sparkplug-group", "G2",
        "--sparkplug-host-id", "control-room",
        "--sparkplug-user-env", "SPB_USER", "--sparkplug-password-env", "SPB_PASS",
    ]  # fmt: skip
    settings = settings_for(argv, tmp_path, monkeypatch, {"SPB_USER": "alice", "SPB_PASS": "s3cret"})
    (spec,) = settings.sources
    assert (spec.source_id, spec.kind, spec.url, spec.token) == (
        "sparkplug",
        "sparkplug",
        "mqtts://broker.plant:8883",
        "s3cret",
    )
    assert spec.options["groups"] == ["G1", "G2"]
    assert spec.options["host_id"] == "control-room"
    assert spec.options["username"] == "alice"
    assert "s3cret" not in repr(spec)


@pytest.mark.parametrize(
    ("argv", "environ", "says"),
    [
        (["--sparkplug", "mqtt://alice:pw@broker:1883"], {}, "no credentials in the URL"),
        (["--sparkplug", "http://broker:1883"], {}, "mqtt://HOST:PORT"),
        (["--sparkplug", "mqtt://broker:1883", "--sparkplug-password-env", "P"], {}, "P (holding"),
        (["--sparkplug", "mqtt://broker:1883", "--sparkplug-password-env", "P"], {"P": "x"}, "needs a user name"),
        (["--sparkplug", "mqtt://broker:1883", "--sparkplug-user-env", "U"], {"U": ""}, "is empty"),
        (["--sparkplug-group", "G1", "--api", "http://x"], {}, "need a broker"),
        (["--sparkplug", "mqtt://broker:1883", "--sparkplug-host-id", "a/b"], {}, "host id"),
        (["--sparkplug", "mqtt://broker:1883", "--sparkplug-group", "#"], {}, "group id"),
    ],
)
def test_a_bad_setup_is_one_line_before_the_terminal_is_taken(tmp_path, monkeypatch, argv, environ, says):
    with pytest.raises(LaunchError) as caught:
        settings_for(argv, tmp_path, monkeypatch, environ)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "pw" not in str(caught.value).replace("password", "")


CONFIG = """
[profiles.plant.sparkplug]
url = "mqtt://127.0.0.1:1883"
groups = ["G1"]
host_id = "console-a"
rebirth_interval_s = 2.0

[profiles.plant.sparkplug.mapping]
state = "Status"
progress_scale = 1.0
state_values = { "3" = "running", "4" = "paused" }
telemetry = { "Temperature" = "chamber_c" }

[profiles.plant.sparkplug.mapping.commands]
pause = "Cmd/Hold"
"""


def test_a_profile_names_the_broker_and_the_mapping(tmp_path, monkeypatch):
    settings = settings_for(["--profile", "plant"], tmp_path, monkeypatch, config=CONFIG)
    (spec,) = settings.sources
    assert spec.kind == "sparkplug" and spec.url == "mqtt://127.0.0.1:1883"
    session = Session(settings, audit_log=_audit(tmp_path))
    (source,) = session.build_sources()
    assert isinstance(source, SparkplugSource)
    assert source.host_id == "console-a" and source.groups == ("G1",)
    mapping = source.host.mapping
    assert (mapping.state, mapping.progress_scale, mapping.telemetry) == ("Status", 1.0, {"Temperature": "chamber_c"})
    assert mapping.state_values == {"3": "running", "4": "paused"}
    assert mapping.commands == {"pause": "Cmd/Hold", "resume": "Command/Resume", "cancel": "Command/Cancel"}
    assert source.host.rebirth_interval == 2.0
    # The flags win over the profile, key by key.
    settings = settings_for(
        ["--profile", "plant", "--sparkplug-host-id", "console-b"], tmp_path, monkeypatch, config=CONFIG
    )
    assert settings.sources[0].options["host_id"] == "console-b"
    assert settings.sources[0].options["mapping"]["state"] == "Status"  # type: ignore[index]


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('url = "mqtt://h:1"\nretain = true', "retain"),
        ('url = "mqtt://u:p@h:1"', "no credentials"),
        ('url = "mqtt://h:1"\nusername_env = "not a name"', "environment variable"),
        ('url = "mqtt://h:1"\n[profiles.p.sparkplug.mapping]\nprogress_scale = 0', "progress_scale"),
    ],
)
def test_a_bad_sparkplug_table_is_one_line(tmp_path, monkeypatch, table, says):
    with pytest.raises(LaunchError) as caught:
        settings_for(["--profile", "p"], tmp_path, monkeypatch, config=f"[profiles.p.sparkplug]\n{table}\n")
    assert says in str(caught.value)


def _audit(tmp_path: Path):
    from console.audit_log import AuditLog

    return AuditLog(tmp_path / "audit.jsonl")


def _birth(source: SparkplugSource) -> None:
    """An edge node with a device that declared pause/resume/cancel and one that declared nothing, fed straight in."""
    node = [spb.build_metric("bdSeq", 0, spb.INT64), spb.build_metric("Node Control/Rebirth", False, spb.BOOLEAN)]
    source.handle("spBv1.0/G1/NBIRTH/edge-1", spb.build_payload(node, seq=0))
    for seq, (device, commands) in enumerate((("mill-1", ("Pause", "Resume", "Cancel")), ("mill-2", ())), start=1):
        metrics = [spb.build_metric(n, v, t, properties=p) for n, t, v, p in device_metrics(commands=commands)]
        source.handle(f"spBv1.0/G1/DBIRTH/edge-1/{device}", spb.build_payload(metrics, seq=seq))
    source.flush()


def test_the_session_asks_the_source_per_target_and_routes_commands_to_it(tmp_path, monkeypatch):
    settings = settings_for(["--sparkplug", "mqtt://127.0.0.1:1", "--sparkplug-host-id", "h"], tmp_path, monkeypatch)
    session = Session(settings, audit_log=_audit(tmp_path))
    (source,) = session.build_sources()
    assert isinstance(source, SparkplugSource)
    _birth(source)
    session.store.set_source_state("sparkplug", SourceState.LIVE)
    assert set(session.store.machines) == {MID, MID2}
    job = session.store.machines[MID].job_id
    assert session.target_allows("machine.pause", "machine", MID)
    assert session.target_allows("job.cancel", "job", job)
    assert session.target_allows("job.cancel", "machine", MID)  # the dashboard's cancel on a tile: its running job
    assert not session.target_allows("machine.pause", "machine", MID2)
    assert not session.target_allows("machine.ready", "machine", MID)
    assert not session.target_allows("job.reroute", "job", job)
    routed = session.route(Command("machine.pause", MID, {"mode": "now"}))
    assert routed is not None and routed[0] == "sparkplug" and routed[1] is source.carrier
    assert session.role == "operator"
