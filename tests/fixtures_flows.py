"""Small flow definitions for the engine tests: one behaviour each, no e-service knowledge.

Labels are plain strings; the engine treats them as message ids and never translates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.flows.conditions import All, AnyOf, Not, When
from app.flows.model import Field, Flow, Issue, Option, Page, Person, Repeat, Scope, Section

COLOURS = [Option("rot", "Rot"), Option("gruen", "Grün"), Option("blau", "Blau")]


class Fmt:
    """A Formatter without a request: message ids come back formatted, untranslated."""

    def gettext(self, message: str, **params: object) -> str:
        return message.format(**params) if params else message

    def money(self, cents: int) -> str:
        return f"{cents // 100},{cents % 100:02d} €"

    def day(self, iso: str) -> str:
        return f"day:{iso}"


def _flow(flow_id: str, sections: list[Section], **kwargs: Any) -> Flow:
    return Flow(
        id=flow_id,
        slug=flow_id,
        title=flow_id,
        description="",
        reference_prefix="T",
        sections=sections,
        **kwargs,
    )


def household(answers: Mapping[str, Any]) -> list[Person]:
    """The writer ("ich") and every named member of the ``haushalt`` repeat."""
    me = (answers.get("wer") or {}).get("name") or "Ich"
    people = [Person("ich", me)]
    for member in answers.get("haushalt") or []:
        if member.get("name"):
            people.append(Person(member["_id"], member["name"]))
    return people


# -- people for person pickers ------------------------------------------------------------

PEOPLE_FLOW = _flow(
    "people",
    [
        Section("wer", "Wer", pages=[Page("p", "P", [Field("name", "text", "Name")])]),
    ],
    people={"household": household},
)


# -- conditions: page-level, field-level, combinators, dotted root lookup -----------------

CONDITIONS_FLOW = _flow(
    "conditions",
    [
        Section(
            "a",
            "A",
            pages=[
                Page(
                    "frage",
                    "Frage",
                    [
                        Field("farbe", "radios", "Farbe", options=COLOURS),
                        Field("mehr", "yesno", "Mehr?"),
                        # field-level: only asked when "mehr" is yes
                        Field("details", "text", "Details", when=When("mehr", equals=True)),
                    ],
                ),
                Page(
                    "rot",
                    "Nur bei Rot",
                    [Field("rot_text", "text", "Warum Rot?")],
                    when=When("farbe", equals="rot"),
                ),
                Page(
                    "bunt",
                    "Rot oder Grün, und mehr",
                    [Field("bunt_text", "text", "Bunt")],
                    when=All([When("farbe", in_=["rot", "gruen"]), When("mehr", equals=True)]),
                ),
                Page(
                    "nicht_blau",
                    "Nicht Blau",
                    [Field("nb", "text", "NB")],
                    when=Not(When("farbe", equals="blau")),
                ),
            ],
        ),
        Section(
            "b",
            "B",
            pages=[
                # dotted lookup from another section: resolves from the root
                Page(
                    "blau",
                    "Blau aus Abschnitt A",
                    [Field("blau_text", "text", "Blau")],
                    when=AnyOf([When("a.farbe", equals="blau"), When("a.details", answered=True)]),
                ),
                Page(
                    "ende",
                    "Ende",
                    [
                        Field("ende", "text", "Ende", optional=True),
                        # field-level, on an earlier page's answer (the documented use)
                        Field("warum", "text", "Warum mehr?", when=When("a.mehr", equals=True)),
                    ],
                ),
            ],
        ),
    ],
)


# -- "add another" repeat ------------------------------------------------------------------

REPEAT_FLOW = _flow(
    "repeat",
    [
        Section("start", "Start", pages=[Page("name", "Name", [Field("name", "text", "Name")])]),
        Section(
            "kinder",
            "Kinder",
            repeat=Repeat(
                item_title="Kind {n}",
                add_label="Weiteres Kind",
                list_title="Ihre Kinder",
                min=1,
                max=3,
                summary_field="vorname",
            ),
            pages=[
                Page("kind", "Kind {n}", [Field("vorname", "text", "Vorname")]),
                Page(
                    "schule",
                    "Schule von Kind {n}",
                    [Field("schule", "text", "Schule")],
                    when=When("schulkind", equals=True),
                ),
                Page(
                    "alter", "Alter von Kind {n}", [Field("schulkind", "yesno", "Geht zur Schule?")]
                ),
            ],
        ),
        Section(
            "ende",
            "Ende",
            pages=[
                Page(
                    "fertig", "Fertig", [Field("bemerkung", "textarea", "Bemerkung", optional=True)]
                )
            ],
        ),
    ],
    declaration="Ich versichere es.",
)


# -- per-person loop over the household, with a nested repeat per person ------------------

PERSON_LOOP_FLOW = _flow(
    "personen",
    [
        Section("wer", "Wer", pages=[Page("ich", "Ich", [Field("name", "text", "Ihr Name")])]),
        Section(
            "haushalt",
            "Haushalt",
            repeat=Repeat(
                item_title="Person {n}",
                add_label="Person hinzufügen",
                list_title="Haushalt",
                min=0,
                max=4,
                summary_field="name",
            ),
            pages=[
                Page("mitglied", "Person {n}", [Field("name", "text", "Name")]),
            ],
        ),
        Section(
            "einkommen",
            "Einkommen",
            for_each="household",
            pages=[
                Page(
                    "hat", "Hat {name} Einkommen?", [Field("hat", "yesno", "Einkommen von {name}")]
                ),
            ],
            sections=[
                Section(
                    "posten",
                    "Einkommen",
                    when=When("hat", equals=True),
                    repeat=Repeat(
                        item_title="Einkommen {n} von {name}",
                        add_label="Weiteres Einkommen",
                        list_title="Einkommen von {name}",
                        min=1,
                        max=3,
                        summary_field="betrag",
                    ),
                    pages=[
                        Page(
                            "betrag",
                            "Einkommen {n} von {name}",
                            [
                                Field("quelle", "text", "Quelle"),
                                Field("betrag", "money", "Betrag im Monat"),
                            ],
                        ),
                    ],
                ),
            ],
        ),
    ],
    people={"household": household},
)


# -- page validators -----------------------------------------------------------------------


def _order(values: Mapping[str, Any], scope: Scope) -> list[Issue]:
    if values["bis"] < values["von"]:
        return [Issue("bis", "Bis liegt vor von.")]
    return []


VALIDATOR_FLOW = _flow(
    "validator",
    [
        Section(
            "z",
            "Zeitraum",
            pages=[
                Page(
                    "daten",
                    "Daten",
                    [
                        Field("von", "number", "Von"),
                        Field("bis", "number", "Bis"),
                    ],
                    validators=[_order],
                )
            ],
        ),
    ],
)


# -- a person picker that points into a repeat ---------------------------------------------

PICKER_FLOW = _flow(
    "picker",
    [
        Section(
            "haushalt",
            "Haushalt",
            repeat=Repeat(
                item_title="Person {n}",
                add_label="Person hinzufügen",
                list_title="Haushalt",
                min=0,
                max=4,
            ),
            pages=[Page("mitglied", "Person {n}", [Field("name", "text", "Name")])],
        ),
        Section(
            "aenderung",
            "Änderung",
            pages=[
                Page(
                    "wer",
                    "Wen betrifft es?",
                    [
                        Field("person", "person", "Person", params={"people": "household"}),
                        Field("was", "text", "Was?"),
                    ],
                )
            ],
        ),
    ],
    people={"household": household},
)


# -- field-level conditions chained on one page --------------------------------------------

CHAIN_FLOW = _flow(
    "chain",
    [
        Section(
            "s",
            "S",
            pages=[
                Page(
                    "p",
                    "P",
                    [
                        Field("a", "yesno", "A?"),
                        Field("b", "text", "B", when=When("a", equals=True)),
                        Field("c", "text", "C", when=When("b", answered=True)),
                    ],
                )
            ],
        ),
    ],
)
