"""Byte budgets (/work/shared/PERFORMANCE.md), measured as Chromium receives them.

Every figure is the ``encodedDataLength`` of CDP's ``Network.loadingFinished`` (headers
plus compressed body, as on the wire) with the HTTP cache disabled and service workers
blocked, so this is the cold first visit. (The service worker precaches the shell: a warm
load is then only the HTML. See docs/performance.md.)

For every page and every step of both e-services (list steps, review and receipt
included; the journeys of ``e2e/journeys.py`` are brought to each step over HTTP first):

(a) HTML + CSS on the critical path ≤ 14 KB;
(b) the whole cold load (everything but video data) ≤ 35 KB in ≤ 5 requests;
(c) no video data or captions load before they are asked for; a video's small poster
    (PERFORMANCE.md: "preload=none, small poster") may load, ≤ 6 KB, outside (b).

A step reached through htmx ("Weiter" with JavaScript) transfers ≤ 3 KB, and with
``Save-Data: on`` the smallest rendition of each sign-language video is offered first.
Timings are not tested here: ``python -m bench.pageweight`` prints them.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import netlog as n
from e2e import journeys as j

pytestmark = pytest.mark.browser


def _kb(value: int) -> str:
    return f"{value / n.KB:.1f} KB ({value} B)"


def _cold_load_problems(figures: n.Figures) -> list[str]:
    problems = []
    if figures.critical > n.CRITICAL_BUDGET:
        problems.append(f"(a) HTML + CSS {_kb(figures.critical)} > {_kb(n.CRITICAL_BUDGET)}")
    if figures.total > n.TOTAL_BUDGET:
        problems.append(f"(b) cold load {_kb(figures.total)} > {_kb(n.TOTAL_BUDGET)}")
    if figures.requests > n.REQUEST_BUDGET:
        problems.append(f"(b) {figures.requests} requests > {n.REQUEST_BUDGET}")
    if figures.media:
        media = sum(r.bytes for r in figures.media)
        problems.append(
            f"(c) {len(figures.media)} request(s) to {n.MEDIA_PREFIX} before anybody asked "
            f"({_kb(media)}): " + ", ".join(r.path for r in figures.media)
        )
    big = [r for r in figures.posters if r.bytes > n.POSTER_BUDGET]
    if big:
        problems.append("poster over 6 KB: " + ", ".join(r.describe() for r in big))
    return problems


def _assert_cold_load(route: str, figures: n.Figures) -> None:
    problems = _cold_load_problems(figures)
    assert not problems, (
        f"{route}: " + "; ".join(problems) + f"\n  critical {_kb(figures.critical)}, "
        f"total {_kb(figures.total)}, {figures.requests} requests\n" + figures.listing()
    )


# -- (a) (b) (c): pages ----------------------------------------------------------------------


@pytest.mark.parametrize("route", n.PAGES)
def test_page_cold_load(context: Any, base_url: str, route: str) -> None:
    figures = n.cold_load(context, base_url + route)
    document = figures.of_type("Document")
    expected = 404 if route == n.NOT_FOUND else 200
    assert document and document[0].status == expected, (
        f"{route}: expected {expected}\n{figures.listing()}"
    )
    _assert_cold_load(route, figures)


# -- (a) (b) (c): every step of both e-services, the receipt included ------------------------

POINTS = [
    pytest.param(slug, index, id=f"{slug}:{label}")
    for slug, journey in sorted(j.JOURNEYS.items())
    for index, label in n.journey_points(journey)
]


@pytest.mark.parametrize(("slug", "index"), POINTS)
def test_step_cold_load(context: Any, base_url: str, slug: str, index: int) -> None:
    journey = j.JOURNEYS[slug]
    path = n.advance(context.request, base_url, journey, index)
    figures = n.cold_load(context, base_url + path)
    route = f"{path} ({slug} step {index + 1})"
    assert figures.of_type("Document")[0].status == 200, f"{route}\n{figures.listing()}"
    _assert_cold_load(route, figures)


# -- a step reached through htmx ---------------------------------------------------------------


@pytest.mark.parametrize(("slug", "index"), POINTS)
def test_step_through_htmx(context: Any, base_url: str, slug: str, index: int) -> None:
    """Step ``index`` (or the receipt) reached from the one before with JavaScript on:
    the fragment responses (the POST and, after a redirect, the GET) ≤ 3 KB."""
    journey = j.JOURNEYS[slug]
    page = context.new_page()
    if index == 0:  # "Jetzt starten" on the service page
        page.goto(f"/{slug}")
        came_from = f"/{slug}"
    else:
        came_from = n.advance(context.request, base_url, journey, index - 1)
        page.goto(came_from)
        j.wait_for_path(page, rf"^{came_from}$")
    page.wait_for_function("() => !!window.htmx")
    # What the arrival loaded must not count as the swap's. The HTTP cache stays on here,
    # as for anybody in the middle of a journey (the fragments are no-store anyway): with
    # it off, Chromium refetches the previous step's poster and captions for the copy of
    # the page that htmx clones for its history snapshot, which no visitor pays for.
    page.wait_for_load_state("networkidle")
    log = n.NetworkLog(context, page, cache_disabled=False)
    mark = log.mark()
    page.evaluate("() => { window.__marker = 'no-reload'; }")
    if index == 0:
        page.locator(j.start_selector(journey)).click()
        j.wait_for_step(page, journey, journey.steps[0])
    else:
        previous = journey.steps[index - 1]
        j.fill(page, previous.fills)
        j.submit(page, previous)
        j.wait_after(page, journey, index - 1)
    log.settle()
    figures = log.since(mark)
    log.close()
    arrived = page.evaluate("() => location.pathname")
    route = f"{came_from} → {arrived} ({slug} step {index + 1})"
    assert page.evaluate("() => window.__marker") == "no-reload", (
        f"{route}: the page was reloaded instead of swapped\n{figures.listing()}"
    )
    fragments = figures.of_type("XHR", "Fetch")
    size = sum(r.bytes for r in fragments)
    assert fragments, f"{route}: no htmx request seen\n{figures.listing()}"
    problems = []
    if size > n.HTMX_STEP_BUDGET:
        problems.append(f"fragment responses {_kb(size)} > {_kb(n.HTMX_STEP_BUDGET)}")
    fetched = [r for r in figures.media if r.bytes > 0]  # not from the cache
    if fetched:
        problems.append(
            f"(c) the swap loaded {len(fetched)} file(s) from {n.MEDIA_PREFIX} "
            f"({_kb(sum(r.bytes for r in fetched))}) before anybody asked"
        )
    assert not problems, f"{route}: " + "; ".join(problems) + "\n" + figures.listing()


# -- Save-Data ------------------------------------------------------------------------------


def test_save_data_offers_smallest_video_first(context: Any) -> None:
    context.set_extra_http_headers({"Save-Data": "on"})
    page = context.new_page()
    page.goto("/gebaerdensprache")
    firsts = page.evaluate(
        """() => [...document.querySelectorAll('main video')].map(v => {
            const s = v.querySelector('source');
            const figure = v.closest('figure');
            return [figure ? figure.id : '', s ? s.getAttribute('src') : null];
        })"""
    )
    assert firsts, "/gebaerdensprache shows no video"
    wrong = [f"{vid}: first <source> {src}" for vid, src in firsts if not src or "-240." not in src]
    assert not wrong, "with Save-Data: on the 240 rendition must come first: " + "; ".join(wrong)
