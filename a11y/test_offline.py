"""The offline page and the offline-draft messages in every variant and viewport.

States checked (axe, reflow, text at 200 % on desktop; see checks.py):
* the offline page the service worker shows (``/offline/<variant>``);
* on a form step: "restored from this device", "queued while offline" and, back online,
  "sent" on the next step; the conflict page (both versions, the choice);
* the "fremdes Gerät" switch in both positions on "Meine Anträge".

The drafts on the device need no service worker: the contexts keep workers blocked.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import journeys as j
from e2e.test_offline import (
    fill_online,
    prepare_conflict,
    step_key,
    typed_all,
    wait_for_record,
)

from .checks import VARIANTS, VIEWPORTS, Audit

OFFLINE_H1 = "Keine Verbindung zum Internet"


def _ids(value: Any) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_offline_page(page: Any, audit: Audit, lang: str) -> None:
    audit.group = 300
    response = page.goto(f"/offline/{lang}")
    if response is None or response.status != 200:
        audit.fail("/offline/…", "", "HTTP status", f"got {response and response.status}", page)
    else:
        audit.page(page, f"/offline/{lang}", "Offline-Seite", german_h1=OFFLINE_H1)
    audit.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_offline_messages_on_a_step(context: Any, page: Any, audit: Audit, lang: str) -> None:
    audit.group = 301
    journey = j.VERAENDERUNG
    person = journey.steps[0]
    route = f"/{journey.slug}/…/{person.key}"
    j.start(page, journey, lang)
    key = step_key(page)

    # typed, page opened again: restored from the device
    fill_online(page, person.fills)
    wait_for_record(page, lambda r: r["k"] == key and typed_all(r), "typed")
    page.reload()
    expect(page.locator("#main [data-pwa-notice='restored']")).to_be_visible()
    audit.page(page, route, "Eingaben vom Gerät wiederhergestellt", german_h1=person.title)

    # "Weiter" offline: queued on the device
    context.set_offline(True)
    page.locator(j.submit_selector(person)).click()
    expect(page.locator("#main [data-pwa-notice='queued']")).to_be_visible()
    audit.page(page, route, "offline: auf dem Gerät gespeichert", german_h1=person.title)

    # back online: sent, the next step says so
    context.set_offline(False)
    j.wait_for_step(page, journey, journey.steps[1])
    expect(page.locator("#main [data-pwa-notice='sent']")).to_be_visible()
    audit.page(
        page,
        f"/{journey.slug}/…/{journey.steps[1].key}",
        "wieder online: gesendet",
        german_h1=journey.steps[1].title,
    )
    audit.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_conflict(context: Any, audit: Audit, lang: str) -> None:
    audit.group = 302
    url, _key = prepare_conflict(context, context.new_page(), lang)
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#main .conflict")).to_be_visible()
    audit.page(page, "/veraenderung/…/wer/person", "Konflikt: beide Versionen")
    audit.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_device_switch_both_positions(context: Any, page: Any, audit: Audit, lang: str) -> None:
    audit.group = 303
    page.goto(f"/antraege?lang={lang}")
    switch = page.locator("form[data-device-switch] button[type=submit]")
    expect(switch).to_have_attribute("value", "ja")
    audit.page(page, "/antraege", "Speichern auf dem Gerät: an")
    with page.expect_navigation():  # a full-page POST, then the 303's page
        switch.click()
    page.wait_for_load_state("load")
    expect(page.locator("body")).to_have_attribute("data-device-storage", "off")
    audit.page(page, "/antraege", "fremdes Gerät: Speichern aus")
    audit.assert_clean()
