"""Hypothesis strategies of hostile but *valid* contract objects: what a malicious or broken server may send that the
models accept.

Every string is drawn from hostile text (markup, C0/C1 controls, OSC/CSI/DCS sequences, lone surrogates, bidi
overrides, zero-width and wide characters, combining runs, very long strings) and every number and time from the
whole range the models accept (any finite float, any int within the field's bounds, any aware datetime from year 1
to 9999). The property suites push these through the store, the screens, the palette, the toasts and the audit log:
whatever a case finds, the next one is found by the generator, not by a hand-written catalogue.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from console.api.models import Alert, Cluster, Job, Machine, Node, Quality, Snapshot, SpcSeries

FRAGMENTS = [
    "[bold red]X[/]",
    "[@click=app.quit]click[/]",
    "[link=https://evil.example]L[/link]",
    "M17[/]",
    "[/]",
    "[",
    "]",
    "$name",
    "\x1b]52;c;NDA0\x07",
    "\x1b]0;TITLE\x1b\\",
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[31m",
    "\x1b[2J\x1b[H",
    "\x1bP+q544e\x1b\\",
    "\x1b_APC\x1b\\",
    "\x9b31m",
    "\x9d0;T\x9c",
    "\x90q\x9c",
    "\x07",
    "\x00",
    "\r",
    "\n",
    "\t",
    "\x08",
    "\x7f",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u2028",
    "\ud800",
    "\udfff",
    "\u0301\u0301\u0301\u0301\u0301\u0301",
    "工場",
    "👩‍🏭",
    "\U0001f600",
    "ｗｉｄｅ",
    "%s%n{0}",
    "'; DROP TABLE--",
    "\\u001b",
]

_any_char = st.characters(codec=None, categories=None, exclude_categories=())
"""Every code point, surrogates and controls included."""

hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(_any_char, max_size=12),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(_any_char, max_size=4)), min_size=2, max_size=4).map(
        "".join
    ),
    st.integers(min_value=1_000, max_value=60_000).map(lambda n: ("\x1b]0;T\x07W工" * (n // 8 + 1))[:n]),
)
"""Hostile text of any length from empty to tens of thousands of characters."""

ids = st.one_of(st.text(_any_char, min_size=1, max_size=12), st.sampled_from(FRAGMENTS))
finite = st.floats(allow_nan=False, allow_infinity=False)
"""Any finite float, +/-1.7e308 and subnormals included."""
fraction = st.floats(min_value=0.0, max_value=1.0)
non_negative = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)
count = st.one_of(
    st.integers(min_value=0), st.sampled_from([0, 2**31, 2**63 - 1, 2**64, 10**300, 10**400, 10**4000 - 1])
)
"""Any int the models accept: Python ints are unbounded, and pydantic's JSON parser takes up to ~4,300 digits."""

_offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_times = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=_offsets),
    st.sampled_from(
        [
            datetime.min.replace(tzinfo=UTC),
            datetime.max.replace(tzinfo=UTC),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
        ]
    ),
)
"""Any aware datetime the models accept, the ends of the calendar included."""

optional_text = st.none() | hostile_text


def _with(model_: type[Any], /, **fields: Any) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(fields).map(lambda values: model_.model_validate(values))


@functools.cache
def nodes(node_id: str) -> st.SearchStrategy[Node]:
    return _with(
        Node,
        id=st.just(node_id),
        name=hostile_text,
        city=hostile_text,
        lat=finite,
        lon=finite,
        state=st.sampled_from(["online", "degraded", "offline"]) | hostile_text,
        last_seen=aware_times,
        machine_count=count,
        agent_url=st.none() | hostile_text,
    )


@functools.cache
def machines(machine_id: str, node_id: str) -> st.SearchStrategy[Machine]:
    return _with(
        Machine,
        id=st.just(machine_id),
        node_id=st.just(node_id),
        name=hostile_text,
        kind=st.sampled_from(["fdm_printer", "cnc_mill", "laser_cutter"]) | hostile_text,
        model=hostile_text,
        state=st.sampled_from(["idle", "running", "paused", "fault", "blocked", "offline"]) | hostile_text,
        state_since=aware_times,
        job_id=st.none() | hostile_text,
        progress=st.none() | fraction,
        materials=st.lists(hostile_text, max_size=2),
        processes=st.lists(hostile_text, max_size=2),
        envelope_mm=st.tuples(non_negative, non_negative, non_negative),
        telemetry=st.dictionaries(hostile_text, finite, max_size=3),
        state_reason=optional_text,
        fault_code=optional_text,
        paused_by=optional_text,
        draining=st.booleans(),
        last_seen=aware_times,
    )


