"""The MQTT side: the broker's URL, TLS, credentials, the host application's STATE messages and the aiomqtt client.

Why aiomqtt (on paho-mqtt 2): it runs on the console's asyncio loop like every other source (no thread of its own),
and paho is the most used MQTT client in Python. The Sparkplug payloads are protobuf (:mod:`.payload`).

``mqtt://HOST[:PORT]`` (1883) or ``mqtts://HOST[:PORT]`` (8883, TLS verified against the system's CAs, a
``--ca-file``, or not at all with ``--insecure``). Credentials never come in the URL: the launcher reads them from
environment variables the operator names (``docs/sparkplug.md``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from console.sources.sparkplug.topics import ID_RE, state_topic

__all__ = [
    "BrokerAddress",
    "credentials_refused",
    "default_host_id",
    "make_client",
    "parse_broker_url",
    "state_payload",
]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool

    @property
    def display(self) -> str:
        """The URL as shown (it never holds credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT``; raises ``ValueError`` with a plain one-line reason."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("not a broker URL (mqtt://HOST:PORT or mqtts://HOST:PORT)") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("the broker URL must be mqtt://HOST:PORT or mqtts://HOST:PORT")
    if parts.username is not None or parts.password is not None:
        raise ValueError("no credentials in the broker URL: name the environment variables that hold them")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the broker URL has no path: mqtt://HOST:PORT")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(parts.hostname, port or (8883 if tls else 1883), tls)


def default_host_id() -> str:
    """``factory-console-<this machine's name>``: stable across runs, so each console leaves one retained STATE."""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in socket.gethostname())[:40] or "host"
    return f"factory-console-{name}"


def check_host_id(host_id: str) -> str:
    if not ID_RE.match(host_id):
        raise ValueError("the Sparkplug host id must not be empty or hold '/', '+', '#' or control characters")
    return host_id


def state_payload(online: bool, timestamp: int) -> bytes:
    """A Sparkplug 3.0 host application STATE payload: ``{"online": bool, "timestamp": ms}``."""
    return json.dumps({"online": online, "timestamp": timestamp}, separators=(",", ":")).encode()


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """Verified against the system's CAs (``True``), a CA bundle (a path), or not verified (``False``)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


def make_client(
    address: BrokerAddress,
    *,
    host_id: str,
    username: str | None,
    password: str | None,
    verify: bool | str,
    will_timestamp: int | None,
    keepalive: int,
    queue_type: type[asyncio.Queue[aiomqtt.Message]],
    max_queued: int,
) -> aiomqtt.Client:
    """A client for one session: clean session, the STATE death as its will (``None``: not a primary host)."""
    will = None
    if will_timestamp is not None:
        will = aiomqtt.Will(state_topic(host_id), state_payload(False, will_timestamp), qos=1, retain=True)
    return aiomqtt.Client(
        address.host,
        address.port,
        username=username,
        password=password if username is not None else None,
        identifier=f"{host_id[:40]}-{uuid.uuid4().hex[:8]}",
        queue_type=queue_type,
        will=will,
        clean_session=True,
        keepalive=keepalive,
        timeout=10.0,
        max_queued_incoming_messages=max_queued,
        tls_context=tls_context(verify) if address.tls else None,
    )


def credentials_refused(error: BaseException) -> bool:
    """The broker refused the credentials in its CONNACK (MQTT 3.1.1 codes 4 and 5, MQTT 5 codes 134 and 135)."""
    if not isinstance(error, MqttConnectError):
        return False
    rc = error.rc
    value = getattr(rc, "value", rc)
    return value in (4, 5, 134, 135)
