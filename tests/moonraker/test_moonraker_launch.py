"""Configuring Moonraker printers: the flag, the profile key, the API key from the environment, the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.audit_log import AuditLog
from console.cli import build_run_parser
from console.launch import LaunchError, build_settings
from console.session import Session
from console.settings import Settings, SourceSpec
from console.sources.adapter import SourceAdapter
from console.sources.moonraker import SUPPORTED_ACTIONS, MoonrakerSource, resolve_api_key
from console.sources.registry import default_registry


def settings_for(argv: list[str], config: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(config))
    return build_settings(build_run_parser().parse_args(argv), environ)


def test_the_flag_makes_one_source_per_printer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"MOONRAKER_API_KEY": "farm-key", "MOONRAKER_API_KEY_VORON_2": "voron-key"}
    argv = ["--moonraker", "k1=http://10.0.4.30:7125/", "--moonraker", "voron-2=https://farm.example/voron"]
    settings = settings_for(argv, tmp_path / "missing.toml", environ, monkeypatch)
    k1, voron = settings.sources
    assert (k1.source_id, k1.kind, k1.url, k1.name, k1.token) == (
        "moonraker:k1",
        "moonraker",
        "http://10.0.4.30:7125",
        "k1",
        "farm-key",
    )
    assert (voron.source_id, voron.token) == ("moonraker:voron-2", "voron-key")
    assert "farm-key" not in repr(k1)


def test_a_bad_flag_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("k1", "k 1=http://x", "k1=ftp://x"):
        with pytest.raises(LaunchError, match=r"^--moonraker: "):
            settings_for(["--moonraker", bad], tmp_path / "missing.toml", {}, monkeypatch)


def test_the_profile_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.farm]\nagents = ["http://127.0.0.1:8701"]\n\n'
        '[profiles.farm.moonraker]\nk1 = "http://10.0.4.30:7125"\nk2 = "http://10.0.4.31:7125"\n'
    )
    config.chmod(0o600)
    settings = settings_for(["--profile", "farm"], config, {}, monkeypatch)
    printers = [(s.source_id, s.url, s.token) for s in settings.sources if s.kind == "moonraker"]
    assert printers == [
        ("moonraker:k1", "http://10.0.4.30:7125", None),
        ("moonraker:k2", "http://10.0.4.31:7125", None),
    ]


def test_a_profile_of_printers_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.klipper.moonraker]\nk1 = "http://10.0.4.30:7125"\n')
    config.chmod(0o600)
    settings = settings_for(["--profile", "klipper"], config, {"MOONRAKER_API_KEY": "k"}, monkeypatch)
    assert [(s.source_id, s.token) for s in settings.sources] == [("moonraker:k1", "k")]


def test_the_api_key_comes_from_the_environment() -> None:
    assert resolve_api_key("k1", {}) is None
    assert resolve_api_key("k1", {"MOONRAKER_API_KEY": "all"}) == "all"
    assert resolve_api_key("k1.a", {"MOONRAKER_API_KEY": "all", "MOONRAKER_API_KEY_K1_A": "mine"}) == "mine"


def test_the_registry_builds_it_and_the_session_asks_it_what_it_can_do(tmp_path: Path) -> None:
    specs = [SourceSpec(f"moonraker:k{n}", "moonraker", f"http://127.0.0.1:{n}", name=f"k{n}") for n in (1, 2)]
    settings = Settings(sources=specs, save_theme=False)
    session = Session(settings, audit_log=AuditLog(tmp_path / "audit.jsonl"), registry=default_registry(plugins=False))
    adapters = session.build_sources()
    assert all(isinstance(a, MoonrakerSource) and isinstance(a, SourceAdapter) for a in adapters)
    first = adapters[0]
    assert isinstance(first, MoonrakerSource)
    assert first.farm_size == 2 and first.url == "ws://127.0.0.1:1/websocket"
    assert first.supported_actions == SUPPORTED_ACTIONS and first.grants_role == "operator"
    session.store.set_source_state("moonraker:k1", "live")
    first._resnapshot()
    assert session.target_allows("job.cancel", "machine", "MR-k1")
    for action in ("job.reroute", "machine.ready", "node.pause"):
        assert not session.target_allows(action, "machine", "MR-k1")


def test_every_printer_is_shown_whichever_is_connected() -> None:
    from console.store import Store

    store = Store()
    a, b = (MoonrakerSource(f"moonraker:{n}", n, "http://127.0.0.1:1", None, store, farm_size=2) for n in "ab")
    for source in (a, b):
        source._resnapshot()
    store.set_source_state("moonraker:a", "live")
    store.set_source_state("moonraker:b", "reconnecting")
    assert {"MR-a", "MR-b"} <= set(store.machines)
    assert store.nodes["moonraker"].machine_count == 2
    assert store.command_source("machine", "MR-a") == "moonraker:a"
    assert store.owner("machines", "MR-b") == "moonraker:b"
