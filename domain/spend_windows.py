"""Calendar windows for spend: the UTC day and month a timestamp falls in, and when they end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class SpendWindow:
    """One calendar window, e.g. (day, "2025-03-14") or (month, "2025-03")."""

    period: Period
    label: str


def utc_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC)


def day_of(epoch_s: float) -> str:
    return utc_datetime(epoch_s).date().isoformat()


def windows_at(epoch_s: float) -> tuple[SpendWindow, SpendWindow]:
    """The day and the month that contain `epoch_s` (UTC)."""
    return _windows_of_day(int(epoch_s // _SECONDS_PER_DAY))


_SECONDS_PER_DAY = 86_400  # every UTC day in epoch time: POSIX time has no leap seconds


@lru_cache(maxsize=4)  # asked on every call (admission and settlement); the day rarely changes
def _windows_of_day(day: int) -> tuple[SpendWindow, SpendWindow]:
    moment = utc_datetime(day * _SECONDS_PER_DAY)
    return (
        SpendWindow(Period.DAY, moment.date().isoformat()),
        SpendWindow(Period.MONTH, f"{moment.year:04d}-{moment.month:02d}"),
    )


def seconds_until_end(period: Period, epoch_s: float) -> float:
    """How long until the current window of `period` closes and a new one starts from zero."""
    moment = utc_datetime(epoch_s)
    start_of_day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        end = start_of_day + timedelta(days=1)
    else:
        first = start_of_day.replace(day=1)
        end = (
            first.replace(year=first.year + 1, month=1)
            if first.month == 12
            else first.replace(month=first.month + 1)
        )
    return (end - moment).total_seconds()


def parse_day(text: str) -> date:
    """An ISO date `YYYY-MM-DD`; ValueError otherwise."""
    if len(text) != 10:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)


def days_between(first: date, last: date) -> list[str]:
    """Every day from `first` to `last`, both included, as ISO labels."""
    count = (last - first).days + 1
    return [(first + timedelta(days=offset)).isoformat() for offset in range(max(count, 0))]
