"""The cluster APIs and node agents to connect to, as sources: one cluster as always, or several in one console.

Why apart from ``console.launch``: the rules of several clusters (how each is named, which agents belong to which,
what stays exactly as before with one) are one decision with its own tests, and the launch only asks for the specs.

* One cluster (one ``--api``, a profile with ``api``, or none and only agents): the sources are ``cluster`` and
  ``agent-1``..., the ids are the server's own, exactly as before there were several.
* Several (``--api`` given more than once, or a profile with ``clusters = ["leeds", "york"]``, or ``--demo
  --clusters N``): each cluster gets a short unique name (the profile's name, ``NAME=`` before the URL, else the
  URL's host), which is its source id and the prefix of its ids (``leeds/N-01``); its agents are
  ``leeds:agent-1``... and belong to it. Agents given with ``--agent`` cannot say which cluster they serve, so with
  several clusters they are refused (name them in each cluster's profile).

``docs/multi-cluster.md`` has the design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from console.settings import SourceSpec
from console.store.clusters import name_from_url, unique_names

__all__ = ["DEMO_NAMES", "MAX_DEMO_CLUSTERS", "ClusterTarget", "cluster_specs", "demo_specs", "split_api"]


@dataclass(frozen=True)
class ClusterTarget:
    """One cluster to connect to: its API, its own agents, and how to authenticate."""

    url: str
    name: str | None = None
    """As the operator named it (a profile's name, ``NAME=URL``); ``None``: named from the URL when needed."""
    agents: Sequence[str] = ()
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True


def split_api(item: str) -> tuple[str | None, str]:
    """``--api [NAME=]URL`` -> (name or ``None``, URL). A URL's own ``=`` (in a query) is not a name: a name comes
    before ``=`` only when it holds no ``/`` or ``:``."""
    name, sep, url = item.partition("=")
    if sep and name and "/" not in name and ":" not in name:
        return name, url
    return None, item


def cluster_specs(targets: Sequence[ClusterTarget], loose_agents: Sequence[str] = ()) -> list[SourceSpec]:
    """The sources of these clusters; ``loose_agents`` (``--agent``) serve the only cluster, or stand alone.

    Raises ``ValueError`` (one line) for agents that cannot be placed."""
    if len(targets) <= 1:
        specs: list[SourceSpec] = []
        token: str | None = None
        verify: bool | str = True
        agents: list[str] = list(loose_agents)
        if targets:
            target = targets[0]
            token, verify = target.token, target.verify
            specs.append(SourceSpec("cluster", "cluster", target.url.rstrip("/"), token=token, verify=verify))
            agents = agents or list(target.agents)
        for index, url in enumerate(agents, start=1):
            specs.append(SourceSpec(f"agent-{index}", "agent", url.rstrip("/"), token=token, verify=verify))
        return specs
    if loose_agents:
        raise ValueError(
            "--agent with several clusters: which cluster an agent serves is not known; "
            "list each cluster's agents in its profile (agents = [...])"
        )
    names = unique_names([t.name or name_from_url(t.url) for t in targets])
    specs = []
    for name, target in zip(names, targets, strict=True):
        url = target.url.rstrip("/")
        specs.append(SourceSpec(name, "cluster", url, token=target.token, verify=target.verify, cluster=name))
        for index, agent in enumerate(target.agents, start=1):
            specs.append(
                SourceSpec(
                    f"{name}:agent-{index}",
                    "agent",
                    agent.rstrip("/"),
                    token=target.token,
                    verify=target.verify,
                    cluster=name,
                )
            )
    return specs


DEMO_NAMES = ("north", "south", "east", "west", "central", "coast", "hills", "vale")
"""The names of ``--demo --clusters N``'s simulated clusters, in order."""
MAX_DEMO_CLUSTERS = len(DEMO_NAMES)


def demo_specs(servers: Sequence[object]) -> list[SourceSpec]:
    """The sources of the embedded demo (``console.demo.embedded.DemoServer``: ``url``, ``agent_urls``): one
    simulated cluster exactly as before, or several, named from :data:`DEMO_NAMES`."""
    specs: list[SourceSpec] = []
    several = len(servers) > 1
    for name, server in zip(DEMO_NAMES, servers, strict=False):
        url: str = getattr(server, "url")  # noqa: B009 - duck-typed: this module never imports the demo
        agent_urls: dict[str, str] = getattr(server, "agent_urls")  # noqa: B009
        cluster = name if several else None
        source_id = name if several else "cluster"
        specs.append(SourceSpec(source_id, "cluster", url, cluster=cluster))
        prefix = f"{name}:" if several else ""
        for index, (node_id, agent_url) in enumerate(sorted(agent_urls.items()), start=1):
            specs.append(SourceSpec(f"{prefix}agent-{index}", "agent", agent_url, name=node_id, cluster=cluster))
    return specs
