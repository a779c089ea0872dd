"""Online-Widerspruch (§ 84 SGG, § 36a SGB I): object to a decision (Bescheid).

Who objects (prefilled from the account), against which decision (one of the linked
customer's decisions, or one entered by hand), reasons (optional, may follow later),
documents. The review shows the whole declaration as it will be sent (§ 36a Abs. 2b
SGB I); the identity step after it (an eID proof at level hoch, plus a passkey
confirmation when the account has one) lives in app/widerspruch.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.flows.conditions import When
from app.flows.model import Field, Flow, Help, Option, Page, Panel, Scope, Section
from app.i18n import N_

from . import frist as frist_rules
from .common import LEISTUNGSART_LABELS, LEISTUNGSARTEN

#: facts of the account stored into the draft at the start (never typed by the user,
#: never changed by a form): Kundennummer, office, Land, the decisions to choose from
KONTO = "_konto"
OTHER = "anderer"


def konto(answers: Mapping[str, Any]) -> Mapping[str, Any]:
    return answers.get(KONTO) or {}


def kundennummer_of(answers: Mapping[str, Any]) -> str | None:
    """The account's linked Kundennummer (not a typed one): submissions are indexed by it."""
    return konto(answers).get("kundennummer")


def _bescheid_answers(answers: Mapping[str, Any]) -> Mapping[str, Any]:
    return (answers.get("angaben") or {}).get("bescheid") or {}


def chosen_decision(answers: Mapping[str, Any]) -> dict[str, Any] | None:
    """The decision objected to, as the Jobcenter knows it or as entered by hand.

    Keys: id (None when entered by hand), title, leistungsart, decided_on, posted_on
    (None when entered by hand), reference, zeitraum, appeal_notice_ok, entered.
    """
    answer = _bescheid_answers(answers)
    choice = answer.get("bescheid")
    if choice == OTHER:
        if not answer.get("datum"):
            return None
        return {
            "id": None,
            "title": None,
            "leistungsart": answer.get("leistungsart"),
            "decided_on": answer["datum"],
            "posted_on": None,
            "reference": answer.get("aktenzeichen"),
            "zeitraum": answer.get("zeitraum"),
            "appeal_notice_ok": True,
            "entered": True,
        }
    for known in konto(answers).get("bescheide") or []:
        if known["id"] == choice:
            return {**known, "zeitraum": None, "entered": False}
    return None


def deadline_of(answers: Mapping[str, Any]) -> frist_rules.Frist | None:
    """The objection deadline of the chosen decision (an estimate for one entered by hand)."""
    decision = chosen_decision(answers)
    if decision is None:
        return None
    land = konto(answers).get("land")
    if decision["entered"]:
        return frist_rules.deadline(
            date.fromisoformat(decision["decided_on"]), land, estimated=True
        )
    return frist_rules.deadline(
        date.fromisoformat(decision["posted_on"]),
        land,
        appeal_notice_ok=bool(decision["appeal_notice_ok"]),
    )


def decision_options(answers: Mapping[str, Any], fmt: Any) -> list[Option]:
    """The account's decisions as radios (date, title, Leistungsart), then "another one"."""
    options = []
    for known in konto(answers).get("bescheide") or []:
        art = LEISTUNGSART_LABELS.get(known["leistungsart"])
        options.append(
            Option(
                known["id"],
                fmt.gettext(
                    N_("{titel} vom {datum}"),
                    titel=known["title"],
                    datum=fmt.day(known["decided_on"]),
                ),
                fmt.gettext(
                    N_("Leistung: {leistungsart}. Aktenzeichen: {aktenzeichen}"),
                    leistungsart=fmt.gettext(art) if art else known["leistungsart"],
                    aktenzeichen=known["reference"],
                ),
            )
        )
    options.append(
        Option(
            OTHER,
            fmt.gettext(N_("Ein anderer Bescheid")),
            fmt.gettext(N_("Sie geben das Datum und die Art des Bescheids selbst ein.")),
        )
    )
    return options


