"""Values shared as records are parsed (console.api.shared_values): equal values become one object, nothing else
changes (a zero keeps its sign, a time its offset, an int stays an int)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from console.api.models import Machine, Quality
from console.api.shared_values import SHARING, share_float_dict, share_floats, share_time_slots, sharing
from tests.store import factories as f


def test_floats_are_shared_and_zeros_keep_their_sign() -> None:
    a = [float("1.25"), 0.0, -0.0, 3.5]
    b = [float("1.25"), -0.0, 0.0, 7]
    share_floats(a)
    share_floats(b)  # an int in a list of floats (pydantic never gives one) stays an int
    assert a[0] is b[0] and a == [1.25, 0.0, -0.0, 3.5]
    assert [str(v) for v in a[1:3]] == ["0.0", "-0.0"] and [str(v) for v in b[1:3]] == ["-0.0", "0.0"]
    assert type(b[3]) is int
    values = {"t": float("215.5"), "z": -0.0}
    share_float_dict(values)
    assert values["t"] == 215.5
    assert str(values["z"]) == "-0.0"


def test_times_are_shared_only_with_the_same_offset() -> None:
    utc = f.machine("M-1", state_since=datetime(2026, 11, 25, 12, tzinfo=UTC))
    plus_one = datetime(2026, 11, 25, 13, tzinfo=timezone(timedelta(hours=1)))  # the same instant, another offset
    other = f.machine("M-2", state_since=plus_one)
    with sharing():
        again = Machine.model_validate_json(utc.model_dump_json())
        utc.share_values()
    assert again.state_since is utc.state_since
    assert other.state_since == utc.state_since and other.state_since.utcoffset() == timedelta(hours=1)
    share_time_slots(other, ("state_since",))
    assert other.state_since.utcoffset() == timedelta(hours=1)


def test_quality_records_share_their_spc_values_and_dump_the_same() -> None:
    record = {
        "scope": "machine",
        "id": "M-1",
        "window_h": 8.0,
        "oee": 0.8308,
        "availability": 0.9231,
        "performance": 0.9126,
        "quality_rate": 0.9862,
        "first_pass_yield": 0.9709,
        "scrap_rate": 0.0,
        "good_count": 10,
        "scrap_count": 0,
        "spc": [
            {
                "characteristic": "bore",
                "unit": "mm",
                "nominal": 10.0,
                "lsl": 9.9,
                "usl": 10.1,
                "lcl": 9.95,
                "ucl": 10.05,
                "values": [10.01, -0.0, 10.01, 9.99],
                "violations": [],
                "cpk": 1.4,
            }
        ],
    }
    text = json.dumps(record)
    with sharing():
        one, two = Quality.model_validate_json(text), Quality.model_validate_json(text.replace('"M-1"', '"M-2"'))
    assert one.spc[0].values[0] is one.spc[0].values[2] is two.spc[0].values[0]
    assert one.oee is two.oee and one.spc[0].lsl is two.spc[0].lsl
    assert json.loads(one.model_dump_json()) == record
    assert one.model_dump_json().count("-0.0") == 1


def test_only_while_sharing_and_on_that_thread_only() -> None:
    import threading

    seen: list[bool] = []
    with sharing():
        assert SHARING.on
        worker = threading.Thread(target=lambda: seen.append(SHARING.on))
        worker.start()
        worker.join()
    assert seen == [False] and not SHARING.on
