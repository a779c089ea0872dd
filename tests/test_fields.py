"""Field types: parsing raw form input into JSON values, and the errors a user sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest
from fixtures_flows import COLOURS, PEOPLE_FLOW, Fmt
from werkzeug.datastructures import MultiDict

from app.flows.fields import CHOOSE, PATTERNS, REGISTRY, REQUIRED, TOO_LONG, ParseContext
from app.flows.model import Field, Issue, Option, Scope

TODAY = date(2026, 6, 15)


def parse(
    f: Field,
    form: Mapping[str, Any] | list[tuple[str, str]] | None = None,
    *,
    scope: Scope | None = None,
    files: Mapping[str, Any] | None = None,
    today: date = TODAY,
) -> tuple[Any, Issue | None]:
    ctx = ParseContext(today, scope or Scope({}), files or {})
    return REGISTRY[f.type].parse(f, MultiDict(form or {}), ctx)


def ok(f: Field, form: Mapping[str, Any] | list[tuple[str, str]], **kw: Any) -> Any:
    value, issue = parse(f, form, **kw)
    assert issue is None, issue
    return value


def error(f: Field, form: Mapping[str, Any] | list[tuple[str, str]] | None, **kw: Any) -> Issue:
    value, issue = parse(f, form, **kw)
    assert issue is not None, f"accepted {value!r}"
    assert value is None
    assert issue.field == f.id
    return issue


def show(f: Field, value: Any, scope: Scope | None = None) -> str:
    return REGISTRY[f.type].display(f, value, Fmt(), scope or Scope({}))


def test_every_type_in_the_architecture_is_registered() -> None:
    assert {
        "text",
        "textarea",
        "number",
        "money",
        "date",
        "yesno",
        "radios",
        "checkboxes",
        "select",
        "email",
        "phone",
        "iban",
        "postcode",
        "person",
        "file",
    } <= set(REGISTRY)


# -- text -----------------------------------------------------------------------------------

TEXT = Field("name", "text", "Name")
KUNDENNUMMER = Field("kdnr", "text", "Kundennummer", params={"pattern": "kundennummer"})


def test_text_collapses_white_space() -> None:
    assert ok(TEXT, {"name": "  Erika \t  Maria   Mustermann "}) == "Erika Maria Mustermann"


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_text_required_when_blank(raw: str) -> None:
    assert error(TEXT, {"name": raw}).message == REQUIRED


def test_text_missing_from_form_is_required() -> None:
    assert error(TEXT, {}).message == REQUIRED


def test_text_optional_blank_is_none() -> None:
    assert parse(Field("x", "text", "X", optional=True), {"x": "  "}) == (None, None)


def test_text_max_length_default_200_and_configurable() -> None:
    assert ok(TEXT, {"name": "a" * 200}) == "a" * 200
    issue = error(TEXT, {"name": "a" * 201})
    assert issue.message == TOO_LONG and issue.params == {"max": 200}
    short = Field("s", "text", "S", params={"max_length": 5})
    assert ok(short, {"s": "abcde"}) == "abcde"
    assert error(short, {"s": "abcdef"}).params == {"max": 5}


def test_text_length_counts_after_collapsing_spaces() -> None:
    short = Field("s", "text", "S", params={"max_length": 5})
    assert ok(short, {"s": "  a   b  "}) == "a b"


@pytest.mark.parametrize("raw", ["123D456789", "123d456789", " 123 D 456789 ", "123 d 456 789"])
def test_kundennummer_pattern_accepts_and_normalises(raw: str) -> None:
    assert ok(KUNDENNUMMER, {"kdnr": raw}) == "123D456789"


@pytest.mark.parametrize(
    "raw", ["123456789", "12D3456789", "123D45678", "123D4567890", "ABCD456789", "123-D456789"]
)
def test_kundennummer_pattern_rejects(raw: str) -> None:
    assert error(KUNDENNUMMER, {"kdnr": raw}).message == PATTERNS["kundennummer"][1]


def test_bg_nummer_pattern() -> None:
    bg = Field("bg", "text", "BG", params={"pattern": "bg_nummer"})
    assert ok(bg, {"bg": "12345bg1234567"}) == "12345BG1234567"
    assert error(bg, {"bg": "12345BG123"}).message == PATTERNS["bg_nummer"][1]


# -- textarea -------------------------------------------------------------------------------

AREA = Field("text", "textarea", "Text")


def test_textarea_keeps_line_breaks_and_normalises_crlf() -> None:
    assert ok(AREA, {"text": "Zeile 1\r\nZeile  2\r\n"}) == "Zeile 1\nZeile  2"


def test_textarea_limits() -> None:
    assert ok(AREA, {"text": "x" * 2000}) == "x" * 2000
    assert error(AREA, {"text": "x" * 2001}).params == {"max": 2000}
    assert error(
        Field("t", "textarea", "T", params={"max_length": 10}), {"t": "x" * 11}
    ).params == {"max": 10}
    assert error(AREA, {"text": " "}).message == REQUIRED


# -- number ---------------------------------------------------------------------------------

HOURS = Field("stunden", "number", "Stunden", params={"min": 1, "max": 80})


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("80", 80), (" 40 ", 40), ("1 0", 10)])
def test_number_within_bounds(raw: str, value: int) -> None:
    assert ok(HOURS, {"stunden": raw}) == value


@pytest.mark.parametrize("raw", ["0", "81", "-3"])
def test_number_out_of_bounds(raw: str) -> None:
    issue = error(HOURS, {"stunden": raw})
    assert issue.params == {"min": 1, "max": 80}


@pytest.mark.parametrize("raw", ["drei", "3,5", "3.5", "1e3", "1234567890"])
def test_number_not_a_whole_number(raw: str) -> None:
    assert "ganze Zahl" in error(HOURS, {"stunden": raw}).message


def test_number_default_bounds_refuse_negative() -> None:
    assert error(Field("n", "number", "N"), {"n": "-1"}).params == {"min": 0, "max": 10**9}


# -- money ----------------------------------------------------------------------------------

MONEY = Field("betrag", "money", "Betrag")


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("1.234,56", 123456),
        ("450", 45000),
        ("450,5", 45050),
        ("450,05", 45005),
        ("12.50", 1250),
        ("0,99", 99),
        ("1 234,56", 123456),
        ("1\u00a0234,56", 123456),
        ("123.456", 12345600),
        ("1.000.000", 100000000),
        ("450 €", 45000),
        ("€ 450,00", 45000),
        ("450 EUR", 45000),
        ("0", 0),
    ],
)
def test_money_german_formats_give_int_cents(raw: str, cents: int) -> None:
    value = ok(MONEY, {"betrag": raw})
    assert value == cents
    assert type(value) is int  # never a float


@pytest.mark.parametrize(
    "raw", ["abc", "-5", "-5,00", "4,567", "12.5", "1.23.4", "1,2,3", "12,50 $", "1e3"]
)
def test_money_rejects(raw: str) -> None:
    assert "Betrag in Euro" in error(MONEY, {"betrag": raw}).message


def test_money_upper_limit() -> None:
    assert ok(MONEY, {"betrag": "1.000.000"}) == 100_000_000
    assert "zu hoch" in error(MONEY, {"betrag": "1.000.000,01"}).message
    capped = Field("m", "money", "M", params={"max_cents": 500})
    assert "zu hoch" in error(capped, {"m": "5,01"}).message


def test_money_round_trips_for_redisplay_and_review() -> None:
    kind = REGISTRY["money"]
    assert kind.raw_from_value(MONEY, 45005) == "450,05"
    assert kind.raw_from_value(MONEY, None) == ""
    assert ok(MONEY, {"betrag": kind.raw_from_value(MONEY, 123456)}) == 123456
    assert show(MONEY, 123456) == "1234,56 €"


# -- date -----------------------------------------------------------------------------------


def _date(day: str, month: str, year: str, name: str = "d") -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


DATE = Field("d", "date", "Datum")


def test_date_from_three_parts() -> None:
    assert ok(DATE, _date("1", "3", "2027")) == "2027-03-01"
    assert ok(DATE, _date(" 09 ", "03", "2027")) == "2027-03-09"


def test_date_empty_required_and_optional() -> None:
    assert "Datum ein" in error(DATE, _date("", "", "")).message
    assert "Datum ein" in error(DATE, {}).message
    assert parse(Field("d", "date", "D", optional=True), _date("", "", "")) == (None, None)


@pytest.mark.parametrize(
    "parts",
    [
        ("31", "2", "2026"),
        ("30", "2", "2028"),
        ("0", "1", "2026"),
        ("1", "13", "2026"),
        ("29", "2", "2027"),
    ],
)
def test_date_that_does_not_exist(parts: tuple[str, str, str]) -> None:
    assert "gibt es nicht" in error(DATE, _date(*parts)).message


def test_date_leap_day_exists() -> None:
    assert ok(DATE, _date("29", "2", "2028")) == "2028-02-29"


@pytest.mark.parametrize(
    "parts",
    [
        ("1", "3", "26"),
        ("1", "3", "026"),
        ("1", "", "2026"),
        ("erster", "3", "2026"),
        ("1.", "3", "2026"),
        ("1", "3", "20266"),
    ],
)
def test_date_parts_must_be_numbers_and_four_digit_year(parts: tuple[str, str, str]) -> None:
    assert "4 Ziffern" in error(DATE, _date(*parts)).message


def test_date_year_plausible() -> None:
    assert "Jahr" in error(DATE, _date("1", "1", "1899")).message
    assert "Jahr" in error(DATE, _date("1", "1", str(TODAY.year + 6))).message
    assert ok(DATE, _date("1", "1", str(TODAY.year + 5))) == f"{TODAY.year + 5}-01-01"


@pytest.mark.parametrize(
    ("rule", "yesterday", "today", "tomorrow"),
    [
        ("past", True, False, False),
        ("not_future", True, True, False),
        ("future", False, False, True),
        ("not_past", False, True, True),
    ],
)
def test_date_rules(rule: str, yesterday: bool, today: bool, tomorrow: bool) -> None:
    f = Field("d", "date", "D", params={"rule": rule})
    for day, accepted in ((14, yesterday), (15, today), (16, tomorrow)):
        value, issue = parse(f, _date(str(day), "6", "2026"))
        assert (issue is None) is accepted, (rule, day, issue)
        if accepted:
            assert value == f"2026-06-{day}"


def test_date_raw_keeps_what_was_typed_and_round_trips() -> None:
    kind = REGISTRY["date"]
    assert kind.raw_from_form(DATE, MultiDict(_date(" 31", "2", "26"))) == {
        "day": "31",
        "month": "2",
        "year": "26",
    }
    assert kind.raw_from_value(DATE, "2027-03-01") == {"day": "1", "month": "3", "year": "2027"}
    assert kind.raw_from_value(DATE, None) == {"day": "", "month": "", "year": ""}
    assert show(DATE, "2027-03-01") == "day:2027-03-01"


# -- yes / no -------------------------------------------------------------------------------

YESNO = Field("j", "yesno", "Ja oder nein")


def test_yesno() -> None:
    assert ok(YESNO, {"j": "ja"}) is True
    assert ok(YESNO, {"j": "nein"}) is False
    assert error(YESNO, {}).message == CHOOSE
    assert error(YESNO, {"j": "vielleicht"}).message == CHOOSE
    optional = Field("j", "yesno", "J", optional=True)
    assert parse(optional, {}) == (None, None)
    assert error(optional, {"j": "vielleicht"}).message == CHOOSE
    assert show(YESNO, True) == "Ja" and show(YESNO, False) == "Nein"
    assert REGISTRY["yesno"].raw_from_value(YESNO, False) == "nein"


# -- radios and select ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["radios", "select"])
def test_choice_accepts_only_offered_values(kind: str) -> None:
    f = Field("farbe", kind, "Farbe", options=COLOURS)
    assert ok(f, {"farbe": "gruen"}) == "gruen"
    assert error(f, {"farbe": "lila"}).message == CHOOSE
    assert error(f, {"farbe": "Grün"}).message == CHOOSE  # the label is not a value
    assert error(f, {}).message == CHOOSE
    assert show(f, "gruen") == "Grün"
    assert show(f, "lila") == ""


def test_optional_choice() -> None:
    f = Field("farbe", "radios", "Farbe", options=COLOURS, optional=True)
    assert parse(f, {}) == (None, None)
    assert error(f, {"farbe": "lila"}).message == CHOOSE


# -- checkboxes -----------------------------------------------------------------------------

BOXES = Field("farben", "checkboxes", "Farben", options=COLOURS)


def test_checkboxes_keep_definition_order() -> None:
    assert ok(BOXES, [("farben", "blau"), ("farben", "rot")]) == ["rot", "blau"]


def test_checkboxes_need_at_least_one() -> None:
    assert "mindestens eine" in error(BOXES, {}).message
    assert parse(Field("f", "checkboxes", "F", options=COLOURS, optional=True), {}) == ([], None)


def test_checkboxes_reject_unknown_values() -> None:
    assert "nur aus" in error(BOXES, [("farben", "rot"), ("farben", "lila")]).message
    assert "nur aus" in error(BOXES, [("farben", "lila")]).message


def test_checkboxes_duplicate_submission_counts_once() -> None:
    assert ok(BOXES, [("farben", "rot"), ("farben", "rot")]) == ["rot"]


def test_checkboxes_raw_and_display() -> None:
    kind = REGISTRY["checkboxes"]
    form = MultiDict([("farben", "rot"), ("farben", "lila")])
    assert kind.raw_from_form(BOXES, form) == ["rot", "lila"]
    assert show(BOXES, ["rot", "blau"]) == "Rot, Blau"


# -- e-mail, phone, postcode ----------------------------------------------------------------

EMAIL = Field("email", "email", "E-Mail")


def test_email() -> None:
    assert ok(EMAIL, {"email": " Erika.M@Beispiel.DE "}) == "Erika.M@beispiel.de"
    for bad in (
        "erika",
        "erika@",
        "@beispiel.de",
        "erika@beispiel",
        "a b@beispiel.de",
        "a@b@beispiel.de",
        "x" * 65 + "@beispiel.de",
        "a@" + "b" * 250 + ".de",
    ):
        assert "E-Mail-Adresse" in error(EMAIL, {"email": bad}).message, bad


PHONE = Field("tel", "phone", "Telefon")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0151 2345678", "0151 2345678"),
        ("+49 (30) 1234-567", "+49 (30) 1234-567"),
        ("030/123456", "030/123456"),
        ("  0151   2345678 ", "0151 2345678"),
    ],
)
def test_phone_accepts(raw: str, value: str) -> None:
    assert ok(PHONE, {"tel": raw}) == value


@pytest.mark.parametrize("raw", ["12345", "0151 ABC", "1234567890123456", "++49 151"])
def test_phone_rejects(raw: str) -> None:
    assert "Telefonnummer" in error(PHONE, {"tel": raw}).message


POSTCODE = Field("plz", "postcode", "PLZ")


def test_postcode() -> None:
    assert ok(POSTCODE, {"plz": "10115"}) == "10115"
    assert ok(POSTCODE, {"plz": " 10 115 "}) == "10115"
    for bad in ("1011", "101155", "1011a", "D-10115"):
        assert "5 Ziffern" in error(POSTCODE, {"plz": bad}).message


# -- IBAN -----------------------------------------------------------------------------------

IBAN = Field("iban", "iban", "IBAN")


@pytest.mark.parametrize(
    "raw", ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "de89 3704 0044 0532 0130 00"]
)
def test_iban_valid_is_compacted(raw: str) -> None:
    assert ok(IBAN, {"iban": raw}) == "DE89370400440532013000"


@pytest.mark.parametrize(
    "raw",
    ["DE88370400440532013000", "DE8937040044053201300", "XX89370400440532013000", "keine iban"],
)
def test_iban_invalid(raw: str) -> None:
    assert "IBAN stimmt nicht" in error(IBAN, {"iban": raw}).message


def test_iban_display_shows_grouped_number_and_bank() -> None:
    shown = show(IBAN, "DE89370400440532013000")
    assert shown.startswith("DE89 3704 0044 0532 0130 00")
    assert "Commerzbank" in shown
    assert show(IBAN, None) == ""


# -- person picker --------------------------------------------------------------------------

PERSON = Field("person", "person", "Wer?", params={"people": "household"})


def _household_scope() -> Scope:
    answers = {
        "wer": {"name": "Erika"},
        "haushalt": [{"_id": "a1b2c3d4", "name": "Max"}, {"_id": "e5f6a7b8"}],
    }
    return Scope({}, Scope(answers, flow=PEOPLE_FLOW))


def test_person_picker_accepts_household_ids_only() -> None:
    scope = _household_scope()
    assert ok(PERSON, {"person": "ich"}, scope=scope) == "ich"
    assert ok(PERSON, {"person": "a1b2c3d4"}, scope=scope) == "a1b2c3d4"
    for bad in ("e5f6a7b8", "Max", "zzzz", "wer"):  # a member without a name is not offered
        assert error(PERSON, {"person": bad}, scope=scope).message == CHOOSE
    assert error(PERSON, {}, scope=scope).message == CHOOSE


def test_person_picker_displays_the_name() -> None:
    scope = _household_scope()
    assert show(PERSON, "a1b2c3d4", scope) == "Max"
    assert show(PERSON, "ich", scope) == "Erika"
    assert show(PERSON, "gone", scope) == ""


def test_person_picker_without_provider_offers_nobody() -> None:
    assert error(PERSON, {"person": "ich"}, scope=Scope({})).message == CHOOSE


# -- file -----------------------------------------------------------------------------------

FILE = Field("nachweis", "file", "Nachweis", params={"later_allowed": True})
UPLOADED = {
    "status": "uploaded",
    "document_id": "d1",
    "name": "Vertrag.pdf",
    "size": 1234,
    "media_type": "application/pdf",
    "sha256": "ab" * 32,
}


def test_file_required_without_file() -> None:
    issue = error(FILE, {})
    assert "später nach" in issue.message
    no_later = Field("n", "file", "N", params={"later_allowed": False})
    assert error(no_later, {}).message == "Bitte wählen Sie eine Datei aus."


def test_file_later_checkbox() -> None:
    assert ok(FILE, {"nachweis-later": "ja"}) == {"status": "later"}
    assert show(FILE, {"status": "later"}) == "Reiche ich später nach"


def test_file_later_refused_when_not_allowed() -> None:
    no_later = Field("n", "file", "N", params={"later_allowed": False})
    error(no_later, {"n-later": "ja"})


def test_file_upload_value_passes_through() -> None:
    assert ok(FILE, {}, files={"nachweis": UPLOADED}) == UPLOADED
    # an upload wins over the "later" box
    assert ok(FILE, {"nachweis-later": "ja"}, files={"nachweis": UPLOADED}) == UPLOADED
    assert show(FILE, UPLOADED) == "Vertrag.pdf"


def test_file_upload_issue_passes_through() -> None:
    rejected = Issue("nachweis", "Bitte laden Sie nur PDF-, JPG- oder PNG-Dateien hoch.")
    assert parse(FILE, {"nachweis-later": "ja"}, files={"nachweis": rejected}) == (None, rejected)


def test_file_existing_upload_kept_only_when_asked() -> None:
    scope = Scope({"nachweis": UPLOADED})
    assert ok(FILE, {"nachweis-keep": "ja"}, scope=scope) == UPLOADED
    error(FILE, {}, scope=scope)  # unticked "keep" and no new file: the user removed it
    assert parse(Field("n", "file", "N", optional=True), {}) == (None, None)


def test_file_raw_values() -> None:
    kind = REGISTRY["file"]
    assert kind.raw_from_form(FILE, MultiDict({"nachweis-later": "ja"})) == {"later": True}
    assert kind.raw_from_value(FILE, {"status": "later"}) == {"later": True}
    assert kind.raw_from_value(FILE, UPLOADED) == {"later": False}
    assert kind.raw_from_value(FILE, None) == {"later": False}


def test_option_hint_is_data() -> None:
    assert Option("a", "A", hint="H").hint == "H"