async def prefill(known: Mapping[str, Any]) -> dict[str, Any]:
    """Name and address from the account (WCAG 3.3.7); the decisions of the linked customer."""
    from quart import current_app

    from app.db import customers as customer_repo

    decisions = await customer_repo.decisions_for(
        current_app.config["DB"], known.get("kundennummer")
    )
    person = {
        key: known[key]
        for key in ("vorname", "nachname", "strasse", "plz", "ort")
        if known.get(key)
    }
    return {
        "angaben": {"person": person},
        KONTO: {
            "kundennummer": known.get("kundennummer"),
            "bg_nummer": known.get("bg_nummer"),
            "office": known.get("office"),
            "land": known.get("land"),
            "bescheide": [
                {
                    "id": d.id,
                    "title": d.title,
                    "leistungsart": d.leistungsart,
                    "decided_on": d.decided_on,
                    "posted_on": d.posted_on,
                    "reference": d.reference,
                    "appeal_notice_ok": bool(d.appeal_notice_ok),
                }
                for d in decisions
            ],
        },
    }


async def deadline_panel(scope: Scope, db: Any) -> Mapping[str, Any]:
    """The deadline of the chosen decision, for step 1 and the review."""
    answers = scope.root
    frist = deadline_of(answers)
    decision = chosen_decision(answers)
    return {
        "frist": frist,
        "late": bool(frist and frist.late(frist_rules.today())),
        "decision": decision,
        "kundennummer": kundennummer_of(answers),
        "office": konto(answers).get("office"),
    }


