"""The journey data agrees with the flow definitions (no browser, no server).

Each journey is walked through the form-flow engine exactly as the server would: the
step keys, kinds and German titles must match, every value must be accepted, an empty
submit must fail unless the step says ``empty_ok``, ``invalid`` input must be rejected,
and the walk must end on a complete review. When a definition changes, this test says
which journey step to update before any browser test runs into a timeout.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.flows import engine
from app.flows.definitions import ortsabwesenheit, veraenderung
from app.flows.fields import REGISTRY, ParseContext
from app.flows.model import Flow
from e2e.journeys import JOURNEYS, TODAY, Fill, Journey, Later, Step

FLOWS: dict[str, Flow] = {f.slug: f for f in (veraenderung.FLOW, ortsabwesenheit.FLOW)}


def _form(fills: tuple[Fill, ...]) -> MultiDict[str, str]:
    data: dict[str, str] = {}
    for item in fills:
        data.update(item.form())
    return MultiDict(list(data.items()))


def _parse(step: engine.Step, fills: tuple[Fill, ...]) -> engine.Outcome:
    return engine.parse_page(step, _form(fills), ParseContext(TODAY, step.scope, {}))


def _merge(valid: tuple[Fill, ...], override: tuple[Fill, ...]) -> tuple[Fill, ...]:
    replaced = {type(f).__name__ + f.id for f in override}
    return tuple(f for f in valid if type(f).__name__ + f.id not in replaced) + override


def _check_page(step: Step, current: engine.Step) -> None:
    assert current.page is not None
    title = current.page.title.format(**current.params) if current.params else current.page.title
    assert title == step.title, f"{current.key}: title is {title!r}"
    visible = {f.id: f for f in current.visible_fields()}
    for item in step.fills + step.invalid:
        assert item.id in visible, f"{current.key}: no visible field {item.id!r}"
        if isinstance(item, Later):
            assert visible[item.id].type == "file"
            assert visible[item.id].params.get("later_allowed", True)
    empty = _parse(current, ())
    assert bool(empty.issues) != step.empty_ok, (
        f"{current.key}: an empty submit {'fails' if empty.issues else 'passes'}; "
        f"set empty_ok={not empty.issues}"
    )
    if step.empty_ok:
        assert step.invalid, f"{current.key}: give invalid input for the error-state checks"
    if step.invalid:
        bad = _parse(current, _merge(step.fills, step.invalid))
        assert bad.issues, f"{current.key}: the invalid input {step.invalid} was accepted"
    required = [
        f.id for f in current.visible_fields() if not f.optional and REGISTRY[f.type].name != "file"
    ]
    filled = {item.id for item in step.fills}
    assert set(required) <= filled, f"{current.key}: required fields not filled: {required}"


def walk(journey: Journey) -> dict[str, Any]:
    flow = FLOWS[journey.slug]
    answers: dict[str, Any] = {}
    engine.normalise(flow, answers)
    current = engine.first_open(flow, answers)
    for step in journey.steps:
        assert re.fullmatch(step.path_regex, current.key), (
            f"journey expects {step.key!r}, the engine is at {current.key!r}"
        )
        assert current.kind == step.kind, f"{current.key}: kind {current.kind}"
        if current.kind == "page":
            _check_page(step, current)
            outcome = _parse(current, step.fills)
            assert not outcome.issues, f"{current.key}: {outcome.issues}"
            engine.apply_page(flow, answers, current, outcome.values)
            current = engine.next_step(flow, answers, current.key)
        elif current.kind == "list":
            assert current.section and current.section.repeat
            assert current.section.repeat.list_title == step.title
            if step.action == "add":
                first = engine.add_item(flow, answers, current)
                assert first is not None, f"{current.key}: cannot add another item"
                located = engine.find(flow, answers, first)
                assert located is not None
                current = located[0][located[1]]
            else:
                assert step.action == "weiter"
                engine.mark_seen(answers, current.key)
                current = engine.next_step(flow, answers, current.key)
        else:
            assert step.title == "Daten überprüfen"
            assert engine.complete(flow, answers), "the review is reached with open steps"
    assert journey.steps[-1].kind == "review"
    assert journey.reference_prefix == flow.reference_prefix
    assert journey.service_title == flow.title
    return answers


@pytest.mark.parametrize("slug", sorted(JOURNEYS))
def test_journey_follows_the_definition(slug: str) -> None:
    answers = walk(JOURNEYS[slug])
    submission = engine.collect(FLOWS[slug], answers)
    assert submission["wer"]["kundennummer"] == "123D456789"


def test_veraenderung_covers_add_another_and_household() -> None:
    answers = walk(JOURNEYS["veraenderung"])
    assert [c["art"] for c in answers["aenderungen"]] == ["arbeit_beginn", "bank"]
    assert answers["aenderungen"][0]["nachweis"] == {"status": "later"}
    assert answers["aenderungen"][1]["iban"] == "DE89370400440532013000"
    assert [m["vorname"] for m in answers["haushalt"]] == ["Max"]


def test_ortsabwesenheit_is_abroad_with_important_reason_in_the_future() -> None:
    answers = walk(JOURNEYS["ortsabwesenheit"])
    assert answers["zeitraum"]["ziel"] == "ausland"
    assert answers["grund"]["grund"] == "wichtig"
    assert answers["zeitraum"]["von"] > TODAY.isoformat()
