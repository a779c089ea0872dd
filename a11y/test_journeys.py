"""Every step of both e-services, with its error state, in every variant and viewport.

Walk the journey from ``e2e/journeys.py``: at each step run the checks, then submit it
empty (or with invalid input where empty is valid) and check the error state that
htmx swapped in, then fill it validly and go on; the list steps, the review (and its
error state without the declaration) and the receipt are checked too. The language is
chosen once with ``?lang=`` on the service page; the cookie keeps it.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import journeys as j

from .checks import VARIANTS, VIEWPORTS, Audit

EMPTY = "Fehlerzustand (leer abgeschickt)"
INVALID = "Fehlerzustand (ungültige Eingabe)"


def _ids(value: Any) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def _error_state(page: Any, journey: j.Journey, step: j.Step) -> str | None:
    """Produce the step's error state; returns its label, or None if the step has none."""
    if step.kind == "list":
        return None
    if step.kind == "review":
        page.locator(j.submit_selector(step)).click()  # without the declaration
        label = "Fehlerzustand (ohne Bestätigung)"
    elif not step.empty_ok:
        page.locator(j.submit_selector(step)).click()
        label = EMPTY
    elif step.invalid:
        j.fill(page, step.invalid)
        page.locator(j.submit_selector(step)).click()
        label = INVALID
    else:
        return None
    expect(page.locator("main .error-summary")).to_be_visible()
    j.wait_for_step(page, journey, step)
    return label


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
@pytest.mark.parametrize("slug", sorted(j.JOURNEYS))
def test_every_step(page: Any, audit: Audit, slug: str, lang: str) -> None:
    journey = j.JOURNEYS[slug]
    audit.group = 100 + sorted(j.JOURNEYS).index(slug)
    j.start(page, journey, lang)
    page.reload()  # a full page load: the language now comes from the cookie alone
    j.wait_for_step(page, journey, journey.steps[0])
    for index, step in enumerate(journey.steps):
        route = f"/{slug}/…/{step.key}"
        state = f"Schritt {index + 1}" + (f" ({step.action})" if step.kind == "list" else "")
        audit.page(page, route, state, german_h1=step.title)
        error = _error_state(page, journey, step)
        if error:
            audit.page(page, route, f"Schritt {index + 1}: {error}", german_h1=step.title)
        j.complete_step(page, journey, index)
    audit.page(page, f"/{slug}/eingang/…", "Eingangsbestätigung", german_h1=journey.receipt_title)
    audit.assert_clean()
