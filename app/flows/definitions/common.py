"""Fields and pages several e-services share (so they are written once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.flows.model import Field, Option, Page
from app.i18n import N_

KUNDENNUMMER = Field(
    "kundennummer",
    "text",
    N_("Kundennummer"),
    hint=N_(
        "Sie finden die Kundennummer oben rechts auf jedem Brief vom Jobcenter, zum "
        "Beispiel 123D456789."
    ),
    params={"pattern": "kundennummer", "width": "w10"},
)
BG_NUMMER = Field(
    "bg_nummer",
    "text",
    N_("Nummer der Bedarfsgemeinschaft"),
    hint=N_("Steht auf Ihrem Bescheid, zum Beispiel 12345BG1234567."),
    optional=True,
    params={"pattern": "bg_nummer", "width": "w20"},
)
VORNAME = Field("vorname", "text", N_("Vorname"), autocomplete="given-name")
NACHNAME = Field("nachname", "text", N_("Nachname"), autocomplete="family-name")
GEBURTSDATUM = Field(
    "geburtsdatum",
    "date",
    N_("Geburtsdatum"),
    hint=N_("Zum Beispiel 27 3 1985"),
    params={"rule": "past"},
    autocomplete="bday",
)


def person_page(intro: str | None = None) -> Page:
    """Who is writing: the same four questions in every e-service (account prefill later)."""
    return Page(
        "person",
        N_("Angaben zu Ihrer Person"),
        [KUNDENNUMMER, BG_NUMMER, VORNAME, NACHNAME, GEBURTSDATUM],
        intro=intro,
    )


def kundennummer_of(answers: dict) -> str | None:
    return (answers.get("wer") or {}).get("kundennummer")


#: the person page's fields the account can know (app/identity/facts.py keys)
PERSON_FACTS = ("kundennummer", "bg_nummer", "vorname", "nachname", "geburtsdatum")


def prefill_person(known: Mapping[str, Any]) -> dict[str, Any]:
    """The person page filled from the account (WCAG 3.3.7): the user only checks it."""
    wer = {key: known[key] for key in PERSON_FACTS if known.get(key)}
    return {"wer": wer} if wer else {}


#: kinds of benefit a decision (Bescheid) is about: the account area lists them, the
#: Widerspruch asks for one
LEISTUNGSARTEN = [
    Option("buergergeld", N_("Bürgergeld oder Grundsicherung")),
    Option("kdu", N_("Kosten der Unterkunft und Heizung")),
    Option("but", N_("Bildung und Teilhabe")),
    Option("sanktion", N_("Sanktion oder Leistungsminderung")),
    Option("erstattung", N_("Erstattung oder Rückforderung")),
    Option("sonstiges", N_("Sonstiges")),
]
LEISTUNGSART_LABELS = {o.value: o.label for o in LEISTUNGSARTEN}
