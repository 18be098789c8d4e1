"""A profile's ``opcua`` tables: the OPC UA servers to follow, by name, and how to reach each.

::

    [profiles.plant.opcua]
    press-hall = "opc.tcp://10.0.5.10:4840"      # anonymous, no security: the URL alone

    [profiles.plant.opcua.mill-hall]
    url = "opc.tcp://10.0.5.11:4840"
    security_policy = "Basic256Sha256"            # None (default), Basic256Sha256, Aes128_Sha256_RsaOaep,
    security_mode = "SignAndEncrypt"              #   Aes256_Sha256_RsaPss; Sign or SignAndEncrypt (default)
    certificate = "~/.config/factory-console/opcua-client.der"
    private_key = "~/.config/factory-console/opcua-client.pem"
    user = "console"
    password_env = "OPCUA_MILL_PASSWORD"          # the variable holding the password, never the password
    node = "N-03"                                 # the console node its machines belong to (default: their own)
    machines = ["ns=2;s=Mill1", "ns=2;s=Mill2"]   # only for a server without the Machinery Machines folder

Strict like the rest of the file (unknown keys are errors, no coercion); every key is explained in ``docs/opcua.md``.
No I/O here and nothing of the source itself: the launcher hands the validated table to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["OpcUaEntry", "OpcUaServer"]

_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _check_url(value: str) -> str:
    from urllib.parse import urlsplit

    message = "Input should be an OPC UA URL (opc.tcp://HOST:PORT)"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise PydanticCustomError("url", message) from None
    if parts.scheme != "opc.tcp" or not parts.hostname or port is None:
        raise PydanticCustomError("url", message)
    if parts.password is not None:
        raise PydanticCustomError("url", "no password in the URL: use user and password_env")
    return value.rstrip("/") if parts.path in ("", "/") else value


def _check_env(value: str) -> str:
    if not _ENV_RE.fullmatch(value):
        raise PydanticCustomError("env_name", "should be the name of an environment variable, not the password itself")
    return value


def _check_text(value: str) -> str:
    if not value.strip() or len(value) > 200 or any(not ch.isprintable() for ch in value):
        raise PydanticCustomError("text", "should be a short, non-empty line of text")
    return value


def _check_kind(value: str) -> str:
    if not _KIND_RE.fullmatch(value):
        raise PydanticCustomError("kind", "should be a machine kind such as cnc_mill (lower case, digits, '_')")
    return value


Text = Annotated[str, Field(strict=True), AfterValidator(_check_text)]
File = Annotated[Path, AfterValidator(Path.expanduser)]


class OpcUaServer(BaseModel):
    """One OPC UA server of a profile (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    url: Annotated[str, Field(strict=True), AfterValidator(_check_url)]
    security_policy: Literal["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] = "None"
    security_mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate: File | None = None
    private_key: File | None = None
    server_certificate: File | None = None
    user: Text | None = None
    password_env: Annotated[str, Field(strict=True), AfterValidator(_check_env)] | None = None
    node: Text | None = None
    node_name: Text | None = None
    kind: Annotated[str, Field(strict=True), AfterValidator(_check_kind)] | None = None
    machines: list[Text] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaServer:
        if self.security_policy != "None" and (self.certificate is None or self.private_key is None):
            raise PydanticCustomError("opcua_security", "a security policy needs `certificate` and `private_key`")
        if self.password_env is not None and self.user is None:
            raise PydanticCustomError("opcua_user", "`password_env` needs `user`")
        return self

    def settings(self) -> dict[str, Any]:
        """The table as plain values for :func:`console.sources.opcua.resolve_servers` (paths as strings)."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            out[name] = str(value) if isinstance(value, Path) else value
        return out


def _url_alone(value: object) -> object:
    """``name = "opc.tcp://..."`` is short for ``[...name] url = "opc.tcp://..."``."""
    return {"url": value} if isinstance(value, str) else value


OpcUaEntry = Annotated[OpcUaServer, BeforeValidator(_url_alone)]
