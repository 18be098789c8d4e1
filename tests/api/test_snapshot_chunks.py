"""A big snapshot parsed in chunks (console.api.snapshot_chunks) is the snapshot the whole parse gives, and any
body it cannot cut safely is parsed whole: same answer, same error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from console.api import snapshot_chunks as sc
from console.api.models import Snapshot


@pytest.fixture(scope="module")
def body() -> bytes:
    """A warmed demo's snapshot (machines, jobs, quality with SPC series, alerts), as the demo server sends it."""
    import httpx

    from tests.demo_server import start_test_server

    server = start_test_server(warmup_s=1800)
    try:
        data = httpx.get(server.url + "/v1/snapshot", headers={"Accept-Encoding": "identity"}, timeout=10).content
    finally:
        server.stop()
    return data


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sc, "CHUNKED_MIN_BYTES", 0)
    monkeypatch.setattr(sc, "CHUNK_BYTES", 512)


def _chunked_or_whole(body: bytes) -> str:
    try:
        sc._chunked(body)
    except sc._Whole:
        return "whole"
    return "chunked"


def test_the_chunked_parse_is_the_whole_parse(body: bytes) -> None:
    whole = Snapshot.model_validate_json(body)
    assert len(whole.machines) > 10 and whole.jobs and whole.quality
    assert _chunked_or_whole(body) == "chunked"
    chunked = sc.parse_snapshot_chunked(body)
    assert chunked == whole
    assert chunked.values_shared
    assert [m.id for m in chunked.machines] == [m.id for m in whole.machines]


def test_a_chunk_the_size_of_a_section_or_larger(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sc, "CHUNK_BYTES", 1 << 30)
    assert sc.parse_snapshot_chunked(body) == Snapshot.model_validate_json(body)


def _variant(body: bytes, change: Any) -> bytes:
    data = json.loads(body)
    change(data)
    return json.dumps(data, separators=(",", ":")).encode()


def _brackets_in_strings(data: dict[str, Any]) -> None:
    data["machines"][3]["name"] = 'odd }],{"x":[{ name'
    data["jobs"][0]["part"] = "]]]},{"


def _empty_sections(data: dict[str, Any]) -> None:
    data["machines"] = []
    data["quality"] = []


def _keys_reordered(data: dict[str, Any]) -> None:
    machines = data.pop("machines")
    data["machines"] = machines  # now after quality
    data["extra"] = {"machines": []}


def _nested_key_first(data: dict[str, Any]) -> None:
    data["cluster"]["x"] = {"jobs": [], "machines": [1]}  # a key of that name inside another object comes first


@pytest.mark.parametrize("change", [_brackets_in_strings, _empty_sections, _keys_reordered, _nested_key_first])
def test_unusual_bodies_give_what_the_whole_parse_gives(body: bytes, change: Any) -> None:
    odd = _variant(body, change)
    assert sc.parse_snapshot_chunked(odd) == Snapshot.model_validate_json(odd)


def test_pretty_printed_bodies(body: bytes) -> None:
    pretty = json.dumps(json.loads(body), indent=1).encode()
    assert sc.parse_snapshot_chunked(pretty) == Snapshot.model_validate_json(pretty)


def test_a_key_given_twice_keeps_the_last_as_the_whole_parse_does(body: bytes) -> None:
    doubled = body[:-1] + b',"machines":[]}'
    assert _chunked_or_whole(doubled) == "whole"
    assert sc.parse_snapshot_chunked(doubled).machines == []


@pytest.mark.parametrize(
    "bad",
    [
        lambda b: b.replace(b'"state":"', b'"state":7,"x":"', 1),  # a machine's state not a string
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b.replace(b'"quality":[', b'"quality":[{},', 1),  # a record without its fields
    ],
)
def test_invalid_bodies_raise_what_the_whole_parse_raises(body: bytes, bad: Any) -> None:
    broken = bad(body)
    with pytest.raises(ValidationError) as whole:
        Snapshot.model_validate_json(broken)
    with pytest.raises(ValidationError) as chunked:
        sc.parse_snapshot_chunked(broken)
    assert chunked.value.errors() == whole.value.errors()
