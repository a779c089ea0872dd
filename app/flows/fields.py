"""Field types: each parses raw form input into a JSON value, or says what is wrong.

One class per type, registered by name. Values are JSON-friendly: money in euro cents
(int, never float), dates as ISO strings, yes/no as bool, checkboxes as lists, files
as a small dict. Error messages are German message ids; the web layer translates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from app.i18n import N_

from .model import Field, Issue, Scope


class Form(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


class Formatter(Protocol):
    """What display() needs from the web layer: translation and local formats."""

    def gettext(self, message: str, **params: object) -> str: ...
    def money(self, cents: int) -> str: ...
    def day(self, iso: str) -> str: ...


@dataclass
class ParseContext:
    today: date
    scope: Scope
    #: results of file uploads handled by the web layer, by field id
    files: Mapping[str, Any] = field(default_factory=dict)


REQUIRED = N_("Bitte füllen Sie dieses Feld aus.")
CHOOSE = N_("Bitte wählen Sie eine Antwort aus.")
TOO_LONG = N_("Bitte kürzen Sie den Text auf höchstens {max} Zeichen.")

PATTERNS: dict[str, tuple[str, str]] = {
    "kundennummer": (
        r"^\d{3}[A-Z]\d{6}$",
        N_("Die Kundennummer hat 10 Zeichen, zum Beispiel 123D456789."),
    ),
    "bg_nummer": (
        r"^\d{5}BG\d{7}$",
        N_("Die Nummer der Bedarfsgemeinschaft sieht so aus: 12345BG1234567."),
    ),
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class FieldType:
    name: ClassVar[str]
    #: input names this type reads, relative to the field id (for raw re-display)
    parts: ClassVar[tuple[str, ...]] = ("",)

    def input_name(self, f: Field, part: str = "") -> str:
        return f"{f.id}-{part}" if part else f.id

    def raw_from_form(self, f: Field, form: Form) -> Any:
        return form.get(f.id, "") or ""

    def raw_from_value(self, f: Field, value: Any) -> Any:
        return "" if value is None else str(value)

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = (form.get(f.id) or "").strip()
        if not raw:
            return None, None if f.optional else Issue(f.id, REQUIRED)
        return self.convert(f, raw, ctx)

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        return raw, None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return "" if value is None else str(value)


REGISTRY: dict[str, FieldType] = {}


def register(cls: type[FieldType]) -> type[FieldType]:
    REGISTRY[cls.name] = cls()
    return cls


@register
class Text(FieldType):
    name = "text"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = " ".join(raw.split())
        limit = int(f.params.get("max_length", 200))
        if len(raw) > limit:
            return None, Issue(f.id, TOO_LONG, {"max": limit})
        pattern = f.params.get("pattern")
        if pattern:
            regex, message = PATTERNS[pattern]
            raw = raw.replace(" ", "").upper()
            if not re.fullmatch(regex, raw):
                return None, Issue(f.id, message)
        return raw, None


@register
class Textarea(FieldType):
    name = "textarea"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        limit = int(f.params.get("max_length", 2000))
        raw = raw.replace("\r\n", "\n")
        if len(raw) > limit:
            return None, Issue(f.id, TOO_LONG, {"max": limit})
        return raw, None


@register
class Number(FieldType):
    name = "number"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        if not re.fullmatch(r"-?\d{1,9}", raw.replace(" ", "")):
            return None, Issue(f.id, N_("Bitte geben Sie eine ganze Zahl ein, zum Beispiel 3."))
        number = int(raw.replace(" ", ""))
        low, high = f.params.get("min", 0), f.params.get("max", 10**9)
        if not low <= number <= high:
            return None, Issue(
                f.id,
                N_("Bitte geben Sie eine Zahl von {min} bis {max} ein."),
                {"min": low, "max": high},
            )
        return number, None


MONEY_RE = re.compile(r"^(?P<int>\d{1,3}(?:[.\s]\d{3})+|\d+)(?:[,](?P<dec>\d{1,2}))?$")
MONEY_DOT_RE = re.compile(r"^(?P<int>\d+)\.(?P<dec>\d{2})$")


@register
class Money(FieldType):
    name = "money"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        text = raw.replace("€", "").replace("EUR", "").strip().replace("\u00a0", " ")
        match = MONEY_DOT_RE.match(text) or MONEY_RE.match(text)
        if not match:
            return None, Issue(
                f.id, N_("Bitte geben Sie einen Betrag in Euro ein, zum Beispiel 450,00.")
            )
        whole = int(re.sub(r"[.\s]", "", match.group("int")))
        cents = whole * 100 + int((match.group("dec") or "0").ljust(2, "0"))
        if cents > int(f.params.get("max_cents", 100_000_000)):
            return None, Issue(f.id, N_("Dieser Betrag ist zu hoch. Bitte prüfen Sie ihn."))
        return cents, None

    def raw_from_value(self, f: Field, value: Any) -> Any:
        if value is None:
            return ""
        return f"{value // 100},{value % 100:02d}"

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return "" if value is None else fmt.money(value)


@register
class Date(FieldType):
    name = "date"
    parts = ("day", "month", "year")

    def raw_from_form(self, f: Field, form: Form) -> Any:
        return {p: (form.get(self.input_name(f, p)) or "").strip() for p in self.parts}

    def raw_from_value(self, f: Field, value: Any) -> Any:
        if not value:
            return dict.fromkeys(self.parts, "")
        d = date.fromisoformat(value)
        return {"day": str(d.day), "month": str(d.month), "year": str(d.year)}

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = self.raw_from_form(f, form)
        if not any(raw.values()):
            return None, None if f.optional else Issue(
                f.id, N_("Bitte geben Sie ein Datum ein, zum Beispiel 27 3 2026.")
            )
        if not all(raw[p].isdigit() for p in self.parts) or len(raw["year"]) != 4:
            return None, Issue(
                f.id,
                N_("Bitte geben Sie Tag, Monat und Jahr als Zahlen ein. Das Jahr hat 4 Ziffern."),
            )
        try:
            d = date(int(raw["year"]), int(raw["month"]), int(raw["day"]))
        except ValueError:
            return None, Issue(f.id, N_("Dieses Datum gibt es nicht. Bitte prüfen Sie es."))
        rule = f.params.get("rule")
        if rule == "past" and d >= ctx.today:
            return None, Issue(f.id, N_("Das Datum muss in der Vergangenheit liegen."))
        if rule == "not_future" and d > ctx.today:
            return None, Issue(f.id, N_("Das Datum darf nicht in der Zukunft liegen."))
        if rule == "not_past" and d < ctx.today:
            return None, Issue(f.id, N_("Das Datum darf nicht in der Vergangenheit liegen."))
        if rule == "future" and d <= ctx.today:
            return None, Issue(f.id, N_("Das Datum muss in der Zukunft liegen."))
        if d.year < 1900 or d.year > ctx.today.year + 5:
            return None, Issue(f.id, N_("Bitte prüfen Sie das Jahr."))
        return d.isoformat(), None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return fmt.day(value) if value else ""


class Choice(FieldType):
    def _labels(self, f: Field, scope: Scope) -> dict[str, str]:
        return {o.value: o.label for o in f.options}

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = (form.get(f.id) or "").strip()
        if not raw:
            return None, None if f.optional else Issue(f.id, CHOOSE)
        if raw not in self._labels(f, ctx.scope):
            return None, Issue(f.id, CHOOSE)
        return raw, None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        label = self._labels(f, scope).get(value)
        return fmt.gettext(label) if label else ""


@register
class Radios(Choice):
    name = "radios"


@register
class Select(Choice):
    name = "select"


@register
class PersonPicker(Choice):
    """Radios over the people of the household (names are data, not message ids)."""

    name = "person"

    def _labels(self, f: Field, scope: Scope) -> dict[str, str]:
        return {p.id: p.name for p in scope.people(f.params.get("people", "household"))}

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return self._labels(f, scope).get(value, "")


class _Plain:
    """A formatter for parsing, where only option values matter, not their labels."""

    def gettext(self, message: str, **params: object) -> str:
        return message.format(**params) if params else message

    def money(self, cents: int) -> str:
        return str(cents)

    def day(self, iso: str) -> str:
        return iso


@register
class ProvidedChoice(Choice):
    """Radios whose options are data known to the draft (e.g. the account's decisions),
    from a named provider of the flow (``Flow.choices``); labels are final text."""

    name = "radios_from"

    def _labels(self, f: Field, scope: Scope, fmt: Formatter | None = None) -> dict[str, str]:
        options = scope.choices(f.params["choices"], fmt or _Plain())
        return {o.value: o.label for o in options}

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return self._labels(f, scope, fmt).get(value, "")


@register
class YesNo(FieldType):
    name = "yesno"

    def raw_from_value(self, f: Field, value: Any) -> Any:
        return {True: "ja", False: "nein"}.get(value, "")

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = (form.get(f.id) or "").strip()
        if raw not in ("ja", "nein"):
            return None, None if (f.optional and not raw) else Issue(f.id, CHOOSE)
        return raw == "ja", None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        return {True: fmt.gettext(N_("Ja")), False: fmt.gettext(N_("Nein"))}.get(value, "")


@register
class Checkboxes(FieldType):
    name = "checkboxes"

    def raw_from_form(self, f: Field, form: Form) -> Any:
        return list(form.getlist(f.id))

    def raw_from_value(self, f: Field, value: Any) -> Any:
        return list(value or [])

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        allowed = [o.value for o in f.options]
        chosen = [v for v in allowed if v in form.getlist(f.id)]
        if len(chosen) != len(set(form.getlist(f.id))):
            return None, Issue(f.id, N_("Bitte wählen Sie nur aus den angebotenen Antworten."))
        if not chosen and not f.optional:
            return None, Issue(f.id, N_("Bitte wählen Sie mindestens eine Antwort aus."))
        return chosen, None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        labels = {o.value: o.label for o in f.options}
        return ", ".join(fmt.gettext(labels[v]) for v in value or [] if v in labels)


EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@register
class Email(FieldType):
    name = "email"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        if len(raw) > 254 or not EMAIL_RE.match(raw):
            return None, Issue(
                f.id, N_("Bitte geben Sie eine E-Mail-Adresse ein, zum Beispiel name@beispiel.de.")
            )
        local, _, domain = raw.rpartition("@")
        return f"{local}@{domain.lower()}", None


@register
class Phone(FieldType):
    name = "phone"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        digits = re.sub(r"\D", "", raw)
        if not re.fullmatch(r"\+?[\d\s()/-]+", raw) or not 6 <= len(digits) <= 15:
            return None, Issue(
                f.id, N_("Bitte geben Sie eine Telefonnummer ein, zum Beispiel 0151 2345678.")
            )
        return " ".join(raw.split()), None


@register
class Iban(FieldType):
    name = "iban"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        try:
            iban = IBAN(raw, allow_invalid=False)
        except (SchwiftyException, ValueError):
            return None, Issue(
                f.id,
                N_(
                    "Diese IBAN stimmt nicht. Bitte prüfen Sie sie. Eine deutsche IBAN hat 22 "
                    "Zeichen und beginnt mit DE."
                ),
            )
        return iban.compact, None

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        if not value:
            return ""
        iban = IBAN(value, allow_invalid=True)
        bank = iban.bank_name if iban.country_code == "DE" else None
        return f"{iban.formatted} ({bank})" if bank else iban.formatted


@register
class Postcode(FieldType):
    name = "postcode"

    def convert(self, f: Field, raw: str, ctx: ParseContext) -> tuple[Any, Issue | None]:
        raw = raw.replace(" ", "")
        if not re.fullmatch(r"\d{5}", raw):
            return None, Issue(f.id, N_("Eine Postleitzahl hat 5 Ziffern, zum Beispiel 10115."))
        return raw, None


LATER = N_("Reiche ich später nach")


@register
class File(FieldType):
    """An evidence upload; the web layer stores the file and passes the result in ctx.files.

    Values: {"status": "uploaded", "document_id", "name", "size", "media_type", "sha256"}
    or {"status": "later"}. A file already uploaded stays unless replaced.
    """

    name = "file"

    def raw_from_form(self, f: Field, form: Form) -> Any:
        return {"later": form.get(f"{f.id}-later") == "ja"}

    def raw_from_value(self, f: Field, value: Any) -> Any:
        return {"later": bool(value and value.get("status") == "later")}

    def parse(self, f: Field, form: Form, ctx: ParseContext) -> tuple[Any, Issue | None]:
        upload = ctx.files.get(f.id)
        if isinstance(upload, Issue):
            return None, upload
        if upload:
            return upload, None
        if form.get(f"{f.id}-later") == "ja" and f.params.get("later_allowed", True):
            return {"status": "later"}, None
        existing = ctx.scope.data.get(f.id)
        if existing and existing.get("status") == "uploaded" and form.get(f"{f.id}-keep") == "ja":
            return existing, None
        if f.optional:
            return None, None
        return None, Issue(
            f.id,
            N_("Bitte wählen Sie eine Datei aus oder kreuzen Sie „Reiche ich später nach“ an.")
            if f.params.get("later_allowed", True)
            else N_("Bitte wählen Sie eine Datei aus."),
        )

    def display(self, f: Field, value: Any, fmt: Formatter, scope: Scope) -> str:
        if not value:
            return ""
        if value.get("status") == "later":
            return fmt.gettext(LATER)
        return value.get("name", "")