FLOW = Flow(
    id="widerspruch",
    slug="widerspruch",
    title=N_("Widerspruch einlegen"),
    description=N_(
        "Sie sind mit einem Bescheid Ihres Jobcenters nicht einverstanden? Legen Sie hier "
        "online Widerspruch ein."
    ),
    reference_prefix="WS",
    receipt_title=N_("Ihr Widerspruch ist angekommen"),
    steps_are_sections=True,  # the four steps of the objection: data, documents, review, eID
    min_level="pin_brief",
    intro_points=[
        N_("Sie wählen den Bescheid aus, gegen den Sie Widerspruch einlegen."),
        N_("Eine Begründung können Sie gleich schreiben oder später nachreichen."),
        N_(
            "Zum Schluss bestätigen Sie Ihre Identität mit dem Online-Ausweis, zum Beispiel "
            "mit Ihrem Personalausweis und dem Smartphone. Das verlangt das Gesetz."
        ),
        N_("Sie brauchen etwa 10 Minuten."),
    ],
    help=Help(
        N_(
            "Mit einem Widerspruch bitten Sie das Jobcenter, seine Entscheidung noch einmal zu "
            "prüfen. Der Widerspruch kostet nichts. Die Frist ist in der Regel ein Monat."
        )
    ),
    declaration=N_(
        "Ich lege Widerspruch ein und versichere, dass meine Angaben richtig und vollständig sind."
    ),
    review_intro=N_(
        "Bitte prüfen Sie Ihren Widerspruch. So wird er an Ihr Jobcenter geschickt. Mit "
        "„Ändern“ können Sie eine Angabe korrigieren. Danach bestätigen Sie Ihre Identität; "
        "erst dann geht der Widerspruch ab."
    ),
    submit_label=N_("Weiter zur Bestätigung der Identität"),
    after_review=[N_("Identität bestätigen")],
    review_panel=Panel("partials/widerspruch/review.html", deadline_panel),
    prefill=prefill,
    choices={"bescheide": decision_options},
    index_key=kundennummer_of,
    sections=[
        Section(
            "angaben",
            N_("Persönliche Daten"),
            sections=[
                Section(
                    "person",
                    N_("Wer legt Widerspruch ein?"),
                    pages=[
                        Page(
                            "person",
                            N_("Ihre Angaben"),
                            [
                                Field("vorname", "text", N_("Vorname"), autocomplete="given-name"),
                                Field(
                                    "nachname", "text", N_("Nachname"), autocomplete="family-name"
                                ),
                                Field(
                                    "strasse",
                                    "text",
                                    N_("Straße und Hausnummer"),
                                    autocomplete="street-address",
                                ),
                                Field(
                                    "plz",
                                    "postcode",
                                    N_("Postleitzahl"),
                                    autocomplete="postal-code",
                                ),
                                Field("ort", "text", N_("Ort"), autocomplete="address-level2"),
                            ],
                            intro=N_(
                                "Wir haben Ihre Angaben aus Ihrem Konto eingetragen. Bitte prüfen "
                                "Sie sie. Wenn Sie umgezogen sind, ändern Sie die Adresse."
                            ),
                        )
                    ],
                ),
                Section(
                    "bescheid",
                    N_("Der Bescheid"),
                    pages=[
                        Page(
                            "bescheid",
                            N_("Gegen welchen Bescheid legen Sie Widerspruch ein?"),
                            [
                                Field(
                                    "bescheid",
                                    "radios_from",
                                    N_("Bescheid"),
                                    params={"choices": "bescheide"},
                                )
                            ],
                            intro=N_(
                                "Hier sehen Sie die Bescheide, die Ihr Jobcenter Ihnen geschickt "
                                "hat. Das Datum steht oben rechts auf dem Bescheid."
                            ),
                        ),
                        Page(
                            "anderer",
                            N_("Angaben zum Bescheid"),
                            [
                                Field(
                                    "datum",
                                    "date",
                                    N_("Datum des Bescheids"),
                                    hint=N_(
                                        "Das Datum steht oben rechts auf dem Bescheid. Zum "
                                        "Beispiel 3 2 2026."
                                    ),
                                    params={"rule": "not_future"},
                                ),
                                Field(
                                    "leistungsart",
                                    "select",
                                    N_("Worum geht es in dem Bescheid?"),
                                    options=LEISTUNGSARTEN,
                                ),
                                Field(
                                    "aktenzeichen",
                                    "text",
                                    N_("Aktenzeichen oder Nummer der Bedarfsgemeinschaft"),
                                    hint=N_("Steht auf dem Bescheid, zum Beispiel 12345BG1234567."),
                                    optional=True,
                                    params={"max_length": 40},
                                ),
                                Field(
                                    "zeitraum",
                                    "text",
                                    N_("Für welchen Zeitraum gilt der Bescheid?"),
                                    hint=N_("Zum Beispiel Januar bis Juni 2026."),
                                    optional=True,
                                    params={"max_length": 100},
                                ),
                            ],
                            when=When("bescheid", equals=OTHER),
                        ),
                    ],
                ),
                Section(
                    "gruende",
                    N_("Begründung"),
                    pages=[
                        Page(
                            "gruende",
                            N_("Warum legen Sie Widerspruch ein?"),
                            [
                                Field(
                                    "begruendung",
                                    "textarea",
                                    N_("Ihre Begründung"),
                                    hint=N_(
                                        "Schreiben Sie mit eigenen Worten, was aus Ihrer Sicht "
                                        "falsch ist. Höchstens 10.000 Zeichen."
                                    ),
                                    optional=True,
                                    params={"max_length": 10000},
                                ),
                                Field(
                                    "folgt",
                                    "checkboxes",
                                    N_("Begründung folgt"),
                                    optional=True,
                                    options=[
                                        Option("ja", N_("Ich reiche die Begründung später nach"))
                                    ],
                                ),
                            ],
                            intro=N_(
                                "Eine Begründung ist freiwillig. Sie hilft dem Jobcenter, Ihren "
                                "Widerspruch schnell zu prüfen. Sie können sie auch später "
                                "schicken."
                            ),
                            panel=Panel("partials/widerspruch/frist.html", deadline_panel),
                        )
                    ],
                ),
            ],
        ),
        Section(
            "dokumente",
            N_("Dokumente hochladen"),
            pages=[
                Page(
                    "anlagen",
                    N_("Möchten Sie Dokumente mitschicken?"),
                    [
                        Field(
                            f"anlage_{n}",
                            "file",
                            label,
                            optional=True,
                            params={"later_allowed": True},
                        )
                        for n, label in (
                            (1, N_("Dokument 1")),
                            (2, N_("Dokument 2")),
                            (3, N_("Dokument 3")),
                        )
                    ],
                    intro=N_(
                        "Zum Beispiel den Bescheid, einen Kontoauszug oder eine Bescheinigung. "
                        "Das ist freiwillig. Sie können Dokumente auch später nachreichen."
                    ),
                )
            ],
        ),
    ],
)
