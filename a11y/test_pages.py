"""Every page outside the form steps, in every language variant, on a phone and a desktop.

Also: the feedback form's error state, the skip link as the first Tab stop, and the
first step in forced colours with reduced motion.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import journeys as j

from .checks import VARIANTS, VIEWPORTS, Audit

ROUTES: list[tuple[str, int]] = [
    ("/", 200),
    ("/leichte-sprache", 200),
    ("/gebaerdensprache", 200),
    ("/barrierefreiheit", 200),
    ("/barrierefreiheit/feedback", 200),
    ("/hilfe", 200),
    ("/impressum", 200),
    ("/datenschutz", 200),
    ("/antraege", 200),
    ("/veraenderung", 200),
    ("/ortsabwesenheit", 200),
    ("/videos/erklaer-veraenderung", 200),
    ("/videos/erklaer-ortsabwesenheit", 200),
    ("/diese-seite-gibt-es-nicht", 404),
]
FEEDBACK = "/barrierefreiheit/feedback"
ERROR_STATE = "Fehlerzustand (leer abgeschickt)"


def _ids(value: Any) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    return str(value)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
@pytest.mark.parametrize(("route", "status"), ROUTES, ids=[r for r, _ in ROUTES])
def test_page(page: Any, audit: Audit, route: str, status: int, lang: str) -> None:
    audit.group = [r for r, _ in ROUTES].index(route)
    response = page.goto(f"{route}?lang={lang}")
    if response is None or response.status != status:
        got = response.status if response is not None else "no response"
        audit.fail(route, "", "HTTP status", f"expected {status}, got {got}", page)
        audit.assert_clean()
    audit.page(page, route)
    if route == FEEDBACK:
        _feedback_error_state(page, audit)
    audit.assert_clean()


def _feedback_error_state(page: Any, audit: Audit) -> None:
    """Send the feedback form empty (through the browser, with htmx): check the error state."""
    form = page.locator("main form[method=post i]")
    if form.count() == 0:
        audit.fail(FEEDBACK, ERROR_STATE, "feedback form", "no <form method=post> in <main>", page)
        return
    button = form.first.locator("button[type=submit], button:not([type]), input[type=submit]")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        button.last.click()
    summary = page.locator("main .error-summary")
    try:
        expect(summary).to_be_visible()
    except AssertionError:
        audit.fail(
            FEEDBACK,
            ERROR_STATE,
            "error summary",
            f"POST answered {answer.value.status}; no .error-summary shown",
            page,
        )
        return
    audit.page(page, FEEDBACK, ERROR_STATE)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("route", ["/", "/ortsabwesenheit"])
def test_skip_link_is_the_first_tab_stop(page: Any, audit: Audit, route: str) -> None:
    audit.group = 200
    page.goto(route)
    page.keyboard.press("Tab")
    problems = []
    first = page.evaluate("""() => {
      const e = document.activeElement;
      const box = e.getBoundingClientRect();
      return {skip: e.matches('a.skip-link[href="#main"]'), html: e.outerHTML.slice(0, 120),
              visible: box.width >= 2 && box.height >= 2 && box.bottom > 0 &&
                       box.right > 0 && box.top < innerHeight && box.left < innerWidth};
    }""")
    if not first["skip"]:
        problems.append(f"first Tab stop is {first['html']}, not the skip link")
    elif not first["visible"]:
        problems.append("the focused skip link is not visible in the viewport")
    if first["skip"]:
        page.keyboard.press("Enter")
        try:
            expect(page.locator("#main")).to_be_focused()
        except AssertionError:
            problems.append("Enter on the skip link does not move focus to #main")
    audit.result(page, route, "Tastatur: Skip-Link", "skip link", problems)
    audit.assert_clean()


FORCED_MODE = "forced-colors, reduced-motion"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("slug", sorted(j.JOURNEYS))
def test_forced_colours_and_reduced_motion(new_context: Any, audit: Audit, slug: str) -> None:
    """The first step still renders and passes axe; the journey can go on."""
    audit.group, audit.mode = 300, FORCED_MODE
    journey = j.JOURNEYS[slug]
    page = new_context(forced_colors="active", reduced_motion="reduce").new_page()
    j.start(page, journey)
    emulated = page.evaluate(
        "() => matchMedia('(forced-colors: active)').matches && "
        "matchMedia('(prefers-reduced-motion: reduce)').matches"
    )
    assert emulated, "forced colours / reduced motion not emulated"
    step = journey.steps[0]
    problems = []
    for selector in [
        "#step-title",
        "main form.form",
        j.submit_selector(step),
        *[
            f"#f-{f.id}" if isinstance(f, j.Text) else f"#f-{f.id}-day"
            for f in step.fills
            if isinstance(f, j.Text | j.Date)
        ],
    ]:
        if not page.locator(selector).is_visible():
            problems.append(f"{selector} is not visible")
    route = f"/{slug}/…/{step.key}"
    audit.result(page, route, "Schritt 1 rendert", "renders", problems)
    audit.page(page, route, "Schritt 1")
    j.complete_step(page, journey, 0)
    expect(page.locator("#step-title")).to_have_text(journey.steps[1].title)
    audit.assert_clean()
