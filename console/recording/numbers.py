"""Telemetry values written as the change from the machine's last value, exactly.

A telemetry value is a float the server wrote with a few decimals (``254.9``, ``0.28``). Its ``repr`` reads back
exactly, and so does the same decimal number with more trailing zeros; so each value is kept, per machine and name,
as an integer at a number of decimals that only grows (``254.9`` is 2549 at 1), and written as the difference from
the last one (``+2`` for ``255.1``; nothing for the same value, a quarter of them on the simulator), which zstd
packs much tighter than the digits themselves (~26 % fewer bytes for the telemetry of a busy cluster). A value that
needs more decimals than its name had, that ``repr`` writes with an exponent, or ``-0.0`` is written whole
(``=1e-07``), and starts the count again. Both sides keep the same state, per segment (a segment is read from its
start).
"""

from __future__ import annotations

from math import copysign

__all__ = ["MAX_DECIMALS", "Slots", "decode_values", "encode_values"]

MAX_DECIMALS = 9
"""Values with more decimals than this are always written whole."""
_POW10 = [10**n for n in range(MAX_DECIMALS + 1)]
_LIMIT = 1e15
"""Beyond this a value times 10**decimals is no longer an exact integer in a float: written whole."""

Slots = list[list[int] | None]
"""Per value, in the order of the machine's names: ``[the last value as an integer, its decimals]``, or ``None``."""


def _slot(text: str) -> list[int] | None:
    """``repr`` text as ``[integer, decimals]``, or ``None`` when it is written whole."""
    head, dot, frac = text.partition(".")
    if not dot or len(frac) > MAX_DECIMALS or not frac.isdigit() or text == "-0.0":
        return None
    if head.startswith("-"):
        return [-int(head[1:] + frac), len(frac)]
    return [int(head + frac), len(frac)]


def encode_values(slots: Slots, values: dict[str, float]) -> str:
    """One telemetry event's values, comma-separated, in their order; ``slots`` (as many as values) is updated.

    The common case costs no text: the value times 10**decimals, rounded, divided back (Python's int division is
    correctly rounded, as ``float()`` of the decimal text is) must give the value itself, and then it is exactly
    that integer at those decimals; else it is written whole."""
    tokens: list[str] = []
    append = tokens.append
    for index, value in enumerate(values.values()):
        slot = slots[index]
        if slot is not None and -_LIMIT < value < _LIMIT:
            power = _POW10[slot[1]]
            scaled = round(value * power)
            if scaled / power == value and (scaled or copysign(1.0, value) > 0):
                change = scaled - slot[0]
                if change:
                    slot[0] = scaled
                    append(str(change))
                else:
                    append("")
                continue
        text = repr(value)
        slots[index] = _slot(text)
        append("=" + text)
    return ",".join(tokens)


def decode_values(slots: Slots, names: list[str], raw: bytes) -> dict[str, float]:
    """The values of one line by name, in the order of ``names``; ``slots`` is updated. Raises ``ValueError`` or
    ``TypeError`` when the line does not read back."""
    tokens = raw.split(b",") if raw or names else []  # one value that did not change is an empty line
    if len(tokens) != len(names):
        raise ValueError("telemetry values do not match their names")
    values: dict[str, float] = {}
    for index, token in enumerate(tokens):
        if token and token[0] == 61:  # "=": written whole
            text = token[1:].decode()
            slots[index] = _slot(text)
            values[names[index]] = float(text)
            continue
        slot = slots[index]
        if slot is None:
            raise ValueError("a change to a value never written whole")
        if token:
            slot[0] += int(token)
        values[names[index]] = slot[0] / _POW10[slot[1]]
    return values
