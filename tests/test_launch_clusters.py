"""Several clusters from the command line and the config file (docs/multi-cluster.md): how each is named, which
agents belong to which, and one cluster exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cluster_sources import ClusterTarget, cluster_specs, demo_specs, split_api
from console.launch import LaunchError
from tests.test_launch import settings_for, write_config


def test_one_api_is_the_cluster_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(
        ["--api", "https://leeds.example", "--agent", "http://a:1"], tmp_path / "x", {}, monkeypatch
    )
    assert [(s.source_id, s.kind, s.cluster) for s in settings.sources] == [
        ("cluster", "cluster", None),
        ("agent-1", "agent", None),
    ]


def test_api_twice_names_each_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--api", "https://leeds.example.com:8443", "--api", "york=http://10.0.0.9:8700/"]
    settings = settings_for(argv, tmp_path / "x", {}, monkeypatch)
    assert [(s.source_id, s.url, s.cluster) for s in settings.sources] == [
        ("leeds", "https://leeds.example.com:8443", "leeds"),
        ("york", "http://10.0.0.9:8700", "york"),
    ]


def test_agents_on_the_command_line_with_several_clusters_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--api", "http://a.x", "--api", "http://b.x", "--agent", "http://n1:8701"]
    with pytest.raises(LaunchError, match="which cluster an agent serves"):
        settings_for(argv, tmp_path / "x", {}, monkeypatch)


def test_a_profile_of_clusters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(
        tmp_path / "config.toml",
        """
[profiles.north]
clusters = ["leeds", "york"]
[profiles.leeds]
api = "https://leeds.example"
token_env = "LEEDS_TOKEN"
agents = ["http://10.1.0.5:8701"]
[profiles.york]
api = "https://york.example"
token_env = "YORK_TOKEN"
""",
    )
    environ = {"LEEDS_TOKEN": "l-secret", "YORK_TOKEN": "y-secret"}
    settings = settings_for(["--profile", "north"], config, environ, monkeypatch)
    assert [(s.source_id, s.kind, s.cluster, s.token) for s in settings.sources] == [
        ("leeds", "cluster", "leeds", "l-secret"),
        ("leeds:agent-1", "agent", "leeds", "l-secret"),
        ("york", "cluster", "york", "y-secret"),
    ]


@pytest.mark.parametrize(
    ("members", "message"),
    [('["nowhere"]', "is not another profile"), ('["north"]', "is not another profile"), ('["bare"]', "has no api")],
)
def test_a_profile_of_clusters_names_other_profiles_with_an_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: str, message: str
) -> None:
    text = f'[profiles.north]\nclusters = {members}\n[profiles.bare]\nagents = ["http://a:1"]\n'
    config = write_config(tmp_path / "config.toml", text)
    with pytest.raises(LaunchError, match=message):
        settings_for(["--profile", "north"], config, {}, monkeypatch)


def test_clusters_needs_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LaunchError, match="--clusters"):
        settings_for(["--api", "http://a.x", "--clusters", "2"], tmp_path / "x", {}, monkeypatch)
    with pytest.raises(LaunchError, match="--clusters"):
        settings_for(["--demo", "--clusters", "99"], tmp_path / "x", {}, monkeypatch)


def test_names_are_unique_and_short() -> None:
    targets = [
        ClusterTarget("http://127.0.0.1:8700"),
        ClusterTarget("http://x", "York!"),
        ClusterTarget("http://y", "york"),
    ]
    specs = cluster_specs(targets)
    assert [s.source_id for s in specs] == ["127-0-0-1-8700", "york", "york-2"]
    assert split_api("https://x.example/?a=b") == (None, "https://x.example/?a=b")
    assert split_api("leeds=https://x") == ("leeds", "https://x")


class _Demo:
    def __init__(self, url: str, agents: dict[str, str]) -> None:
        self.url = url
        self.agent_urls = agents


def test_demo_specs_one_cluster_as_before_and_several_named() -> None:
    one = demo_specs([_Demo("http://127.0.0.1:1", {"N-2": "http://a2", "N-1": "http://a1"})])
    assert [(s.source_id, s.cluster, s.name) for s in one] == [
        ("cluster", None, None),
        ("agent-1", None, "N-1"),
        ("agent-2", None, "N-2"),
    ]
    two = demo_specs([_Demo("http://127.0.0.1:1", {}), _Demo("http://127.0.0.1:2", {"N-1": "http://b1"})])
    assert [(s.source_id, s.cluster) for s in two] == [
        ("north", "north"),
        ("south", "south"),
        ("south:agent-1", "south"),
    ]
