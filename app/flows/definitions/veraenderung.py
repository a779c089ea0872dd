"""Veränderungsmitteilung (§ 60 SGB I): report every relevant change without delay.

One or more changes per report; each category asks its own follow-up questions and
offers an evidence upload with "reiche ich später nach".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.flows.conditions import When
from app.flows.engine import new_item_id
from app.flows.model import Field, Flow, Help, Option, Page, Person, Repeat, Section
from app.i18n import N_

from .common import (
    GEBURTSDATUM,
    NACHNAME,
    VORNAME,
    kundennummer_of,
    person_page,
    prefill_person,
)

ARTEN = [
    Option("umzug", N_("Umzug")),
    Option("einzug", N_("Jemand zieht bei mir ein")),
    Option("auszug", N_("Jemand zieht bei mir aus")),
    Option("geburt", N_("Geburt eines Kindes")),
    Option("tod", N_("Tod einer Person im Haushalt")),
    Option("familienstand", N_("Heirat, Partnerschaft oder Trennung")),
    Option("arbeit_beginn", N_("Neue Arbeit oder Nebenjob")),
    Option("arbeit_aenderung", N_("Anderer Lohn oder andere Arbeitszeit")),
    Option("arbeit_ende", N_("Arbeit endet")),
    Option("selbststaendig", N_("Selbstständigkeit beginnt oder endet")),
    Option(
        "einmalig", N_("Einmalige Einnahme, zum Beispiel Erbschaft, Geschenk, Steuererstattung")
    ),
    Option("vermoegen", N_("Erspartes hat sich geändert")),
    Option("wohnkosten", N_("Miete, Heizkosten oder Nebenkostenabrechnung")),
    Option(
        "leistung",
        N_("Andere Leistung beantragt oder bewilligt, zum Beispiel Rente, Krankengeld, BAföG"),
    ),
    Option("aufenthalt", N_("Aufenthaltsstatus")),
    Option("bank", N_("Neue Bankverbindung")),
    Option("kontakt", N_("Neue Telefonnummer oder E-Mail-Adresse")),
    Option("krankenhaus", N_("Aufenthalt im Krankenhaus oder in einer Reha-Klinik")),
    Option("krank", N_("Arbeitsunfähigkeit (krank)")),
    Option("sonstiges", N_("Etwas anderes")),
]


def household(answers: Mapping[str, Any]) -> list[Person]:
    """The people a change can concern: the writer and the members they listed."""
    wer = answers.get("wer") or {}
    me = " ".join(p for p in (wer.get("vorname"), wer.get("nachname")) if p) or N_("Ich")
    people = [Person("ich", me)]
    for member in answers.get("haushalt") or []:
        name = " ".join(p for p in (member.get("vorname"), member.get("nachname")) if p)
        if name:
            people.append(Person(member["_id"], name))
    return people


MEMBER_FACTS = ("vorname", "nachname", "geburtsdatum")


def prefill(known: Mapping[str, Any]) -> dict[str, Any]:
    """The person page and the other members of the household from the account (3.3.7)."""
    answers = prefill_person(known)
    me = (known.get("vorname"), known.get("nachname"), known.get("geburtsdatum"))
    others = []
    for member in known.get("household") or []:
        names = (member.get("vorname"), member.get("nachname"), member.get("geburtsdatum"))
        if names == me or not any(names):
            continue
        item = {"_id": new_item_id()}
        item.update({key: value for key, value in zip(MEMBER_FACTS, names, strict=True) if value})
        others.append(item)
    if others:
        answers["haushalt"] = others
    return answers


def _file(field_id: str, label: str, optional: bool = False) -> Field:
    return Field(field_id, "file", label, optional=optional, params={"later_allowed": True})


def _is(*kinds: str) -> When:
    return When("art", in_=list(kinds))


ADRESSE = [
    Field("strasse", "text", N_("Straße und Hausnummer"), autocomplete="street-address"),
    Field("plz", "postcode", N_("Postleitzahl"), autocomplete="postal-code"),
    Field("ort", "text", N_("Ort"), autocomplete="address-level2"),
]

FOLLOW_UPS = [
    Page(
        "umzug",
        N_("Ihre neue Adresse"),
        [
            *ADRESSE,
            Field("miete", "money", N_("Neue Miete im Monat, warm"), optional=True),
            _file("nachweis", N_("Mietvertrag oder Wohnungsgeberbestätigung")),
        ],
        when=_is("umzug"),
        help=Help(
            N_(
                "Bitte fragen Sie das Jobcenter, bevor Sie einen neuen Mietvertrag "
                "unterschreiben. Dann wissen Sie, ob die Kosten übernommen werden."
            )
        ),
    ),
    Page(
        "einzug",
        N_("Wer zieht ein oder aus?"),
        [
            VORNAME,
            NACHNAME,
            GEBURTSDATUM,
            Field(
                "beziehung",
                "select",
                N_("Wie ist die Person mit Ihnen verwandt?"),
                options=[
                    Option("partner", N_("Partnerin oder Partner")),
                    Option("kind", N_("Kind")),
                    Option("eltern", N_("Mutter oder Vater")),
                    Option("andere", N_("Andere Person")),
                ],
            ),
        ],
        when=_is("einzug", "auszug"),
    ),
    Page(
        "geburt",
        N_("Angaben zum Kind"),
        [
            Field("vorname", "text", N_("Vorname des Kindes")),
            _file("nachweis", N_("Geburtsurkunde")),
        ],
        when=_is("geburt"),
    ),
    Page(
        "tod",
        N_("Angaben zur verstorbenen Person"),
        [
            Field("name", "text", N_("Name der Person")),
            _file("nachweis", N_("Sterbeurkunde")),
        ],
        when=_is("tod"),
    ),
    Page(
        "familienstand",
        N_("Was hat sich geändert?"),
        [
            Field(
                "familienstand",
                "radios",
                N_("Neuer Familienstand"),
                options=[
                    Option("verheiratet", N_("Verheiratet")),
                    Option("partnerschaft", N_("Eingetragene Lebenspartnerschaft")),
                    Option("getrennt", N_("Getrennt lebend")),
                    Option("geschieden", N_("Geschieden")),
                ],
            ),
            _file("nachweis", N_("Nachweis, zum Beispiel Heiratsurkunde"), optional=True),
        ],
        when=_is("familienstand"),
    ),
    Page(
        "arbeit",
        N_("Angaben zur Arbeit"),
        [
            Field("arbeitgeber", "text", N_("Name des Arbeitgebers"), autocomplete="organization"),
            Field("stunden", "number", N_("Stunden pro Woche"), params={"min": 1, "max": 80}),
            Field(
                "brutto",
                "money",
                N_("Lohn im Monat vor Abzügen (brutto)"),
                hint=N_("Wenn Sie es noch nicht genau wissen: schätzen Sie."),
            ),
            Field("netto", "money", N_("Lohn im Monat nach Abzügen (netto)"), optional=True),
            _file("nachweis", N_("Arbeitsvertrag oder Lohnabrechnung")),
        ],
        when=_is("arbeit_beginn", "arbeit_aenderung"),
        help=Help(
            N_(
                "Wenn Sie arbeiten, bleibt ein Teil Ihres Lohns frei. Deshalb lohnt sich "
                "Arbeit immer."
            ),
            video="erklaer-veraenderung",
        ),
    ),
    Page(
        "arbeit_ende",
        N_("Angaben zum Ende der Arbeit"),
        [
            Field("arbeitgeber", "text", N_("Name des Arbeitgebers"), autocomplete="organization"),
            Field(
                "grund",
                "radios",
                N_("Warum endet die Arbeit?"),
                options=[
                    Option("kuendigung_ag", N_("Der Arbeitgeber hat gekündigt")),
                    Option("kuendigung_an", N_("Ich habe gekündigt")),
                    Option("befristet", N_("Der Vertrag war befristet")),
                    Option("anderer", N_("Anderer Grund")),
                ],
            ),
            _file("nachweis", N_("Kündigung oder Aufhebungsvertrag")),
        ],
        when=_is("arbeit_ende"),
    ),
    Page(
        "selbststaendig",
        N_("Angaben zur Selbstständigkeit"),
        [
            Field(
                "richtung",
                "radios",
                N_("Was ändert sich?"),
                options=[
                    Option("beginn", N_("Die Selbstständigkeit beginnt")),
                    Option("ende", N_("Die Selbstständigkeit endet")),
                ],
            ),
            Field("taetigkeit", "text", N_("Welche Tätigkeit?")),
            Field("einkommen", "money", N_("Erwarteter Gewinn im Monat"), optional=True),
        ],
        when=_is("selbststaendig"),
    ),
    Page(
        "einmalig",
        N_("Angaben zur Einnahme"),
        [
            Field(
                "quelle",
                "select",
                N_("Woher kommt das Geld?"),
                options=[
                    Option("erbschaft", N_("Erbschaft")),
                    Option("geschenk", N_("Geschenk")),
                    Option("steuer", N_("Steuererstattung")),
                    Option("nachzahlung", N_("Nachzahlung, zum Beispiel von Lohn oder Rente")),
                    Option("andere", N_("Andere Quelle")),
                ],
            ),
            Field("betrag", "money", N_("Betrag")),
            _file("nachweis", N_("Nachweis, zum Beispiel Kontoauszug oder Steuerbescheid")),
        ],
        when=_is("einmalig"),
    ),
    Page(
        "vermoegen",
        N_("Angaben zum Ersparten"),
        [
            Field("betrag", "money", N_("Wie viel Geld haben Sie jetzt insgesamt gespart?")),
            _file("nachweis", N_("Kontoauszug")),
        ],
        when=_is("vermoegen"),
    ),
    Page(
        "wohnkosten",
        N_("Angaben zu den Wohnkosten"),
        [
            Field("grundmiete", "money", N_("Neue Grundmiete im Monat (kalt)"), optional=True),
            Field("nebenkosten", "money", N_("Neue Nebenkosten im Monat"), optional=True),
            Field("heizkosten", "money", N_("Neue Heizkosten im Monat"), optional=True),
            Field(
                "nachzahlung",
                "money",
                N_("Nachzahlung oder Guthaben aus der Abrechnung"),
                optional=True,
            ),
            _file("nachweis", N_("Schreiben des Vermieters oder Abrechnung")),
        ],
        when=_is("wohnkosten"),
    ),
    Page(
        "leistung",
        N_("Angaben zur anderen Leistung"),
        [
            Field(
                "leistung",
                "select",
                N_("Welche Leistung?"),
                options=[
                    Option("rente", N_("Rente")),
                    Option("krankengeld", N_("Krankengeld")),
                    Option("alg", N_("Arbeitslosengeld")),
                    Option("bafoeg", N_("BAföG oder Berufsausbildungsbeihilfe")),
                    Option("wohngeld", N_("Wohngeld")),
                    Option("kindergeld", N_("Kindergeld oder Kinderzuschlag")),
                    Option("andere", N_("Andere Leistung")),
                ],
            ),
            Field(
                "stand",
                "radios",
                N_("Wie ist der Stand?"),
                options=[
                    Option("beantragt", N_("Beantragt")),
                    Option("bewilligt", N_("Bewilligt")),
                    Option("abgelehnt", N_("Abgelehnt")),
                ],
            ),
            Field("betrag", "money", N_("Betrag im Monat, wenn bekannt"), optional=True),
            _file("nachweis", N_("Bescheid oder Antrag"), optional=True),
        ],
        when=_is("leistung"),
    ),
    Page(
        "aufenthalt",
        N_("Angaben zum Aufenthaltsstatus"),
        [
            Field("status", "text", N_("Neuer Aufenthaltstitel")),
            _file("nachweis", N_("Aufenthaltstitel, Vorder- und Rückseite")),
        ],
        when=_is("aufenthalt"),
    ),
    Page(
        "bank",
        N_("Ihre neue Bankverbindung"),
        [
            Field(
                "kontoinhaber",
                "text",
                N_("Name der Kontoinhaberin oder des Kontoinhabers"),
                autocomplete="cc-name",
            ),
            Field(
                "iban",
                "iban",
                N_("IBAN"),
                hint=N_("Eine deutsche IBAN hat 22 Zeichen und beginnt mit DE."),
            ),
        ],
        when=_is("bank"),
    ),
    Page(
        "kontakt",
        N_("Ihre neuen Kontaktdaten"),
        [
            Field("telefon", "phone", N_("Telefonnummer"), optional=True, autocomplete="tel"),
            Field("email", "email", N_("E-Mail-Adresse"), optional=True, autocomplete="email"),
        ],
        when=_is("kontakt"),
    ),
    Page(
        "krankenhaus",
        N_("Angaben zum Aufenthalt"),
        [
            Field("einrichtung", "text", N_("Name des Krankenhauses oder der Klinik")),
            Field("bis", "date", N_("Voraussichtlich bis"), optional=True),
        ],
        when=_is("krankenhaus"),
    ),
    Page(
        "krank",
        N_("Angaben zur Arbeitsunfähigkeit"),
        [
            Field("bis", "date", N_("Voraussichtlich krank bis")),
            _file("nachweis", N_("Arbeitsunfähigkeitsbescheinigung")),
        ],
        when=_is("krank"),
        intro=N_(
            "Wenn Sie länger als drei Kalendertage krank sind, brauchen Sie eine "
            "Bescheinigung vom Arzt. Bitte schicken Sie sie spätestens am ersten "
            "Arbeitstag nach dem dritten Krankheitstag."
        ),
    ),
    Page(
        "sonstiges",
        N_("Was hat sich geändert?"),
        [
            Field("beschreibung", "textarea", N_("Beschreiben Sie die Änderung")),
            _file("nachweis", N_("Nachweis"), optional=True),
        ],
        when=_is("sonstiges"),
    ),
]

FLOW = Flow(
    id="veraenderung",
    slug="veraenderung",
    title=N_("Veränderung mitteilen"),
    description=N_(
        "Teilen Sie Ihrem Jobcenter mit, wenn sich etwas ändert, zum Beispiel Arbeit, "
        "Einkommen oder Wohnung."
    ),
    reference_prefix="VM",
    intro_points=[
        N_("Sie können mehrere Änderungen auf einmal mitteilen."),
        N_("Nachweise können Sie hochladen oder später nachreichen."),
        N_("Sie brauchen etwa 10 Minuten."),
    ],
    help=Help(
        N_(
            "Sie müssen jede Änderung sofort mitteilen. Dann bekommen Sie das richtige "
            "Geld und müssen später nichts zurückzahlen."
        ),
        video="erklaer-veraenderung",
    ),
    declaration=N_("Ich versichere, dass meine Angaben richtig und vollständig sind."),
    people={"household": household},
    index_key=kundennummer_of,
    prefill=prefill,
    sections=[
        Section("wer", N_("Ihre Person"), pages=[person_page()]),
        Section(
            "haushalt",
            N_("Ihr Haushalt"),
            repeat=Repeat(
                item_title=N_("Person {n}"),
                add_label=N_("Person hinzufügen"),
                list_title=N_("Wer lebt noch in Ihrer Bedarfsgemeinschaft?"),
                min=0,
                max=12,
                summary_field="vorname",
            ),
            pages=[
                Page(
                    "mitglied",
                    N_("Angaben zur Person {n} im Haushalt"),
                    [VORNAME, NACHNAME, GEBURTSDATUM],
                )
            ],
        ),
        Section(
            "aenderungen",
            N_("Änderungen"),
            repeat=Repeat(
                item_title=N_("Änderung {n}"),
                add_label=N_("Weitere Änderung hinzufügen"),
                list_title=N_("Ihre Änderungen"),
                min=1,
                max=10,
                summary_field="art",
            ),
            pages=[
                Page(
                    "art",
                    N_("Was hat sich geändert? (Änderung {n})"),
                    [
                        Field("art", "radios", N_("Art der Änderung"), options=ARTEN),
                    ],
                ),
                Page(
                    "betrifft",
                    N_("Wen betrifft die Änderung?"),
                    [
                        Field("person", "person", N_("Person"), params={"people": "household"}),
                        Field(
                            "datum",
                            "date",
                            N_("Seit wann oder ab wann gilt die Änderung?"),
                            hint=N_("Zum Beispiel 1 3 2027"),
                        ),
                    ],
                ),
                *FOLLOW_UPS,
            ],
        ),
        Section(
            "rueckfragen",
            N_("Rückfragen"),
            pages=[
                Page(
                    "kontakt",
                    N_("Wie erreichen wir Sie bei Rückfragen?"),
                    [
                        Field(
                            "telefon",
                            "phone",
                            N_("Telefonnummer"),
                            optional=True,
                            autocomplete="tel",
                        ),
                        Field(
                            "email",
                            "email",
                            N_("E-Mail-Adresse"),
                            optional=True,
                            autocomplete="email",
                        ),
                        Field(
                            "hinweis",
                            "textarea",
                            N_("Möchten Sie noch etwas ergänzen?"),
                            optional=True,
                        ),
                    ],
                ),
            ],
        ),
    ],
)