@functools.cache
def jobs(job_id: str, machine_id: str, node_id: str) -> st.SearchStrategy[Job]:
    return _with(
        Job,
        id=st.just(job_id),
        order_id=hostile_text,
        part=hostile_text,
        design=st.fixed_dictionaries({"file": hostile_text, "sha256": hostile_text}),
        process=hostile_text,
        material=hostile_text,
        size_mm=st.tuples(non_negative, non_negative, non_negative),
        quantity=count.map(lambda n: n + 1),
        done_qty=count,
        scrap_qty=count,
        priority=st.integers(min_value=1, max_value=5),
        due_at=aware_times,
        status=st.sampled_from(["queued", "running", "paused", "blocked", "done", "failed"]) | hostile_text,
        node_id=st.just(node_id) | st.none(),
        machine_id=st.just(machine_id) | st.none(),
        queue_position=st.none() | count,
        progress=fraction,
        eta=st.none() | aware_times,
        created_at=aware_times,
        customer_region=hostile_text,
    )


@functools.cache
def alerts(alert_id: str, machine_id: str) -> st.SearchStrategy[Alert]:
    return _with(
        Alert,
        id=st.just(alert_id),
        priority=st.sampled_from(["critical", "high", "medium", "low"]) | hostile_text,
        state=st.sampled_from(["active_unacked", "active_acked", "cleared_unacked", "shelved"]) | hostile_text,
        source=st.fixed_dictionaries({"kind": st.just("machine"), "id": st.just(machine_id) | hostile_text}),
        code=hostile_text,
        message=hostile_text,
        raised_at=aware_times,
        updated_at=aware_times,
        count=count.map(lambda n: n + 1),
        acked_by=optional_text,
        ack_note=optional_text,
        shelved_until=st.none() | aware_times,
    )


@functools.cache
def spc_series() -> st.SearchStrategy[SpcSeries]:
    return _with(
        SpcSeries,
        characteristic=hostile_text,
        unit=hostile_text,
        nominal=finite,
        lsl=finite,
        usl=finite,
        lcl=finite,
        ucl=finite,
        values=st.lists(finite, max_size=30),
        violations=st.lists(st.sampled_from(["we1", "we2", "we3", "we4"]) | hostile_text, max_size=3),
        cpk=st.none() | finite,
    )


@functools.cache
def qualities(scope: str, object_id: str, spc: bool = False) -> st.SearchStrategy[Quality]:
    return _with(
        Quality,
        scope=st.just(scope),
        id=st.just(object_id),
        window_h=st.floats(min_value=0.0, exclude_min=True, allow_infinity=False),
        oee=fraction,
        availability=fraction,
        performance=fraction,
        quality_rate=fraction,
        first_pass_yield=fraction,
        scrap_rate=fraction,
        good_count=count,
        scrap_count=count,
        spc=st.lists(spc_series(), max_size=2) if spc else st.just([]),
    )


@functools.cache
def clusters(seq: int = 1) -> st.SearchStrategy[Cluster]:
    return _with(
        Cluster,
        id=hostile_text,
        name=hostile_text,
        region=hostile_text,
        server_time=aware_times,
        seq=st.just(seq),
        instance_id=st.just("inst-hostile"),
    )


@st.composite
def snapshots(draw: st.DrawFn, size: int = 3) -> Snapshot:
    """A whole hostile cluster: ``size`` machines on one node, a job and an alert per machine, quality for each."""
    node = draw(nodes("N-1"))
    machine_list = [draw(machines(f"M-{i}", "N-1")) for i in range(size)]
    job_list = [draw(jobs(f"J-{i}", f"M-{i}", "N-1")) for i in range(size)]
    alert_list = [draw(alerts(f"A-{i}", f"M-{i}")) for i in range(size)]
    quality_list = [draw(qualities("machine", f"M-{i}", spc=i == 0)) for i in range(size)]
    quality_list.append(draw(qualities("node", "N-1")))
    quality_list.append(draw(qualities("cluster", "C-1")))
    return Snapshot(
        seq=1,
        cluster=draw(clusters(1)),
        nodes=[node],
        machines=machine_list,
        jobs=job_list,
        alerts=alert_list,
        quality=quality_list,
    )
