"""SseFramer: the event stream's bytes -> (id, event, data) messages, whatever the chunking and line endings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.api.sse import SseFramer, SseMessage

# A field value: no line breaks (they end lines); may hold colons, spaces, unicode, even a leading space.
VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=12)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[SseMessage]]:
    """A stream of blocks (messages, comments, stray blank lines) and the messages it must give."""
    out: list[str] = []
    expected: list[SseMessage] = []
    last_id = ""
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["message", "message", "usual", "comment", "blank"]))
        if kind == "blank":
            out.append(draw(ENDINGS))
            continue
        if kind == "comment":  # a keep-alive: no message at all
            ending = draw(ENDINGS)  # the same twice: CR then LF would be one CRLF, not a line and a blank line
            out.append(":" + draw(VALUE) + ending + ending)
            continue
        if kind == "usual":  # the shape servers write (the framer's fast path)
            seq, type_, data = str(draw(st.integers(0, 10**6))), "machine.updated", draw(VALUE)
            out.append(f"id: {seq}\nevent: {type_}\ndata: {data}\n\n")
            last_id = seq
            expected.append((seq, type_, data))
            continue
        lines: list[str] = []
        event, data_lines, has_field = "", [], False
        for _ in range(draw(st.integers(1, 4))):
            field = draw(st.sampled_from(["id", "event", "data", "data", "comment", "retry", "unknown"]))
            value = draw(VALUE)
            space = " " if value.startswith(" ") else draw(st.sampled_from(["", " "]))  # one space is dropped
            if field == "comment":
                lines.append(":" + value)
                continue
            lines.append(f"{field}:{space}{value}" if draw(st.booleans()) or value else field)
            given_value = value if lines[-1] != field else ""
            if field == "id":
                has_field = True
                last_id = given_value
            elif field == "event":
                has_field, event = True, given_value
            elif field == "data":
                has_field = True
                data_lines.append(given_value)
        ending = draw(ENDINGS)
        out.append("".join(line + ending for line in lines) + ending)
        if has_field:
            expected.append((last_id, event or "message", "\n".join(data_lines)))
    return "".join(out).encode(), expected


def feed_in_pieces(raw: bytes, cuts: list[int]) -> list[SseMessage]:
    framer = SseFramer()
    got: list[SseMessage] = []
    start = 0
    for cut in sorted(set(cuts)):
        got.extend(framer.feed(raw[start:cut]))
        start = cut
    got.extend(framer.feed(raw[start:]))
    return got


@settings(max_examples=300, deadline=None)
@given(streams(), st.lists(st.integers(0, 400), max_size=8))
def test_any_chunking_and_line_endings_give_the_same_messages(
    stream: tuple[bytes, list[SseMessage]], cuts: list[int]
) -> None:
    raw, expected = stream
    assert feed_in_pieces(raw, [c for c in cuts if c < len(raw)]) == expected


def test_every_split_point_of_a_mixed_stream() -> None:
    raw = (
        b'id: 1\nevent: machine.updated\ndata: {"a": 1}\n\n'
        b": ka\n\n"
        b"id: 2\r\nevent: node.updated\r\ndata: line one\r\ndata: line two\r\n\r\n"
        b"id: 3\revent: x\rdata:no space\r\r"
        b"event: y\ndata: \xc3\xa9t\xc3\xa9\n\n"  # no id: it keeps the last one; UTF-8 split anywhere
        b"id: 4\nevent: z\ndata: unfinished"
    )
    expected = [
        ("1", "machine.updated", '{"a": 1}'),
        ("2", "node.updated", "line one\nline two"),
        ("3", "x", "no space"),
        ("3", "y", "été"),
    ]
    for cut in range(len(raw) + 1):
        assert feed_in_pieces(raw, [cut]) == expected, cut
    for size in (1, 2, 3, 7):
        assert feed_in_pieces(raw, list(range(size, len(raw), size))) == expected, size


def test_keepalives_after_an_id_are_not_messages() -> None:
    framer = SseFramer()
    assert framer.feed(b"id: 9\nevent: a\ndata: 1\n\n") == [("9", "a", "1")]
    assert framer.feed(b": ka\n\n: ka\n\n") == []
    assert framer.feed(b"\n\n\n") == []
    assert framer.feed(b"data: 2\n\n") == [("9", "message", "2")]


def test_an_id_with_nul_is_ignored_and_bad_utf8_is_replaced() -> None:
    framer = SseFramer()
    assert framer.feed(b"id: 5\ndata: a\n\nid: 6\x00\nevent: b\ndata: \xff\n\n") == [
        ("5", "message", "a"),
        ("5", "b", "\ufffd"),
    ]
