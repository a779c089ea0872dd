"""The objection deadline (Widerspruchsfrist): pure date arithmetic, no I/O.

- A decision sent by post counts as received (bekannt gegeben) on the 4th day after
  posting; for decisions posted before 1 Jan 2025 on the 3rd day (§ 37 Abs. 2 SGB X as
  amended by the Postrechtsmodernisierungsgesetz). The fiction itself does not move to a
  working day; only the end of a deadline does.
- The objection deadline ends one month after that (§ 84 SGG), on the day with the same
  number, or on the last day of the month when that day does not exist (§ 64 Abs. 2 SGG).
- Without a correct notice of appeal rights (Rechtsbehelfsbelehrung) it is one year
  (§ 66 Abs. 2 SGG).
- A deadline ending on a Saturday, Sunday or public holiday ends on the next working day
  (§ 64 Abs. 3 SGG); holidays are those of the Land of the Jobcenter.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

#: From this posting date on, a decision counts as received on the 4th day, before on the 3rd.
FOUR_DAY_RULE_FROM = date(2025, 1, 1)
BERLIN = ZoneInfo("Europe/Berlin")


def today() -> date:
    """Today in Germany (the deadline is a German calendar day, not a UTC one)."""
    return datetime.now(BERLIN).date()


def deemed_received(posted_on: date) -> date:
    """The day a posted decision counts as received (Bekanntgabefiktion)."""
    days = 4 if posted_on >= FOUR_DAY_RULE_FROM else 3
    return posted_on + timedelta(days=days)


def add_months(start: date, months: int) -> date:
    """Same day number ``months`` later, or the last day of that month if it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=64)
def _holidays(land: str | None, year: int) -> holidays.HolidayBase:
    known = holidays.country_holidays("DE").subdivisions
    subdiv = land if land in known else None  # unknown Land: the nationwide holidays only
    return holidays.country_holidays("DE", subdiv=subdiv, years=year)


def is_working_day(day: date, land: str | None) -> bool:
    return day.weekday() < 5 and day not in _holidays(land, day.year)


def next_working_day(day: date, land: str | None) -> date:
    """``day`` itself if it is a working day in ``land``, else the next one."""
    while not is_working_day(day, land):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Frist:
    posted_on: date
    received_on: date
    #: the last day an objection is in time
    deadline: date
    #: one year instead of one month: the notice of appeal rights was missing or wrong
    one_year: bool
    #: the posting date was not known: the decision's own date was used instead
    estimated: bool

    def late(self, on: date) -> bool:
        return on > self.deadline


def deadline(
    posted_on: date, land: str | None, *, appeal_notice_ok: bool = True, estimated: bool = False
) -> Frist:
    """The objection deadline of a decision posted on ``posted_on`` by a Jobcenter in ``land``."""
    received = deemed_received(posted_on)
    end = add_months(received, 1 if appeal_notice_ok else 12)
    return Frist(
        posted_on=posted_on,
        received_on=received,
        deadline=next_working_day(end, land),
        one_year=not appeal_notice_ok,
        estimated=estimated,
    )
