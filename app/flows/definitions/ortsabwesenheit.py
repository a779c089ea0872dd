"""Ortsabwesenheit (§ 7b SGB II, Erreichbarkeits-Verordnung): ask consent before being away."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.flows.conditions import When
from app.flows.model import Field, Flow, Help, Issue, Option, Page, Panel, Scope, Section
from app.i18n import N_

from .common import kundennummer_of, person_page, prefill_person

#: Calendar days a year without an important reason (Erreichbarkeits-Verordnung), configurable.
YEARLY_DAYS = 21


def days_between(start: str, end: str) -> int:
    """Calendar days requested, counting the first and the last day."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


def _order(values: Mapping[str, Any], scope: Scope) -> list[Issue]:
    if values.get("von") and values.get("bis") and values["bis"] < values["von"]:
        return [Issue("bis", N_("Der letzte Tag darf nicht vor dem ersten Tag liegen."))]
    if values.get("von") and values.get("bis") and days_between(values["von"], values["bis"]) > 366:
        return [Issue("bis", N_("Bitte beantragen Sie höchstens ein Jahr auf einmal."))]
    return []


def _reachable(values: Mapping[str, Any], scope: Scope) -> list[Issue]:
    if any(values.values()):
        return []
    message = N_("Bitte geben Sie mindestens eine Möglichkeit an, wie wir Sie erreichen.")
    return [Issue("telefon", message)]


async def _days_panel(scope: Scope, db: Any) -> Mapping[str, Any]:
    """Days requested now and, for the same Kundennummer, already this calendar year."""
    from app.db.submissions import for_index_key

    zeitraum = scope.root.get("zeitraum") or {}
    kundennummer = kundennummer_of(scope.root)
    requested = (
        days_between(zeitraum["von"], zeitraum["bis"])
        if zeitraum.get("von") and zeitraum.get("bis")
        else None
    )
    year = date.fromisoformat(zeitraum["von"]).year if zeitraum.get("von") else date.today().year
    used = 0
    if kundennummer:
        for earlier in await for_index_key(db, "ortsabwesenheit", kundennummer):
            period = (earlier.document.get("answers") or {}).get("zeitraum") or {}
            if period.get("von", "")[:4] == str(year):
                used += days_between(period["von"], period["bis"])
    total = used + (requested or 0)
    return {
        "requested": requested,
        "used": used,
        "year": year,
        "total": total,
        "limit": YEARLY_DAYS,
        "over": total > YEARLY_DAYS,
    }


GRUENDE = [
    Option("ohne", N_("Ohne wichtigen Grund, zum Beispiel Urlaub oder Besuch bei Familie")),
    Option("wichtig", N_("Mit wichtigem Grund, zum Beispiel Reha, Bewerbung oder Ehrenamt")),
    Option(
        "arbeit",
        N_("Wegen Arbeit, zum Beispiel Montage oder Saisonarbeit"),
        hint=N_(
            "Dafür brauchen Sie keine Zustimmung. Bitte sagen Sie uns trotzdem vorher Bescheid."
        ),
    ),
]

WICHTIGE_GRUENDE = [
    Option("reha", N_("Medizinische Vorsorge oder Rehabilitation")),
    Option("bewerbung", N_("Vorstellungsgespräch oder Bewerbung")),
    Option("ehrenamt", N_("Ehrenamtliche Tätigkeit")),
    Option("bildung", N_("Politische, kirchliche oder gewerkschaftliche Veranstaltung")),
    Option("familie", N_("Wichtiges Familienereignis, zum Beispiel Hochzeit oder Beerdigung")),
    Option("sonstiges", N_("Anderer wichtiger Grund")),
]

