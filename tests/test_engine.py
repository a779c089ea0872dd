"""The form-flow engine: conditions, steps, repeats, per-person loops, review, collect."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fixtures_flows import (
    CHAIN_FLOW,
    CONDITIONS_FLOW,
    PERSON_LOOP_FLOW,
    PICKER_FLOW,
    REPEAT_FLOW,
    VALIDATOR_FLOW,
    Fmt,
)
from werkzeug.datastructures import MultiDict

from app.flows import engine
from app.flows.conditions import All, AnyOf, Not, When, holds
from app.flows.fields import ParseContext
from app.flows.model import Flow, Scope

TODAY = date(2026, 6, 15)


def keys(flow: Flow, answers: dict[str, Any]) -> list[str]:
    return [s.key for s in engine.steps(flow, answers)]


def step(flow: Flow, answers: dict[str, Any], key: str) -> engine.Step:
    located = engine.find(flow, answers, key)
    assert located is not None, (key, keys(flow, answers))
    sequence, index = located
    return sequence[index]


def fill(
    flow: Flow, answers: dict[str, Any], key: str, form: dict[str, str] | list[tuple[str, str]]
) -> engine.Outcome:
    """What the web layer does on a POST: parse; if valid, store and mark seen."""
    s = step(flow, answers, key)
    if s.kind == "list":  # "Weiter" on a list step
        engine.mark_seen(answers, key)
        return engine.Outcome({}, [], {})
    outcome = engine.parse_page(s, MultiDict(form), ParseContext(TODAY, s.scope))
    if not outcome.issues:
        engine.apply_page(flow, answers, s, outcome.values)
    return outcome


def start(flow: Flow) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    engine.normalise(flow, answers)
    return answers


# -- conditions -----------------------------------------------------------------------------


def test_when_equals_in_answered_contains() -> None:
    scope = Scope({"a": "x", "n": 0, "leer": "", "liste": ["rot", "blau"], "keins": []})
    assert When("a", equals="x").test(scope)
    assert not When("a", equals="y").test(scope)
    assert When("n", equals=0).test(scope)
    assert When("fehlt", equals=None).test(scope)
    assert When("a", in_=["x", "y"]).test(scope)
    assert not When("a", in_=["y"]).test(scope)
    assert not When("fehlt", in_=["x"]).test(scope)
    assert When("a", answered=True).test(scope)
    assert When("n", answered=True).test(scope)  # 0 is an answer
    for empty in ("leer", "keins", "fehlt"):
        assert When(empty, answered=False).test(scope)
        assert not When(empty, answered=True).test(scope)
    assert When("liste", contains="rot").test(scope)
    assert not When("liste", contains="gruen").test(scope)
    assert not When("a", contains="x").test(scope)  # a string is not a checkbox list


def test_when_false_is_an_answer() -> None:
    assert When("j", answered=True).test(Scope({"j": False}))
    assert When("j", equals=False).test(Scope({"j": False}))
    assert not When("j", equals=False).test(Scope({}))


def test_when_must_test_something() -> None:
    with pytest.raises(ValueError, match="tests nothing"):
        When("a").test(Scope({"a": 1}))


def test_combinators() -> None:
    scope = Scope({"a": 1, "b": 2})
    yes, no = When("a", equals=1), When("b", equals=3)
    assert All([yes, When("b", equals=2)]).test(scope)
    assert not All([yes, no]).test(scope)
    assert All([]).test(scope)
    assert AnyOf([no, yes]).test(scope)
    assert not AnyOf([no]).test(scope)
    assert not AnyOf([]).test(scope)
    assert Not(no).test(scope)
    assert not Not(yes).test(scope)
    assert Not(All([yes, Not(AnyOf([no, Not(yes)]))])).test(scope) is False
    assert holds(None, scope)


def test_scope_lookup_inner_first_then_outer_and_dotted_from_root() -> None:
    root = Scope({"a": {"x": "root-a-x"}, "x": "root-x", "y": "root-y"})
    section = Scope({"x": "section-x"}, root)
    item = Scope({"z": "item-z"}, section, params={"n": 2})
    assert item.lookup("z") == "item-z"
    assert item.lookup("x") == "section-x"
    assert item.lookup("y") == "root-y"
    assert item.lookup("a.x") == "root-a-x"
    assert item.lookup("a.fehlt") is None
    assert item.lookup("x.y") is None  # not a mapping on the way
    assert item.lookup("fehlt") is None
    assert item.root is root.data
    assert item.params == {"n": 2}


def test_page_level_conditions() -> None:
    answers = start(CONDITIONS_FLOW)
    assert keys(CONDITIONS_FLOW, answers) == ["a/frage", "a/nicht_blau", "b/ende", "_pruefen"]
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein"})
    assert keys(CONDITIONS_FLOW, answers) == [
        "a/frage",
        "a/rot",
        "a/nicht_blau",
        "b/ende",
        "_pruefen",
    ]
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "gruen", "mehr": "ja", "details": "d"})
    # All(in_, equals) → bunt; dotted AnyOf(a.farbe == blau, a.details answered) → blau
    assert keys(CONDITIONS_FLOW, answers) == [
        "a/frage",
        "a/bunt",
        "a/nicht_blau",
        "b/blau",
        "b/ende",
        "_pruefen",
    ]
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    assert keys(CONDITIONS_FLOW, answers) == ["a/frage", "b/blau", "b/ende", "_pruefen"]


def test_field_level_condition_decides_what_is_parsed() -> None:
    answers = start(CONDITIONS_FLOW)
    s = step(CONDITIONS_FLOW, answers, "a/frage")
    assert [f.id for f in s.visible_fields()] == ["farbe", "mehr"]
    outcome = fill(
        CONDITIONS_FLOW,
        answers,
        "a/frage",
        {"farbe": "rot", "mehr": "nein", "details": "ignoriert"},
    )
    assert outcome.issues == []
    assert "details" not in outcome.values
    assert answers["a"] == {"farbe": "rot", "mehr": False}


def test_field_revealed_by_a_field_above_it_is_asked_not_skipped() -> None:
    """Without JavaScript the page was shown without "details"; answering "ja" reveals it.

    The required field must then be asked (422 with the field), not silently skipped while
    the page counts as complete.
    """
    answers = start(CONDITIONS_FLOW)
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein"})
    outcome = fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "ja"})
    assert [i.field for i in outcome.issues] == ["details"]
    assert answers["a"] == {"farbe": "rot", "mehr": False}  # nothing stored
    s = step(CONDITIONS_FLOW, answers, "a/frage")
    assert [f.id for f in s.visible_fields(outcome.values)] == ["farbe", "mehr", "details"]
    assert [f.id for f in s.visible_fields()] == ["farbe", "mehr"]
    outcome = fill(
        CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "ja", "details": "mehr dazu"}
    )
    assert outcome.issues == []
    assert answers["a"] == {"farbe": "rot", "mehr": True, "details": "mehr dazu"}
    s = step(CONDITIONS_FLOW, answers, "a/frage")
    assert [f.id for f in s.visible_fields()] == ["farbe", "mehr", "details"]


def test_field_level_condition_on_an_earlier_page() -> None:
    answers = start(CONDITIONS_FLOW)
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    assert [f.id for f in step(CONDITIONS_FLOW, answers, "b/ende").visible_fields()] == ["ende"]
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "ja", "details": "d"})
    ende = step(CONDITIONS_FLOW, answers, "b/ende")
    assert [f.id for f in ende.visible_fields()] == ["ende", "warum"]
    assert [i.field for i in fill(CONDITIONS_FLOW, answers, "b/ende", {}).issues] == ["warum"]
    fill(CONDITIONS_FLOW, answers, "b/ende", {"warum": "darum"})
    assert answers["b"] == {"ende": None, "warum": "darum"}
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    assert "warum" not in engine.collect(CONDITIONS_FLOW, answers)["b"]


def test_parse_page_collects_every_issue_and_raw_input() -> None:
    answers = start(CONDITIONS_FLOW)
    s = step(CONDITIONS_FLOW, answers, "a/frage")
    outcome = engine.parse_page(
        s, MultiDict({"farbe": "lila", "mehr": ""}), ParseContext(TODAY, s.scope)
    )
    assert [i.field for i in outcome.issues] == ["farbe", "mehr"]
    assert outcome.raw == {"farbe": "lila", "mehr": ""}
    assert outcome.values == {}


def test_page_validators_run_only_on_clean_values() -> None:
    answers = start(VALIDATOR_FLOW)
    outcome = fill(VALIDATOR_FLOW, answers, "z/daten", {"von": "5", "bis": "3"})
    assert [(i.field, i.message) for i in outcome.issues] == [("bis", "Bis liegt vor von.")]
    outcome = fill(VALIDATOR_FLOW, answers, "z/daten", {"von": "x", "bis": "3"})
    assert [i.field for i in outcome.issues] == ["von"]  # the validator never saw "x"
    assert "z" not in answers
    assert fill(VALIDATOR_FLOW, answers, "z/daten", {"von": "3", "bis": "5"}).issues == []
    assert answers["z"] == {"von": 3, "bis": 5}


def test_apply_page_drops_values_of_fields_now_hidden() -> None:
    answers = start(CONDITIONS_FLOW)
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "ja"})
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "ja", "details": "d"})
    assert answers["a"]["details"] == "d"
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein", "details": "d"})
    assert "details" not in answers["a"]


# -- resume, reachability, next step --------------------------------------------------------


def test_first_open_resumes_at_first_unfinished_step() -> None:
    answers = start(CONDITIONS_FLOW)
    assert engine.first_open(CONDITIONS_FLOW, answers).key == "a/frage"
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein"})
    assert engine.first_open(CONDITIONS_FLOW, answers).key == "a/rot"
    fill(CONDITIONS_FLOW, answers, "a/rot", {"rot_text": "weil"})
    fill(CONDITIONS_FLOW, answers, "a/nicht_blau", {"nb": "x"})
    fill(CONDITIONS_FLOW, answers, "b/ende", {})
    assert engine.first_open(CONDITIONS_FLOW, answers).kind == "review"
    assert engine.complete(CONDITIONS_FLOW, answers)
    # a changed answer reveals a page nobody has seen: resume there, not at the review
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "gruen", "mehr": "ja", "details": "d"})
    assert engine.first_open(CONDITIONS_FLOW, answers).key == "a/bunt"
    assert not engine.complete(CONDITIONS_FLOW, answers)


def test_reachable_refuses_skipping_ahead() -> None:
    answers = start(CONDITIONS_FLOW)
    assert engine.reachable(CONDITIONS_FLOW, answers, "a/frage")
    assert not engine.reachable(CONDITIONS_FLOW, answers, "a/nicht_blau")
    assert not engine.reachable(CONDITIONS_FLOW, answers, "_pruefen")
    assert not engine.reachable(CONDITIONS_FLOW, answers, "gibt/es/nicht")
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    assert engine.reachable(CONDITIONS_FLOW, answers, "b/blau")
    assert not engine.reachable(CONDITIONS_FLOW, answers, "b/ende")
    assert not engine.reachable(CONDITIONS_FLOW, answers, "a/rot")  # hidden now


def test_next_step_goes_on_or_back_to_an_open_earlier_step() -> None:
    answers = start(CONDITIONS_FLOW)
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    assert engine.next_step(CONDITIONS_FLOW, answers, "a/frage").key == "b/blau"
    fill(CONDITIONS_FLOW, answers, "b/blau", {"blau_text": "x"})
    fill(CONDITIONS_FLOW, answers, "b/ende", {})
    assert engine.next_step(CONDITIONS_FLOW, answers, "b/ende").key == "_pruefen"
    # changing an early answer from the review: the newly visible page comes next
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein"})
    assert engine.next_step(CONDITIONS_FLOW, answers, "a/frage").key == "a/rot"
    assert engine.next_step(CONDITIONS_FLOW, answers, "b/ende").key == "a/rot"
    assert engine.next_step(CONDITIONS_FLOW, answers, "weg").key == "a/rot"


# -- repeats --------------------------------------------------------------------------------


def _items(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return answers["kinder"]


def test_normalise_creates_minimum_items_with_stable_ids() -> None:
    answers: dict[str, Any] = {}
    assert engine.normalise(REPEAT_FLOW, answers) is True
    assert len(_items(answers)) == 1
    first = _items(answers)[0]["_id"]
    assert len(first) == 8 and first.isalnum()
    assert engine.normalise(REPEAT_FLOW, answers) is False
    assert _items(answers)[0]["_id"] == first
    assert keys(REPEAT_FLOW, answers) == [
        "start/name",
        f"kinder/{first}/kind",
        f"kinder/{first}/alter",
        "kinder/_liste",
        "ende/fertig",
        "_pruefen",
    ]


def _complete_repeat(answers: dict[str, Any]) -> str:
    item = _items(answers)[0]["_id"]
    fill(REPEAT_FLOW, answers, "start/name", {"name": "Erika"})
    fill(REPEAT_FLOW, answers, f"kinder/{item}/kind", {"vorname": "Anna"})
    fill(REPEAT_FLOW, answers, f"kinder/{item}/alter", {"schulkind": "nein"})
    return item


def test_add_up_to_max_then_refuse() -> None:
    answers = start(REPEAT_FLOW)
    first = _complete_repeat(answers)
    list_step = step(REPEAT_FLOW, answers, "kinder/_liste")
    second_page = engine.add_item(REPEAT_FLOW, answers, list_step)
    assert second_page is not None
    second = second_page.split("/")[1]
    assert second_page == f"kinder/{second}/kind"
    assert second != first
    # the new item's pages come before the list; the first item kept its id
    assert engine.first_open(REPEAT_FLOW, answers).key == second_page
    assert _items(answers)[0]["_id"] == first
    third = engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"))
    assert third is not None
    assert (
        engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste")) is None
    )
    assert len(_items(answers)) == 3
    assert len({i["_id"] for i in _items(answers)}) == 3


def test_remove_down_to_min_keeps_other_ids() -> None:
    answers = start(REPEAT_FLOW)
    first = _complete_repeat(answers)
    engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"))
    second = _items(answers)[1]["_id"]
    list_step = step(REPEAT_FLOW, answers, "kinder/_liste")
    assert engine.remove_item(REPEAT_FLOW, answers, list_step, "unbekannt") is False
    assert engine.remove_item(REPEAT_FLOW, answers, list_step, first) is True
    assert [i["_id"] for i in _items(answers)] == [second]
    list_step = step(REPEAT_FLOW, answers, "kinder/_liste")
    assert engine.remove_item(REPEAT_FLOW, answers, list_step, second) is False  # min 1
    assert [i["_id"] for i in _items(answers)] == [second]
    # keys follow the ids, not the positions: the remaining item is now "Kind 1"
    s = step(REPEAT_FLOW, answers, f"kinder/{second}/kind")
    assert s.params == {"n": 1}


def test_list_step_sits_after_the_items_and_conditions_apply_per_item() -> None:
    answers = start(REPEAT_FLOW)
    first = _complete_repeat(answers)
    engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"))
    second = _items(answers)[1]["_id"]
    fill(REPEAT_FLOW, answers, f"kinder/{second}/kind", {"vorname": "Ben"})
    fill(REPEAT_FLOW, answers, f"kinder/{second}/alter", {"schulkind": "ja"})
    assert keys(REPEAT_FLOW, answers) == [
        "start/name",
        f"kinder/{first}/kind",
        f"kinder/{first}/alter",
        f"kinder/{second}/kind",
        f"kinder/{second}/schule",
        f"kinder/{second}/alter",
        "kinder/_liste",
        "ende/fertig",
        "_pruefen",
    ]
    assert step(REPEAT_FLOW, answers, f"kinder/{second}/kind").params == {"n": 2}
    list_step = step(REPEAT_FLOW, answers, "kinder/_liste")
    assert list_step.kind == "list"
    assert [i["vorname"] for i in list_step.scope.data["items"]] == ["Anna", "Ben"]


def test_list_step_is_reachable_to_remove_an_item_added_by_mistake() -> None:
    """After "add another", the user must be able to go back to the list and remove it."""
    answers = start(REPEAT_FLOW)
    _complete_repeat(answers)
    engine.mark_seen(answers, "kinder/_liste")
    added = engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"))
    assert added is not None
    assert engine.reachable(REPEAT_FLOW, answers, "kinder/_liste")
    # but nothing after the list: the new item must be filled in (or removed) first
    assert not engine.reachable(REPEAT_FLOW, answers, "ende/fertig")
    assert engine.next_step(REPEAT_FLOW, answers, "kinder/_liste").key == added
    engine.remove_item(
        REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"), added.split("/")[1]
    )
    assert engine.first_open(REPEAT_FLOW, answers).key == "ende/fertig"


def test_review_groups_per_item() -> None:
    answers = start(REPEAT_FLOW)
    first = _complete_repeat(answers)
    engine.add_item(REPEAT_FLOW, answers, step(REPEAT_FLOW, answers, "kinder/_liste"))
    second = _items(answers)[1]["_id"]
    fill(REPEAT_FLOW, answers, f"kinder/{second}/kind", {"vorname": "Ben"})
    fill(REPEAT_FLOW, answers, f"kinder/{second}/alter", {"schulkind": "ja"})
    fill(REPEAT_FLOW, answers, f"kinder/{second}/schule", {"schule": "Grundschule"})
    groups = engine.review(REPEAT_FLOW, answers, Fmt())
    assert [(g.title, g.params, g.level) for g in groups] == [
        ("Start", {}, 2),
        ("Kinder", {}, 2),
        ("Kind {n}", {"n": 1}, 3),
        ("Kind {n}", {"n": 2}, 3),
        ("Ende", {}, 2),
    ]
    assert [(r.label, r.value) for r in groups[2].rows] == [
        ("Vorname", "Anna"),
        ("Geht zur Schule?", "Nein"),
    ]
    assert [(r.label, r.value, r.change_key) for r in groups[3].rows] == [
        ("Vorname", "Ben", f"kinder/{second}/kind"),
        ("Schule", "Grundschule", f"kinder/{second}/schule"),
        ("Geht zur Schule?", "Ja", f"kinder/{second}/alter"),
    ]
    assert groups[0].rows[0].change_key == "start/name"
    assert [r.value for r in groups[4].rows] == [""]  # optional, unanswered
    assert first != second


def test_collect_keeps_item_ids_and_only_visible_answers() -> None:
    answers = start(REPEAT_FLOW)
    first = _complete_repeat(answers)
    fill(REPEAT_FLOW, answers, f"kinder/{first}/alter", {"schulkind": "ja"})
    fill(REPEAT_FLOW, answers, f"kinder/{first}/schule", {"schule": "Grundschule"})
    fill(REPEAT_FLOW, answers, f"kinder/{first}/alter", {"schulkind": "nein"})
    assert answers["kinder"][0]["schule"] == "Grundschule"  # still in the draft …
    document = engine.collect(REPEAT_FLOW, answers)
    assert document == {  # … but not sent: the page is hidden now
        "start": {"name": "Erika"},
        "kinder": [{"_id": first, "vorname": "Anna", "schulkind": False}],
        "ende": {},  # visible, nothing answered (the only field is optional)
    }
    assert engine.SEEN not in document
    fill(REPEAT_FLOW, answers, "ende/fertig", {"bemerkung": "Danke"})
    assert engine.collect(REPEAT_FLOW, answers)["ende"] == {"bemerkung": "Danke"}


def test_collect_drops_pages_hidden_by_a_changed_condition() -> None:
    answers = start(CONDITIONS_FLOW)
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "rot", "mehr": "nein"})
    fill(CONDITIONS_FLOW, answers, "a/rot", {"rot_text": "weil"})
    fill(CONDITIONS_FLOW, answers, "a/nicht_blau", {"nb": "x"})
    fill(CONDITIONS_FLOW, answers, "b/ende", {"ende": "Schluss"})
    assert engine.collect(CONDITIONS_FLOW, answers)["a"] == {
        "farbe": "rot",
        "mehr": False,
        "rot_text": "weil",
        "nb": "x",
    }
    fill(CONDITIONS_FLOW, answers, "a/frage", {"farbe": "blau", "mehr": "nein"})
    fill(CONDITIONS_FLOW, answers, "b/blau", {"blau_text": "b"})
    document = engine.collect(CONDITIONS_FLOW, answers)
    assert document == {
        "a": {"farbe": "blau", "mehr": False},
        "b": {"blau_text": "b", "ende": "Schluss"},
    }
    assert answers["a"]["rot_text"] == "weil"  # kept in the draft in case they change back


def test_collect_is_a_copy() -> None:
    answers = start(REPEAT_FLOW)
    _complete_repeat(answers)
    document = engine.collect(REPEAT_FLOW, answers)
    document["kinder"][0]["vorname"] = "geändert"
    assert answers["kinder"][0]["vorname"] == "Anna"


# -- per-person loop (for_each) with a nested repeat ---------------------------------------


def _household(answers: dict[str, Any]) -> str:
    fill(PERSON_LOOP_FLOW, answers, "wer/ich", {"name": "Erika"})
    list_step = step(PERSON_LOOP_FLOW, answers, "haushalt/_liste")
    first = engine.add_item(PERSON_LOOP_FLOW, answers, list_step)
    assert first is not None
    fill(PERSON_LOOP_FLOW, answers, first, {"name": "Max"})
    fill(PERSON_LOOP_FLOW, answers, "haushalt/_liste", {})
    return first.split("/")[1]


def test_per_person_steps_with_name_params_and_answers_keyed_by_person() -> None:
    answers = start(PERSON_LOOP_FLOW)
    assert keys(PERSON_LOOP_FLOW, answers) == [
        "wer/ich",
        "haushalt/_liste",
        "einkommen/ich/hat",
        "_pruefen",
    ]
    max_id = _household(answers)
    assert keys(PERSON_LOOP_FLOW, answers) == [
        "wer/ich",
        f"haushalt/{max_id}/mitglied",
        "haushalt/_liste",
        "einkommen/ich/hat",
        f"einkommen/{max_id}/hat",
        "_pruefen",
    ]
    hat = step(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat")
    assert hat.params == {"name": "Max"}
    assert step(PERSON_LOOP_FLOW, answers, "einkommen/ich/hat").params == {"name": "Erika"}
    fill(PERSON_LOOP_FLOW, answers, "einkommen/ich/hat", {"hat": "nein"})
    fill(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat", {"hat": "nein"})
    assert answers["einkommen"] == {"ich": {"hat": False}, max_id: {"hat": False}}
    assert engine.complete(PERSON_LOOP_FLOW, answers)


def test_nested_repeat_inside_a_per_person_section() -> None:
    answers = start(PERSON_LOOP_FLOW)
    max_id = _household(answers)
    fill(PERSON_LOOP_FLOW, answers, "einkommen/ich/hat", {"hat": "nein"})
    fill(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat", {"hat": "ja"})
    # the nested repeat became visible for Max only and got its minimum item
    posten = answers["einkommen"][max_id]["posten"]
    assert len(posten) == 1
    item = posten[0]["_id"]
    prefix = f"einkommen/{max_id}/posten"
    assert keys(PERSON_LOOP_FLOW, answers)[-4:] == [
        f"einkommen/{max_id}/hat",
        f"{prefix}/{item}/betrag",
        f"{prefix}/_liste",
        "_pruefen",
    ]
    betrag = step(PERSON_LOOP_FLOW, answers, f"{prefix}/{item}/betrag")
    assert betrag.params == {"name": "Max", "n": 1}
    assert engine.first_open(PERSON_LOOP_FLOW, answers).key == betrag.key
    fill(PERSON_LOOP_FLOW, answers, betrag.key, {"quelle": "Minijob", "betrag": "538"})
    second = engine.add_item(
        PERSON_LOOP_FLOW, answers, step(PERSON_LOOP_FLOW, answers, f"{prefix}/_liste")
    )
    assert second is not None and second.startswith(f"{prefix}/")
    fill(PERSON_LOOP_FLOW, answers, second, {"quelle": "Rente", "betrag": "1.234,56"})
    fill(PERSON_LOOP_FLOW, answers, f"{prefix}/_liste", {})
    assert engine.complete(PERSON_LOOP_FLOW, answers)
    second_id = second.split("/")[3]

    document = engine.collect(PERSON_LOOP_FLOW, answers)
    assert document["einkommen"] == {
        "ich": {"hat": False},
        max_id: {
            "hat": True,
            "posten": [
                {"_id": item, "quelle": "Minijob", "betrag": 53800},
                {"_id": second_id, "quelle": "Rente", "betrag": 123456},
            ],
        },
    }

    groups = engine.review(PERSON_LOOP_FLOW, answers, Fmt())
    titles = [(g.title, g.params, g.level) for g in groups]
    assert titles[-5:] == [
        ("Einkommen", {}, 2),
        ("{name}", {"name": "Erika"}, 3),  # a per-person group is headed by the name
        ("{name}", {"name": "Max"}, 3),
        ("Einkommen {n} von {name}", {"name": "Max", "n": 1}, 3),
        ("Einkommen {n} von {name}", {"name": "Max", "n": 2}, 3),
    ]
    assert [r.value for r in groups[-1].rows] == ["Rente", "1234,56 €"]


def test_per_person_answers_of_a_removed_person_are_not_sent() -> None:
    answers = start(PERSON_LOOP_FLOW)
    max_id = _household(answers)
    fill(PERSON_LOOP_FLOW, answers, "einkommen/ich/hat", {"hat": "nein"})
    fill(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat", {"hat": "nein"})
    engine.remove_item(
        PERSON_LOOP_FLOW, answers, step(PERSON_LOOP_FLOW, answers, "haushalt/_liste"), max_id
    )
    assert f"einkommen/{max_id}/hat" not in keys(PERSON_LOOP_FLOW, answers)
    assert engine.collect(PERSON_LOOP_FLOW, answers)["einkommen"] == {"ich": {"hat": False}}


def test_new_household_member_opens_their_per_person_steps() -> None:
    answers = start(PERSON_LOOP_FLOW)
    max_id = _household(answers)
    fill(PERSON_LOOP_FLOW, answers, "einkommen/ich/hat", {"hat": "nein"})
    fill(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat", {"hat": "nein"})
    assert engine.complete(PERSON_LOOP_FLOW, answers)
    added = engine.add_item(
        PERSON_LOOP_FLOW, answers, step(PERSON_LOOP_FLOW, answers, "haushalt/_liste")
    )
    assert added is not None
    fill(PERSON_LOOP_FLOW, answers, added, {"name": "Mia"})
    mia = added.split("/")[1]
    assert engine.first_open(PERSON_LOOP_FLOW, answers).key == f"einkommen/{mia}/hat"
    assert step(PERSON_LOOP_FLOW, answers, f"einkommen/{mia}/hat").params == {"name": "Mia"}


def test_person_picker_inside_the_loop_sees_the_household() -> None:
    answers = start(PERSON_LOOP_FLOW)
    max_id = _household(answers)
    s = step(PERSON_LOOP_FLOW, answers, f"einkommen/{max_id}/hat")
    assert [(p.id, p.name) for p in s.scope.people("household")] == [
        ("ich", "Erika"),
        (max_id, "Max"),
    ]
    assert s.scope.people("unbekannt") == []


def test_removing_a_person_clears_pickers_that_chose_them() -> None:
    answers = start(PICKER_FLOW)
    added = engine.add_item(PICKER_FLOW, answers, step(PICKER_FLOW, answers, "haushalt/_liste"))
    assert added is not None
    max_id = added.split("/")[1]
    fill(PICKER_FLOW, answers, added, {"name": "Max"})
    fill(PICKER_FLOW, answers, "haushalt/_liste", {})
    assert (
        fill(PICKER_FLOW, answers, "aenderung/wer", {"person": max_id, "was": "Umzug"}).issues == []
    )
    assert engine.complete(PICKER_FLOW, answers)
    engine.remove_item(PICKER_FLOW, answers, step(PICKER_FLOW, answers, "haushalt/_liste"), max_id)
    assert answers["aenderung"] == {"was": "Umzug"}
    assert engine.first_open(PICKER_FLOW, answers).key == "aenderung/wer"
    assert not engine.complete(PICKER_FLOW, answers)


def test_removing_a_person_keeps_pickers_that_chose_someone_else() -> None:
    answers = start(PICKER_FLOW)
    added = engine.add_item(PICKER_FLOW, answers, step(PICKER_FLOW, answers, "haushalt/_liste"))
    assert added is not None
    fill(PICKER_FLOW, answers, added, {"name": "Max"})
    fill(PICKER_FLOW, answers, "haushalt/_liste", {})
    fill(PICKER_FLOW, answers, "aenderung/wer", {"person": "ich", "was": "Umzug"})
    engine.remove_item(
        PICKER_FLOW, answers, step(PICKER_FLOW, answers, "haushalt/_liste"), added.split("/")[1]
    )
    assert answers["aenderung"] == {"person": "ich", "was": "Umzug"}
    assert engine.complete(PICKER_FLOW, answers)


def test_field_hidden_above_counts_as_unanswered_for_fields_below() -> None:
    answers = start(CHAIN_FLOW)
    # answering "ja" reveals b and, once b is given, c: asked in the same round trip
    outcome = fill(CHAIN_FLOW, answers, "s/p", {"a": "ja", "b": "x"})
    assert [i.field for i in outcome.issues] == ["c"]
    outcome = fill(CHAIN_FLOW, answers, "s/p", {"a": "ja", "b": "x", "c": "y"})
    assert outcome.issues == []
    assert answers["s"] == {"a": True, "b": "x", "c": "y"}
    # "nein" hides b; c depends on b, which is now unanswered: hidden too, not required
    outcome = fill(CHAIN_FLOW, answers, "s/p", {"a": "nein", "b": "x", "c": ""})
    assert outcome.issues == []
    assert answers["s"] == {"a": False}
    s = step(CHAIN_FLOW, answers, "s/p")
    assert [f.id for f in s.visible_fields()] == ["a"]
    assert [f.id for f in s.visible_fields({"a": True, "b": "x"})] == ["a", "b", "c"]
