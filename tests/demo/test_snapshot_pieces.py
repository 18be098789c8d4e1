"""A big snapshot is streamed in pieces (console.demo.read_routes.snapshot_pieces): the pieces are the whole body,
in order, each about the size asked for, and the gzip stream inflates to exactly that body."""

from __future__ import annotations

import gzip
import json

import pytest

from console.demo.read_routes import Sections, _join, _streamed, snapshot_pieces

SECTIONS: Sections = [
    (b'{"seq":7,"cluster":{"id":"c"},"nodes":[', [b'{"id":"N1"}', b'{"id":"N2"}']),
    (b'],"machines":[', [json.dumps({"id": f"M-{i:03}", "pad": "x" * 40}).encode() for i in range(200)]),
    (b'],"jobs":[', []),
    (b'],"alerts":[', [b'{"id":"A1"}']),
    (b'],"quality":[', []),
]
TAIL = b"]}"


def test_the_pieces_are_the_whole_body_in_order() -> None:
    whole = _join(SECTIONS, TAIL)
    pieces = list(snapshot_pieces(SECTIONS, TAIL, piece_bytes=500))
    assert b"".join(pieces) == whole
    assert json.loads(whole)["seq"] == 7
    assert len(pieces) > 10
    longest_item = max(len(item) for _, items in SECTIONS for item in items)
    assert all(len(piece) < 500 + longest_item + 40 for piece in pieces)


def test_one_piece_when_the_body_is_small() -> None:
    assert list(snapshot_pieces(SECTIONS, TAIL, piece_bytes=1 << 20)) == [_join(SECTIONS, TAIL)]


async def test_the_gzip_stream_inflates_to_the_body() -> None:
    compressed = b"".join([chunk async for chunk in _streamed(SECTIONS, TAIL, compress=True)])
    assert gzip.decompress(compressed) == _join(SECTIONS, TAIL)
    plain = b"".join([chunk async for chunk in _streamed(SECTIONS, TAIL, compress=False)])
    assert plain == _join(SECTIONS, TAIL)


def test_a_streamed_snapshot_over_http_is_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the server (real loopback HTTP): streamed in 4 KB pieces, gzip-compressed or not, the body is the
    one ``snapshot_json`` joins, and a contract ``Snapshot``."""
    import httpx

    from console.api.models import Snapshot
    from console.demo import read_routes
    from tests.demo_server import start_test_server

    monkeypatch.setattr(read_routes, "THREAD_GZIP_MIN_BYTES", 0)
    monkeypatch.setattr(read_routes, "STREAM_PIECE_BYTES", 4096)
    server = start_test_server(warmup_s=600)
    try:
        ctx = server.host.server_for(None).app.state.ctx  # a stepped clock, no ticker: the state stays put
        want = server.call(lambda: read_routes.snapshot_json(ctx))
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for encoding in ("gzip", "identity"):
                with client.stream("GET", "/v1/snapshot", headers={"Accept-Encoding": encoding}) as response:
                    raw = b"".join(response.iter_raw())
                    assert response.headers.get("content-encoding") == ("gzip" if encoding == "gzip" else None)
                body = gzip.decompress(raw) if encoding == "gzip" else raw
                assert body == want
                assert Snapshot.model_validate_json(body).seq == json.loads(want)["seq"]
    finally:
        server.stop()
