"""How the dashboard writes numbers, durations and times for people; pure functions that
the templates and the SVG charts share."""

from __future__ import annotations

from datetime import UTC, date, datetime

from insights.types import format_timestamp

DASH = "\u2014"  # shown where the JSON has null


def number(value: int | float | None) -> str:
    """125000 -> '125,000'; None -> an em dash."""
    if value is None:
        return DASH
    return f"{value:,}"


def compact(value: int | None) -> str:
    """A short count for chart labels: 950, 12.3k, 4.1M."""
    if value is None:
        return DASH
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return str(value)


def percent(value: float | None, places: int = 1) -> str:
    """A value already in percent: 75.3 -> '75.3%'."""
    if value is None:
        return DASH
    return f"{value:.{places}f}%"


def rate(value: float | None) -> str:
    """A 0..1 ratio of 2 decimals as a whole percentage: 0.98 -> '98%'."""
    if value is None:
        return DASH
    return f"{round(value * 100)}%"


def signed(value: int | float | None, places: int | None = None) -> str:
    """A change with its sign: +150, -20, +3.66."""
    if value is None:
        return DASH
    text = f"{abs(value):,}" if places is None else f"{abs(value):,.{places}f}"
    return ("-" if value < 0 else "+") + text


def duration(seconds: int | None) -> str:
    """145 -> '2m 25s'; 3900 -> '1h 05m'."""
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def iso(value: datetime | date | None) -> str:
    """The contract's wire form, for <time datetime> and data-* attributes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_timestamp(value)
    return value.isoformat()


def when(value: datetime | None) -> str:
    """A timestamp for people: '2024-01-15 15:00 UTC'."""
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def when_short(value: datetime | None) -> str:
    """A timestamp where room is short (a matrix cell): 'Jan 15 15:00' (UTC)."""
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%b %d %H:%M")


def span(seconds: int | float | None) -> str:
    """A stretch of time in its two largest units, for sentences: '45 s', '12 min',
    '4 h', '3 h 20 min', '2 d 4 h' (rounded down: a '12 h ago' is at least 12 hours)."""
    if seconds is None:
        return DASH
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    for big, big_unit, small, small_unit in (
        (days, "d", hours, "h"),
        (hours, "h", minutes, "min"),
        (minutes, "min", 0, ""),
    ):
        if big:
            return f"{big} {big_unit}" + (f" {small} {small_unit}" if small else "")
    return f"{secs} s"


# The health score's statuses (contract 8.1) as a symbol and a word: the symbol fills with
# the band, so neither colour nor symbol is ever the only signal.
HEALTH_BANDS = {
    "healthy": ("\u25cf", "Healthy"),
    "warning": ("\u25d5", "Warning"),
    "degraded": ("\u25d1", "Degraded"),
    "critical": ("\u25d4", "Critical"),
    "no_data": ("\u2013", "No data"),
    "paused": ("\u2016", "Paused"),
}