FLOW = Flow(
    id="ortsabwesenheit",
    slug="ortsabwesenheit",
    title=N_("Ortsabwesenheit beantragen"),
    description=N_("Sie möchten verreisen? Beantragen Sie vorher die Zustimmung Ihres Jobcenters."),
    reference_prefix="OA",
    intro_points=[
        N_("Sie brauchen die Zustimmung, bevor Sie wegfahren."),
        N_("Ohne wichtigen Grund sind bis zu 21 Tage im Kalenderjahr möglich."),
        N_("Sie brauchen etwa 5 Minuten."),
    ],
    help=Help(
        N_(
            "Wenn Sie Bürgergeld bekommen, müssen Sie erreichbar sein. Wenn Sie "
            "verreisen, fragen Sie vorher Ihr Jobcenter."
        ),
        video="erklaer-ortsabwesenheit",
    ),
    declaration=N_("Ich versichere, dass meine Angaben richtig und vollständig sind."),
    index_key=kundennummer_of,
    prefill=prefill_person,
    sections=[
        Section("wer", N_("Ihre Person"), pages=[person_page()]),
        Section(
            "zeitraum",
            N_("Zeitraum und Ziel"),
            pages=[
                Page(
                    "daten",
                    N_("Wann sind Sie nicht erreichbar?"),
                    [
                        Field(
                            "von",
                            "date",
                            N_("Erster Tag der Abwesenheit"),
                            hint=N_("Zum Beispiel 14 7 2027"),
                            params={"rule": "future"},
                        ),
                        Field(
                            "bis",
                            "date",
                            N_("Letzter Tag der Abwesenheit"),
                            hint=N_("An diesem Tag sind Sie wieder zu Hause."),
                            params={"rule": "future"},
                        ),
                    ],
                    validators=[_order],
                    intro=N_(
                        "Bitte stellen Sie den Antrag, bevor Sie wegfahren. Das erste Datum "
                        "muss in der Zukunft liegen."
                    ),
                ),
                Page(
                    "ziel",
                    N_("Wohin fahren Sie?"),
                    [
                        Field(
                            "ziel",
                            "radios",
                            N_("Ziel"),
                            options=[
                                Option("inland", N_("In Deutschland")),
                                Option("ausland", N_("Ins Ausland")),
                            ],
                        ),
                        Field("ort", "text", N_("Ort"), hint=N_("Zum Beispiel Hamburg")),
                    ],
                ),
                Page(
                    "land",
                    N_("In welches Land fahren Sie?"),
                    [
                        Field("land", "text", N_("Land"), hint=N_("Zum Beispiel Polen")),
                    ],
                    when=When("ziel", equals="ausland"),
                ),
            ],
        ),
        Section(
            "grund",
            N_("Grund"),
            pages=[
                Page(
                    "art",
                    N_("Warum sind Sie nicht erreichbar?"),
                    [
                        Field("grund", "radios", N_("Grund der Abwesenheit"), options=GRUENDE),
                    ],
                    panel=Panel("partials/ortsabwesenheit/days.html", _days_panel),
                ),
                Page(
                    "wichtig",
                    N_("Welcher wichtige Grund?"),
                    [
                        Field(
                            "wichtiger_grund",
                            "radios",
                            N_("Wichtiger Grund"),
                            options=WICHTIGE_GRUENDE,
                        ),
                        Field(
                            "erlaeuterung",
                            "textarea",
                            N_("Erklären Sie kurz den Grund"),
                            optional=True,
                        ),
                        Field(
                            "nachweis",
                            "file",
                            N_("Nachweis, zum Beispiel Einladung oder Bescheinigung"),
                            optional=True,
                            params={"later_allowed": True},
                        ),
                    ],
                    when=When("grund", equals="wichtig"),
                ),
                Page(
                    "arbeit",
                    N_("Angaben zur Arbeit"),
                    [
                        Field("arbeitgeber", "text", N_("Arbeitgeber")),
                        Field(
                            "nachweis_arbeit",
                            "file",
                            N_("Nachweis, zum Beispiel Arbeitsvertrag"),
                            params={"later_allowed": True},
                        ),
                    ],
                    when=When("grund", equals="arbeit"),
                ),
            ],
        ),
        Section(
            "erreichbarkeit",
            N_("Erreichbarkeit"),
            pages=[
                Page(
                    "kontakt",
                    N_("Wie erreichen wir Sie während der Abwesenheit?"),
                    [
                        Field(
                            "telefon",
                            "phone",
                            N_("Telefonnummer"),
                            autocomplete="tel",
                            optional=True,
                        ),
                        Field(
                            "email",
                            "email",
                            N_("E-Mail-Adresse"),
                            autocomplete="email",
                            optional=True,
                        ),
                        Field("anschrift", "textarea", N_("Anschrift am Reiseziel"), optional=True),
                    ],
                    validators=[_reachable],
                ),
            ],
        ),
    ],
)
