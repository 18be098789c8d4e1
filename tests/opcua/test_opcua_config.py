"""``--opcua`` and a profile's ``opcua`` tables into sources; the registry builds the adapter; no secret on the
command line or in a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import build_run_parser
from console.launch import LaunchError, build_settings
from console.settings import Settings
from console.sources.adapter import AdapterContext
from console.sources.opcua import OpcUaOptions, parse_item, resolve_servers
from console.sources.registry import default_registry
from console.store import Store


def settings_for(argv: list[str], config: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("FACTORY_CONSOLE_CONFIG", str(config))
    return build_settings(build_run_parser().parse_args(argv), environ)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_parse_item_name_and_url() -> None:
    assert parse_item("press=opc.tcp://10.0.5.10:4840") == ("press", "opc.tcp://10.0.5.10:4840")
    assert parse_item("opc.tcp://10.0.5.10:4840/") == ("10.0.5.10-4840", "opc.tcp://10.0.5.10:4840")
    assert parse_item("opc.tcp://plc.local:4840/ua/server") == ("plc.local-4840", "opc.tcp://plc.local:4840/ua/server")
    for bad, why in (
        ("http://x:80", "opc.tcp"),
        ("opc.tcp://x", "port"),
        ("opc.tcp://u:secret@x:4840", "no password"),
        ("bad name=opc.tcp://x:4840", "server name"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_item(bad)


def test_command_line_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(
        ["--opcua", "press=opc.tcp://127.0.0.1:4840", "--opcua", "opc.tcp://10.0.0.2:4841"],
        tmp_path / "none.toml",
        {},
        monkeypatch,
    )
    specs = [s for s in settings.sources if s.kind == "opcua"]
    assert [(s.source_id, s.name, s.url, s.token) for s in specs] == [
        ("opcua:press", "press", "opc.tcp://127.0.0.1:4840", None),
        ("opcua:10.0.0.2-4841", "10.0.0.2-4841", "opc.tcp://10.0.0.2:4841", None),
    ]
    assert OpcUaOptions.from_mapping(specs[0].options) == OpcUaOptions()
    with pytest.raises(LaunchError, match="no password in the URL"):
        settings_for(["--opcua", "opc.tcp://op:pw@127.0.0.1:4840"], tmp_path / "none.toml", {}, monkeypatch)


def test_profile_servers_with_security_user_and_a_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "c.toml",
        """
[profiles.plant.opcua]
hall = "opc.tcp://10.0.5.10:4840"

[profiles.plant.opcua.mill]
url = "opc.tcp://10.0.5.11:4840"
security_policy = "Basic256Sha256"
certificate = "~/client.der"
private_key = "~/client.pem"
user = "console"
password_env = "MILL_PW"
node = "N-03"
kind = "cnc_mill"
machines = ["ns=2;s=Mill1"]
""",
    )
    settings = settings_for(["--profile", "plant"], config, {"MILL_PW": "s3cret"}, monkeypatch)
    hall, mill = settings.sources
    assert (hall.name, hall.token, mill.name, mill.token) == ("hall", None, "mill", "s3cret")
    options = OpcUaOptions.from_mapping(mill.options)
    assert (options.security_policy, options.user, options.node, options.kind) == (
        "Basic256Sha256",
        "console",
        "N-03",
        "cnc_mill",
    )
    assert options.machines == ("ns=2;s=Mill1",) and options.certificate == str(Path("~/client.der").expanduser())
    assert "s3cret" not in repr(mill) and "s3cret" not in repr(options)
    with pytest.raises(LaunchError, match="MILL_PW"):
        settings_for(["--profile", "plant"], config, {}, monkeypatch)
    # A server named on the command line takes its options and password from the profile's table of that name.
    only = settings_for(
        ["--profile", "plant", "--opcua", "mill=opc.tcp://127.0.0.1:4999"], config, {"MILL_PW": "x"}, monkeypatch
    )
    assert [(s.name, s.url, s.token) for s in only.sources] == [("mill", "opc.tcp://127.0.0.1:4999", "x")]


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ('url = "http://x:80"', "OPC UA URL"),
        ('url = "opc.tcp://x:4840"\nsecurity_policy = "Basic256Sha256"', "certificate"),
        ('url = "opc.tcp://x:4840"\npassword_env = "PW"', "needs `user`"),
        ('url = "opc.tcp://x:4840"\npassword = "plain"', "password"),
        ('url = "opc.tcp://x:4840"\nsecurity_policy = "Basic128Rsa15"', "security_policy"),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, why: str) -> None:
    config = write_config(tmp_path / "c.toml", f"[profiles.plant.opcua.press]\n{table}\n")
    with pytest.raises(LaunchError, match=why) as caught:
        settings_for(["--profile", "plant"], config, {}, monkeypatch)
    assert "\n" not in str(caught.value)


def test_resolve_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="two OPC UA servers"):
        resolve_servers(["a=opc.tcp://x:1", "a=opc.tcp://y:2"], {}, {})


def test_the_registry_builds_the_adapter_from_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(["--opcua", "press=opc.tcp://127.0.0.1:4840"], tmp_path / "none.toml", {}, monkeypatch)
    store = Store()
    context = AdapterContext(store=store, settings=settings, server_clock=None, count_of_kind=lambda kind: 1)  # type: ignore[arg-type]
    adapter = default_registry(plugins=False).create(settings.sources[0], context)
    assert (adapter.kind, adapter.source_id, adapter.supported_actions) == (
        "opcua",
        "opcua:press",
        frozenset({"alert.ack"}),
    )
    assert store.sources["opcua:press"].url == "opc.tcp://127.0.0.1:4840"
