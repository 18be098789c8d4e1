"""Tests for console.audit_log: JSON lines, rotation, secrets kept out, and reading the tail across files."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.api.models import SourceRef
from console.audit_log import RECORD_FIELDS, REDACTED, AuditLog, default_audit_path, redact

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.abcDEF123"
FIXED = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def all_text(directory: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(directory.iterdir()))


def attempt(log: AuditLog, key: str = "k-1", **kw: Any) -> None:
    args: dict[str, Any] = {
        "operator": "alice",
        "role": "operator",
        "source": "cluster",
        "action": "machine.pause",
        "target": {"kind": "machine", "id": "M-07"},
        "reason": "bed not clear",
        "idempotency_key": key,
    }
    args.update(kw)
    log.attempt(**args)


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTORY_CONSOLE_LOG_DIR", str(tmp_path))
    assert default_audit_path() == tmp_path / "audit.jsonl"
    assert AuditLog().path == tmp_path / "audit.jsonl"
    monkeypatch.delenv("FACTORY_CONSOLE_LOG_DIR")
    assert "factory-console" in str(default_audit_path())


def test_attempt_and_outcome_are_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "audit.jsonl"
    log = AuditLog(path, clock=lambda: FIXED)
    attempt(log)
    log.outcome(outcome="applied", idempotency_key="k-1", status=200, command_id="C-1", audit_id="AU-9", detail=None)
    first, second = lines(path)
    assert list(first)[: len(RECORD_FIELDS)] == list(RECORD_FIELDS)
    assert first == {
        "at": "2026-11-25T12:00:00.123Z",
        "operator": "alice",
        "role": "operator",
        "source": "cluster",
        "action": "machine.pause",
        "target": {"kind": "machine", "id": "M-07"},
        "reason": "bed not clear",
        "idempotency_key": "k-1",
        "phase": "attempt",
        "outcome": None,
        "status": None,
        "code": None,
        "detail": None,
        "command_id": None,
        "audit_id": None,
    }
    # the outcome copies the attempt's context when the caller leaves it out
    assert second["phase"] == "outcome" and second["outcome"] == "applied"
    assert second["operator"] == "alice" and second["action"] == "machine.pause"
    assert second["target"] == {"kind": "machine", "id": "M-07"}
    assert (second["status"], second["command_id"], second["audit_id"]) == (200, "C-1", "AU-9")
    assert log.last_error is None
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_outcome_with_explicit_fields_and_other_target_forms(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.attempt(action="job.cancel", target=SourceRef(kind="job", id="J-1"), idempotency_key="x")
    log.outcome(
        outcome="rejected",
        action="job.cancel",
        target=("job", "J-1"),
        idempotency_key="x",
        status=409,
        code="job_finished",
        detail="job J-1 is completed",
        source="agent-1",
    )
    log.outcome(outcome="not_attempted", action="node.pause", target={"kind": "node", "id": "N-1"})
    a, b, c = lines(tmp_path / "a.jsonl")
    assert a["target"] == b["target"] == {"kind": "job", "id": "J-1"}
    assert (b["outcome"], b["status"], b["code"], b["source"]) == ("rejected", 409, "job_finished", "agent-1")
    assert c["idempotency_key"] is None and c["operator"] is None


def test_extra_fields_are_kept_after_redaction(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    attempt(log, body={"machine_id": "M-2", "restart": True, "token": TOKEN, "nested": {"Authorization": "x"}})
    (record,) = lines(tmp_path / "a.jsonl")
    assert record["body"] == {"machine_id": "M-2", "restart": True, "nested": {}}


def test_secrets_never_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", secrets=[TOKEN])
    attempt(log, reason=f"as asked, token={TOKEN}", headers={"Authorization": f"Bearer {TOKEN}"}, password="pw-123")
    log.outcome(outcome="failed", idempotency_key="k-1", detail=f"401 for Authorization: Bearer {TOKEN} (retry)")
    log.add_secret("zz-other-secret-zz")
    log.outcome(outcome="failed", idempotency_key="k-2", detail="server said zz-other-secret-zz", api_key="k")
    text = all_text(tmp_path)
    for needle in (TOKEN, "pw-123", "zz-other-secret-zz", 'Authorization":', "password", "api_key"):
        assert needle not in text
    records = lines(tmp_path / "audit.jsonl")
    assert records[0]["reason"] == "as asked, token=[redacted]"
    assert "[redacted]" in records[1]["detail"] and "(retry)" in records[1]["detail"]
    assert records[2]["detail"] == "server said [redacted]"


def test_redact_helper() -> None:
    assert redact({"Token": 1, "x": ["Bearer abc.def", {"secret_key": 2}]}) == {"x": ["Bearer [redacted]", {}]}
    assert redact("password: 'hunter 2' ok") == "password: [redacted] ok"
    assert redact("x" * 5000).endswith("…")
    assert len(redact("x" * 5000)) == 2000


def test_rotation_happens_and_keeps_backup_count(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=2000, backup_count=3)
    for i in range(100):
        attempt(log, key=f"k-{i}")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 2000
        for line in p.read_text().splitlines():
            json.loads(line)  # every line whole
    newest = lines(path)[-1]
    assert newest["idempotency_key"] == "k-99"


def test_recent_reads_the_tail_across_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=1500, backup_count=5)
    for i in range(30):
        attempt(log, key=f"k-{i}")
    assert (tmp_path / "audit.jsonl.2").exists()
    current = len(lines(path))
    assert current < 10
    got = log.recent(10)
    assert [r["idempotency_key"] for r in got] == [f"k-{i}" for i in range(20, 30)]
    assert log.recent(0) == []
    everything = log.recent(10_000)
    assert [r["idempotency_key"] for r in everything] == sorted(
        (r["idempotency_key"] for r in everything), key=lambda k: int(k.split("-")[1])
    )
    assert everything[-1]["idempotency_key"] == "k-29"


def test_recent_skips_torn_lines_and_reads_large_files(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=0)  # no rotation
    for i in range(3000):
        attempt(log, key=f"k-{i}", reason="r" * 40)
    with path.open("a") as handle:
        handle.write('{"torn": \n[1, 2]\n')
    attempt(log, key="last")
    got = log.recent(3)
    assert [r["idempotency_key"] for r in got] == ["k-2998", "k-2999", "last"]
    assert len(log.recent(5000)) == 3001


def test_recent_on_missing_log(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.jsonl").recent(5) == []


def test_write_failure_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    log = AuditLog(blocker / "audit.jsonl")
    attempt(log)
    assert log.last_error is not None and "audit log" in log.last_error


def test_threads_do_not_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=20_000, backup_count=50)

    def work(t: int) -> None:
        for i in range(100):
            attempt(log, key=f"t{t}-{i}", reason="x" * 100)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.recent(1000)) == 400


# --- secrets registered by the app, and server text that must stay inert in a terminal ------------------------------

_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def assert_inert(raw: bytes) -> None:
    """What ``cat audit.jsonl`` sends to a terminal: valid UTF-8, JSON lines, and nothing a terminal acts on."""
    text = raw.decode("utf-8")  # strict: no lone surrogates, no invalid bytes
    assert all(byte >= 0x20 or byte == 0x0A for byte in raw), "a C0 control byte (or ESC) in the file"
    assert b"\x1b" not in raw and b"\x7f" not in raw
    for char in text:
        assert not 0x80 <= ord(char) <= 0x9F, f"C1 control U+{ord(char):04X} in the file"
        assert ord(char) not in _BIDI, f"bidi control U+{ord(char):04X} in the file"
        assert ord(char) not in (0x2028, 0x2029, 0x061C, 0x200E, 0x200F), f"U+{ord(char):04X} in the file"
    for line in text.splitlines():
        assert isinstance(json.loads(line), dict)


def test_a_registered_secret_is_redacted_everywhere_it_is_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.add_secret(TOKEN)
    log.add_secret("tok")  # too short to redact safely: ignored
    attempt(
        log,
        reason=f"pasted it: {TOKEN}! tok",
        body={
            "note": f"see {TOKEN}",
            "nested": {"deeper": [f"x{TOKEN}y", {"k": (TOKEN, 1)}]},
            f"key-{TOKEN}": "the key holds it",
        },
        target={"kind": "machine", "id": TOKEN},
    )
    log.outcome(outcome="rejected", idempotency_key="k-1", detail=f"server said {TOKEN}", code=TOKEN)
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert TOKEN not in text
    assert text.count(REDACTED) >= 8
    first, second = lines(tmp_path / "audit.jsonl")
    assert first["reason"] == f"pasted it: {REDACTED}! tok"  # "tok" is too short to register: ignored
    assert first["body"]["nested"]["deeper"] == [f"x{REDACTED}y", {"k": [REDACTED, 1]}]
    assert first["body"][f"key-{REDACTED}"] == "the key holds it"
    assert second["detail"] == f"server said {REDACTED}" and second["code"] == REDACTED


def test_a_secret_from_the_environment_with_undecodable_bytes_is_redacted_too(tmp_path: Path) -> None:
    secret = "abc\udcff\udcfedef"  # os.environ decodes invalid bytes to lone surrogates (surrogateescape)
    log = AuditLog(tmp_path / "audit.jsonl")
    log.add_secret(secret)
    attempt(log, reason=f"[{secret}]")
    raw = (tmp_path / "audit.jsonl").read_bytes()
    assert_inert(raw)
    assert lines(tmp_path / "audit.jsonl")[0]["reason"] == f"[{REDACTED}]"


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b]52;c;ZWNobyBwd25lZA==\x07",  # OSC 52: write the operator's clipboard
        "\x9b31m\x9d0;title\x9c",  # 8-bit CSI, OSC, ST
        "\x1b[2J\x1b[H",
        "ok\u202egnp.exe\u2066\u2069",
        "\x7f\x00\x08\r",
        "lone \ud800 and \udfff surrogates",
        "line\u2028sep\u2029para\u0085nel",
    ],
)
def test_server_text_is_written_inert(tmp_path: Path, hostile: str) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    attempt(log, reason=hostile, body={hostile: [hostile, {"x": hostile}]})
    log.outcome(outcome="failed", idempotency_key="k-1", detail=hostile, code=hostile)
    assert log.last_error is None
    raw = (tmp_path / "audit.jsonl").read_bytes()
    assert_inert(raw)
    first, second = lines(tmp_path / "audit.jsonl")
    expected = hostile.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd")
    assert first["reason"] == expected and second["detail"] == expected
    assert first["body"] == {expected: [expected, {"x": expected}]}


def test_non_finite_numbers_keep_the_line_valid_json(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    attempt(log, body={"x": float("nan"), "y": float("inf")})
    (line,) = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))["body"] == {
        "x": "nan",
        "y": "inf",
    }


_ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=80)
"""Every code point, surrogates and controls included."""


def _as_read_back(text: str) -> str:
    return redact(text).translate({code: "\ufffd" for code in range(0xD800, 0xE000)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=_ANY_TEXT, detail=_ANY_TEXT, key=_ANY_TEXT, secret=st.text(min_size=4, max_size=12))
def test_any_text_reads_back_equal_and_the_file_stays_inert(
    tmp_path: Path, reason: str, detail: str, key: str, secret: str
) -> None:
    path = tmp_path / "prop" / "audit.jsonl"
    path.unlink(missing_ok=True)
    log = AuditLog(path)
    log.add_secret(secret)
    attempt(log, reason=reason + secret, body={"k": key, "l": [detail]})  # keys shorter than any secret
    log.outcome(outcome="failed", idempotency_key="k-1", detail=secret + detail)
    assert log.last_error is None
    assert_inert(path.read_bytes())
    first, second = log.recent(2)
    assert first["reason"] == _as_read_back((reason + secret).replace(secret, REDACTED))
    assert first["body"] == {
        "k": _as_read_back(key.replace(secret, REDACTED)),
        "l": [_as_read_back(detail.replace(secret, REDACTED))],
    }
    assert second["detail"] == _as_read_back((secret + detail).replace(secret, REDACTED))
    for value in (first["reason"], first["body"]["k"], first["body"]["l"][0], second["detail"]):
        assert all(secret not in part for part in value.split(REDACTED))  # no whole secret outside a [redacted]


def test_a_value_that_cannot_be_turned_into_text_does_not_raise(tmp_path: Path) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    log = AuditLog(tmp_path / "audit.jsonl")
    attempt(log, body=Hostile())
    assert log.last_error is not None and "RuntimeError" in log.last_error
    attempt(log, key="k-2")
    assert log.last_error is None and len(lines(tmp_path / "audit.jsonl")) == 1
