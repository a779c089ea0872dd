"""The engine's behaviours through the web layer, on the small fixture flows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fixtures_flows import CONDITIONS_FLOW, PERSON_LOOP_FLOW, REPEAT_FLOW
from quart import Quart

from app.eservice import blueprint_for, registry
from conftest import Browser, assert_rejected, running, typed

FLOWS = (CONDITIONS_FLOW, REPEAT_FLOW, PERSON_LOOP_FLOW)


@pytest.fixture
async def flow_app(tmp_path: Path) -> AsyncIterator[Quart]:
    """The app with the fixture flows mounted; the global registry is restored afterwards."""
    before = dict(registry._FLOWS)
    async with running(tmp_path) as app:
        for flow in FLOWS:
            app.register_blueprint(blueprint_for(flow))
        try:
            yield app
        finally:
            registry._FLOWS.clear()
            registry._FLOWS.update(before)


async def _start(b: Browser, slug: str) -> str:
    await b.get(f"/{slug}")
    await b.submit(f"/{slug}/start")
    return f"/{slug}/{b.path.split('/')[2]}"


async def test_field_revealed_by_an_answer_on_the_same_page(flow_app: Quart) -> None:
    b = Browser(flow_app)
    base = await _start(b, "conditions")
    assert b.path == f"{base}/a/frage"
    assert 'name="details"' not in b.html
    await b.submit(data={"farbe": "rot", "mehr": "ja"}, expect=422)
    # the field "mehr: ja" reveals is asked for now, with the answers kept
    assert_rejected(
        b, {"details": "Bitte füllen Sie dieses Feld aus."}, kept={"farbe": "rot", "mehr": "ja"}
    )
    await b.submit(data={"farbe": "rot", "mehr": "ja", "details": "Genauer"})
    assert b.path == f"{base}/a/rot"


async def test_list_step_lets_you_remove_an_item_added_by_mistake(flow_app: Quart) -> None:
    b = Browser(flow_app)
    base = await _start(b, "repeat")
    await b.submit(data={"name": "Erika"})
    first = b.path.split("/")[4]
    assert b.path == f"{base}/kinder/{first}/kind"
    await b.submit(data={"vorname": "Anna"})
    await b.submit(data={"schulkind": "nein"})
    assert b.path == f"{base}/kinder/_liste"
    assert "Kind 1: Anna" in b.text()
    assert "Kind 1 entfernen" not in b.text()  # at the minimum: nothing to remove

    await b.submit(data={"action": "add"})
    second = b.path.split("/")[4]
    assert b.path == f"{base}/kinder/{second}/kind"
    # changed their mind: back to the list (browser back), which must not bounce
    await b.get(f"{base}/kinder/_liste")
    assert "Kind 2 entfernen" in b.text()
    # "Weiter" with an unfinished item leads into that item
    await b.submit(data={"action": "weiter"})
    assert b.path == f"{base}/kinder/{second}/kind"
    await b.get(f"{base}/ende/fertig", expect=303)  # still no skipping past it
    await b.get(f"{base}/kinder/_liste")
    await b.submit(data={"action": f"remove:{second}"})
    assert b.path == f"{base}/kinder/_liste"
    assert "Kind 2" not in b.text()
    await b.submit(data={"action": "weiter"})
    assert b.path == f"{base}/ende/fertig"


async def test_list_refuses_more_than_max(flow_app: Quart) -> None:
    b = Browser(flow_app)
    base = await _start(b, "repeat")
    await b.submit(data={"name": "Erika"})
    for _ in range(2):
        await b.get(f"{base}/kinder/_liste")
        await b.submit(data={"action": "add"})
    await b.get(f"{base}/kinder/_liste")
    assert "Weiteres Kind" not in b.text()  # no add button at the maximum
    await b.submit(data={"action": "add"}, expect=422)
    assert b.title.startswith("Fehler:")
    assert "Sie haben die höchste Anzahl erreicht." in b.text()


async def test_per_person_loop_with_nested_repeat(flow_app: Quart) -> None:
    b = Browser(flow_app)
    base = await _start(b, "personen")
    await b.submit(data={"name": "Erika"})
    await b.submit(data={"action": "add"})
    max_id = b.path.split("/")[4]
    await b.submit(data={"name": "Max"})
    await b.submit(data={"action": "weiter"})

    assert b.path == f"{base}/einkommen/ich/hat"
    assert b.title.startswith("Hat Erika Einkommen?")
    await b.submit(data={}, expect=422)
    assert_rejected(b, {"hat": "Bitte wählen Sie eine Antwort aus."})
    assert "Einkommen von Erika" in b.text()
    assert "{" not in b.text()
    await b.submit(data={"hat": "nein"})

    assert b.path == f"{base}/einkommen/{max_id}/hat"
    assert b.title.startswith("Hat Max Einkommen?")
    await b.submit(data={"hat": "ja"})
    item = b.path.split("/")[6]
    assert b.path == f"{base}/einkommen/{max_id}/posten/{item}/betrag"
    assert b.title.startswith("Einkommen 1 von Max")
    await b.submit(data={"quelle": "Minijob", "betrag": "5,385"}, expect=422)
    assert_rejected(b, {"betrag": "Betrag in Euro"}, kept={"quelle": "Minijob", "betrag": "5,385"})
    await b.submit(data={"quelle": "Minijob", "betrag": "538"})
    assert b.path == f"{base}/einkommen/{max_id}/posten/_liste"
    assert b.title.startswith("Einkommen von Max")
    assert "Einkommen 1 von Max: 538,00 €" in b.text()
    assert "Weiteres Einkommen" in b.text() and "{" not in b.text()
    await b.submit(data={"action": "weiter"})
    assert b.path == f"{base}/_pruefen"
    review = b.text()
    assert "Einkommen Erika Einkommen von Erika Nein" in review
    assert "Max Einkommen von Max Ja Ändern Einkommen von Max Einkommen 1 von Max" in review
    assert "Betrag im Monat 538,00 €" in review
    assert "{" not in review

    change = [u for u in b.links("Ändern") if f"/posten/{item}/betrag" in u]
    assert change
    await b.get(change[0])
    assert typed(b.html, "betrag") == "538,00"
    await b.submit(data={"quelle": "Minijob", "betrag": "520"})
    assert b.path == f"{base}/_pruefen"
    assert "520,00 €" in b.text()
    await b.submit(data={"declaration": "ja"})
    assert b.path.startswith("/personen/eingang/")


async def test_fixture_flows_do_not_leak_into_the_registry(app: Quart) -> None:
    assert {f.id for f in registry.all_flows()}.isdisjoint({f.id for f in FLOWS})
