"""Reading a response body without letting the server choose how much memory the console spends.

A 1 MB gzip body that inflates to 1 GB once took the console to 1.94 GB RSS: httpx inflates a compressed chunk
whole, and ``Response.read()`` keeps all of it. Here the raw bytes are inflated in pieces of at most
:data:`PIECE_BYTES` (``zlib``'s ``max_length``), counted as they come, and the read stops with
:class:`ResponseTooLarge` the moment the decoded size passes the cap. The console asks only for ``gzip`` and
``deflate`` (see :data:`ACCEPT_ENCODING`); a body in any other coding is read through httpx's own decoder, still
counted against the cap.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

from console.api.errors import ProtocolError

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "PIECE_BYTES",
    "ResponseTooLarge",
    "decoded_chunks",
    "read_capped",
]

ACCEPT_ENCODING = "gzip, deflate"
"""The codings the console asks for: the two it inflates itself, piece by piece (not br or zstd)."""

PIECE_BYTES = 1024 * 1024
"""The most one inflate step yields (so a bomb costs this much at a time, not its whole size)."""

DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024
"""512 MiB: a snapshot of 100,000 machines is 178 MiB of JSON (the demo server, measured), so this leaves room for
about 280,000 and still stops a bomb (``max_response_mb`` in the config sets it)."""


class ResponseTooLarge(ProtocolError):
    """The server sent more than the console reads (``max_response_mb``); the rest was not read."""


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def _inflater(coding: str) -> zlib._Decompress | None:
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if coding == "deflate":  # RFC 9110 says zlib-wrapped; some servers send it raw (checked on the first bytes)
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    return None


async def decoded_chunks(response: httpx.Response, what: str) -> AsyncIterator[bytes]:
    """The decoded body of a streamed ``response``, in pieces of at most :data:`PIECE_BYTES` for gzip/deflate.

    Raises :class:`ProtocolError` for a body that does not inflate.
    """
    try:
        content = response.content  # a response made in memory (a test transport) is read, and decoded, already
    except httpx.ResponseNotRead:
        pass
    else:
        for start in range(0, len(content), PIECE_BYTES):
            yield content[start : start + PIECE_BYTES]
        return
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        async for chunk in response.aiter_raw():
            yield chunk
        return
    inflater = _inflater(codings[0]) if len(codings) == 1 else None
    if inflater is None:  # a coding we did not ask for (or several): httpx decodes it, if it can
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.DecodingError as error:
            raise ProtocolError(f"{what}: the body does not decode ({codings}): {error}") from None
        return
    raw_deflate = produced = False
    try:
        async for chunk in response.aiter_raw():
            data = chunk
            while data:
                try:
                    piece = inflater.decompress(data, PIECE_BYTES)
                except zlib.error:
                    if codings[0] != "deflate" or raw_deflate or produced:
                        raise
                    raw_deflate, inflater = True, zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                data = inflater.unconsumed_tail
                produced = True
                if piece:
                    yield piece
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error as error:
        raise ProtocolError(f"{what}: the {codings[0]} body does not inflate ({error})") from None


async def read_capped(response: httpx.Response, what: str, limit: int) -> bytes:
    """The whole decoded body of a streamed ``response``, or :class:`ResponseTooLarge` past ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    async for piece in decoded_chunks(response, what):
        size += len(piece)
        if size > limit:
            raise ResponseTooLarge(
                f"{what}: the answer is larger than {_size(limit)} (max_response_mb); not read further"
            )
        parts.append(piece)
    return b"".join(parts)
