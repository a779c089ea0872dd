"""The objection deadline with real calendar dates (§ 37 Abs. 2 SGB X, §§ 64, 66, 84 SGG)."""

from __future__ import annotations

from datetime import date

import pytest

from app.flows.definitions.frist import add_months, deadline, deemed_received, next_working_day


def test_posted_in_2024_counts_as_received_on_the_third_day() -> None:
    assert deemed_received(date(2024, 12, 20)) == date(2024, 12, 23)
    frist = deadline(date(2024, 12, 20), "NW")
    assert frist.received_on == date(2024, 12, 23)
    assert frist.deadline == date(2025, 1, 23)  # a Thursday


def test_posted_from_2025_counts_as_received_on_the_fourth_day() -> None:
    assert deemed_received(date(2024, 12, 31)) == date(2025, 1, 3)
    assert deemed_received(date(2025, 1, 1)) == date(2025, 1, 5)
    frist = deadline(date(2025, 1, 2), "NW")
    assert frist.received_on == date(2025, 1, 6)
    assert frist.deadline == date(2025, 2, 6)


def test_received_on_a_sunday_is_not_moved_only_the_deadline_end_is() -> None:
    # posted Wed 2025-03-12 → received Sun 2025-03-16; one month later is Wed 2025-04-16
    frist = deadline(date(2025, 3, 12), "BE")
    assert frist.received_on == date(2025, 3, 16)
    assert frist.deadline == date(2025, 4, 16)


def test_deadline_on_a_saturday_moves_to_monday() -> None:
    frist = deadline(date(2025, 2, 11), "BE")  # received Sat 2025-02-15 → Sat 2025-03-15
    assert frist.received_on == date(2025, 2, 15)
    assert date(2025, 3, 15).weekday() == 5
    assert frist.deadline == date(2025, 3, 17)


def test_deadline_on_a_sunday_moves_to_monday() -> None:
    frist = deadline(date(2025, 8, 10), "NW")  # received Thu 2025-08-14 → Sun 2025-09-14
    assert date(2025, 9, 14).weekday() == 6
    assert frist.deadline == date(2025, 9, 15)


def test_fronleichnam_is_a_holiday_in_nordrhein_westfalen_but_not_in_berlin() -> None:
    # posted 2025-05-15 → received 2025-05-19 → Thu 2025-06-19 (Fronleichnam)
    in_cologne = deadline(date(2025, 5, 15), "NW")
    in_berlin = deadline(date(2025, 5, 15), "BE")
    assert in_cologne.deadline == date(2025, 6, 20)
    assert in_berlin.deadline == date(2025, 6, 19)


def test_reformationstag_is_a_holiday_in_saxony_but_not_in_berlin() -> None:
    # received Thu 2024-10-31; a one-year deadline ends on Fri 2025-10-31
    in_leipzig = deadline(date(2024, 10, 28), "SN", appeal_notice_ok=False)
    in_berlin = deadline(date(2024, 10, 28), "BE", appeal_notice_ok=False)
    assert in_leipzig.received_on == date(2024, 10, 31)
    assert in_leipzig.deadline == date(2025, 11, 3)
    assert in_berlin.deadline == date(2025, 10, 31)


def test_a_nationwide_holiday_counts_everywhere() -> None:
    frist = deadline(date(2025, 8, 30), "HH")  # received Wed 2025-09-03 → Fri 2025-10-03
    assert frist.deadline == date(2025, 10, 6)
    assert next_working_day(date(2025, 12, 25), "BE") == date(2025, 12, 29)


def test_the_31st_ends_on_the_last_day_of_the_next_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 3, 31), 1) == date(2025, 4, 30)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)
    frist = deadline(date(2025, 1, 27), "NW")  # received 2025-01-31 → Fri 2025-02-28
    assert frist.received_on == date(2025, 1, 31)
    assert frist.deadline == date(2025, 2, 28)


def test_missing_notice_of_appeal_rights_gives_one_year() -> None:
    # posted 2025-03-10 → received 2025-03-14 → Sat 2026-03-14 → Mon 2026-03-16
    frist = deadline(date(2025, 3, 10), "NW", appeal_notice_ok=False)
    assert frist.one_year
    assert frist.deadline == date(2026, 3, 16)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("on", "late"), [(date(2025, 2, 6), False), (date(2025, 2, 7), True), (date(2025, 1, 1), False)]
)
def test_late_means_after_the_last_day(on: date, late: bool) -> None:
    assert deadline(date(2025, 1, 2), "NW").late(on) is late


def test_unknown_land_uses_the_nationwide_holidays() -> None:
    assert next_working_day(date(2025, 6, 19), None) == date(2025, 6, 19)
    assert next_working_day(date(2025, 6, 19), "XX") == date(2025, 6, 19)
    assert next_working_day(date(2025, 10, 3), None) == date(2025, 10, 6)
