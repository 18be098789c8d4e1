"""Small, pure formatting helpers shared by screens: ages, durations, percentages, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def duration(seconds: float) -> str:
    """``42s``, ``5m``, ``3h12m``, ``2d4h``: short enough for a table cell."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def age(then: datetime | None, now: datetime | None) -> str:
    """How long ago ``then`` was, on the server's clock; ``-`` when unknown."""
    if then is None or now is None:
        return "-"
    delta = (now - then).total_seconds()
    if delta < 0:
        return "in " + duration(-delta)
    return duration(delta)


def until(then: datetime | None, now: datetime | None) -> str:
    """How long until ``then``: ``in 5m``, or ``5m ago`` when it has passed."""
    if then is None or now is None:
        return "-"
    delta = (then - now).total_seconds()
    if delta >= 0:
        return "in " + duration(delta)
    return duration(-delta) + " ago"


UTC_MIN = datetime.min.replace(tzinfo=UTC)
UTC_MAX = datetime.max.replace(tzinfo=UTC)


def in_utc(value: datetime) -> datetime:
    """``value`` in UTC, for any aware time the models accept: ``0001-01-01T00:00+05:00`` is before the first UTC
    instant Python can hold and ``astimezone`` raises ``OverflowError``; such a time is pinned to the calendar's end."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        offset = value.utcoffset()
        return UTC_MIN if offset is not None and offset > timedelta(0) else UTC_MAX


def shifted(value: datetime, delta: timedelta) -> datetime:
    """``value + delta``, pinned to the calendar's ends instead of raising ``OverflowError`` (a server may say it
    is 9999-12-31T23:59:59Z, and "shelve for 8 hours" must still work)."""
    try:
        return value + delta
    except OverflowError:
        return UTC_MAX if delta > timedelta(0) else UTC_MIN


def clock(value: datetime | None) -> str:
    """``HH:MM`` in UTC, the way shift reports write times."""
    if value is None:
        return "--:--"
    return in_utc(value).strftime("%H:%M")


def clock_s(value: datetime | None) -> str:
    """``HH:MM:SS`` in UTC: for logs, where the order within a minute matters."""
    if value is None:
        return "--:--:--"
    return in_utc(value).strftime("%H:%M:%S")


def percent(value: float | None, digits: int = 0) -> str:
    """``87%``; ``-`` when unknown."""
    if value is None:
        return "-"
    return f"{value * 100:.{digits}f}%"


def progress_bar(value: float | None, width: int) -> str:
    """A text progress bar of ``width`` cells with eighth blocks: ``█████▍   ``."""
    if value is None or width <= 0:
        return " " * max(width, 0)
    value = min(max(value, 0.0), 1.0)
    eighths = round(value * width * 8)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest] if rest and full < width else ""
    return ("█" * full + partial).ljust(width)
