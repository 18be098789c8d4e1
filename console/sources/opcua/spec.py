"""How an OPC UA server is named and configured: ``--opcua [NAME=]URL`` and a profile's ``[profiles.P.opcua.NAME]``.

No asyncua here (``console.launch`` imports this before the terminal is taken over; the OPC UA stack is imported only
when a source runs). The password never comes from the command line: a profile names the environment variable that
holds it (``password_env``), and a URL with a password in it is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from console.sources.opcua.mapping import NAME_RE

__all__ = [
    "SECURITY_MODES",
    "SECURITY_POLICIES",
    "OpcUaOptions",
    "ResolvedServer",
    "check_url",
    "name_from_url",
    "parse_item",
    "resolve_servers",
]

SECURITY_POLICIES = ("None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss")
SECURITY_MODES = ("Sign", "SignAndEncrypt")


@dataclass(frozen=True)
class OpcUaOptions:
    """Everything about one server but its URL and password (``SourceSpec.options`` holds these as a mapping)."""

    security_policy: str = "None"
    security_mode: str = "SignAndEncrypt"
    certificate: str | None = None
    private_key: str | None = None
    server_certificate: str | None = None
    user: str | None = None
    node: str | None = None
    """The console node the machines belong to (default: a node of this server's own, ``opcua-NAME``)."""
    node_name: str | None = None
    kind: str = "machine"
    machines: tuple[str, ...] = field(default_factory=tuple)
    """Node ids of the machine objects, for a server without the Machinery ``Machines`` folder."""

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> OpcUaOptions:
        known = {k: v for k, v in options.items() if k in cls.__dataclass_fields__ and v is not None}
        if "machines" in known:
            known["machines"] = tuple(str(m) for m in known["machines"])
        return cls(**known)

    def as_mapping(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class ResolvedServer:
    """One server to connect to: name, URL, its password (from the environment) and options."""

    name: str
    url: str
    password: str | None = field(default=None, repr=False)
    options: OpcUaOptions = field(default_factory=OpcUaOptions)


def check_url(url: str) -> str:
    """An ``opc.tcp://HOST:PORT[/path]`` URL as given (minus a trailing slash); raises ``ValueError`` with a plain
    reason. A password in the URL is refused (it would show in ``ps``, shell history and logs)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme != "opc.tcp" or not parts.hostname:
        raise ValueError("the URL must be opc.tcp://HOST:PORT")
    if parts.password is not None:
        raise ValueError("no password in the URL: name its environment variable in the config (password_env)")
    if port is None:
        raise ValueError("the URL needs a port (opc.tcp://HOST:4840)")
    return url.rstrip("/") if parts.path in ("", "/") else url


def name_from_url(url: str) -> str:
    """A server's default name from its URL: ``opc.tcp://10.0.5.10:4840`` is ``10.0.5.10-4840``."""
    parts = urlsplit(url)
    base = f"{parts.hostname}-{parts.port}" if parts.port else str(parts.hostname)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("_.-")[:64] or "opcua"


def parse_item(item: str) -> tuple[str, str]:
    """``--opcua NAME=URL`` or ``--opcua URL`` as ``(name, url)``; raises ``ValueError`` with a plain reason."""
    text = item.strip()
    name, sep, url = text.partition("=")
    if not sep or name.startswith("opc.tcp:"):
        name, url = "", text
    url = check_url(url.strip())
    name = name.strip() or name_from_url(url)
    if not NAME_RE.match(name):
        raise ValueError(f"server name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
    return name, url


def resolve_servers(
    items: Sequence[str],
    configured: Mapping[str, Mapping[str, Any]],
    environ: Mapping[str, str] | None = None,
) -> list[ResolvedServer]:
    """The servers to connect to: ``--opcua`` items when given (a configured server of the same name lends them its
    options and password), else the profile's (``configured``: name -> ``{url, user, password_env, ...}``).

    Raises ``ValueError`` for a bad item or name, a duplicate name, or a ``password_env`` that is not set.
    """
    env = os.environ if environ is None else environ
    wanted: list[tuple[str, str]] = [parse_item(item) for item in items]
    if not items:
        for name, server in configured.items():
            if not NAME_RE.match(name):
                raise ValueError(f"opcua server name {name!r}: use letters, digits, '_', '.', '-' (at most 64)")
            wanted.append((name, check_url(str(server["url"]))))
    servers: list[ResolvedServer] = []
    seen: set[str] = set()
    for name, url in wanted:
        if name in seen:
            raise ValueError(f"two OPC UA servers are named {name}")
        seen.add(name)
        config = dict(configured.get(name) or {})
        password = None
        var = config.pop("password_env", None)
        if var:
            password = env.get(str(var))
            if not password:
                raise ValueError(f"the environment variable {var} (the password of OPC UA server {name}) is not set")
        config.pop("url", None)
        servers.append(ResolvedServer(name, url, password, OpcUaOptions.from_mapping(config)))
    return servers
