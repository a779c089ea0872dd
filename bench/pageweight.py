"""Page weight and slow-network timings: ``python -m bench.pageweight`` (prints a table).

Starts a throwaway server as the test fixture does (``python -m app serve --demo``,
``JCD_ENV=test``, fresh data directory) and Debian's Chromium with the fixture's flags;
every row gets a fresh browser context (no cookies, service workers blocked).

Per page and per step of both e-services (brought there over HTTP with the journey data
of ``e2e/journeys.py``):

* bytes, cold (cache disabled, unthrottled; CDP ``encodedDataLength``): HTML + CSS on the
  critical path, the whole load without video data and posters, requests, bytes fetched
  from /static/media/ unasked (video, captions), and posters (allowed, counted apart);
* on a throttled network (CDP ``Network.emulateNetworkConditions``: 400 ms latency,
  50 000 bytes/s down and up; cache disabled): first contentful paint (``paint`` entries
  of the Performance API) of a cold load, and for steps the time from pressing the
  step's button ("Weiter", "Jetzt starten", "Jetzt absenden", or the list's add button)
  to the next heading having focus, measured in the page with ``performance.now()``
  and a ``focusin`` listener, with the bytes of the htmx responses in between.

Timings are the median of ``--repeat`` runs (default 3). DevTools throttling delays each
request and caps throughput; it does not model TCP slow start, so the 14 KB rule shows
up only in the byte columns.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import netlog as n
from bench import server as srv
from e2e import journeys as j

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SLOW = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}

FCP_JS = """() => {
  const e = performance.getEntriesByName('first-contentful-paint')[0];
  return e ? e.startTime : null;
}"""
ARM_JS = """(selector) => {
  window.__focusAt = null;
  document.addEventListener('focusin', (e) => {
    if (window.__focusAt === null && e.target.matches('#step-title, main h1'))
      window.__focusAt = performance.now();
  });
  const button = document.querySelector(selector);
  window.__pressedAt = performance.now();
  button.click();
}"""


def _context(browser: Any, base_url: str) -> Any:
    return browser.new_context(
        base_url=base_url,
        service_workers="block",
        locale="de-DE",
        timezone_id="Europe/Berlin",
        viewport={"width": 360, "height": 740},
    )


def _slow_page(context: Any) -> tuple[Any, n.NetworkLog]:
    page = context.new_page()
    log = n.NetworkLog(context, page)
    log.cdp.send("Network.emulateNetworkConditions", SLOW)
    return page, log


def _fcp(page: Any) -> float | None:
    page.wait_for_function("() => performance.getEntriesByType('paint').length > 0 || null")
    value = page.evaluate(FCP_JS)
    return float(value) if value is not None else None


def _press(page: Any, log: n.NetworkLog, selector: str, wait: Any) -> tuple[float, int]:
    """Click ``selector`` in the page; ms until the next heading has focus, htmx bytes."""
    mark = log.mark()
    page.evaluate(ARM_JS, selector)
    wait()
    page.wait_for_function("() => window.__focusAt !== null", timeout=60_000)
    elapsed = page.evaluate("() => window.__focusAt - window.__pressedAt")
    log.settle(30)
    fragments = log.since(mark).of_type("XHR", "Fetch")
    return float(elapsed), sum(r.bytes for r in fragments)


class Row:
    def __init__(self, route: str) -> None:
        self.route = route
        self.critical = self.total = self.requests = self.media = self.posters = 0
        self.fcp: list[float] = []
        self.press: list[float] = []
        self.press_bytes: int | None = None
        self.press_label = ""

    def cells(self) -> list[str]:
        def median(values: list[float]) -> str:
            return f"{statistics.median(values):.0f}" if values else "–"

        flags = []
        if self.critical > n.CRITICAL_BUDGET:
            flags.append("a")
        if self.total > n.TOTAL_BUDGET or self.requests > n.REQUEST_BUDGET:
            flags.append("b")
        if self.media:
            flags.append("c")
        if self.press_bytes is not None and self.press_bytes > n.HTMX_STEP_BUDGET:
            flags.append("htmx")
        return [
            self.route,
            f"{self.critical / n.KB:.1f}",
            f"{self.total / n.KB:.1f}",
            str(self.requests),
            f"{self.media / n.KB:.1f}" if self.media else "0",
            f"{self.posters / n.KB:.1f}" if self.posters else "0",
            median(self.fcp),
            self.press_label or "–",
            f"{self.press_bytes / n.KB:.1f}" if self.press_bytes is not None else "–",
            median(self.press),
            ", ".join(flags) or "ok",
        ]


HEADER = [
    "route",
    "critical KB",
    "total KB",
    "requests",
    "media KB (unasked)",
    "posters KB",
    "FCP ms (slow)",
    "button",
    "htmx KB",
    "press → focus ms (slow)",
    "over budget",
]


def measure(browser: Any, base_url: str, repeat: int) -> list[Row]:
    rows: list[Row] = []

    def bytes_of(row: Row, context: Any, url: str) -> None:
        figures = n.cold_load(context, url)
        row.critical, row.total, row.requests = figures.critical, figures.total, figures.requests
        row.media = sum(r.bytes for r in figures.media)
        row.posters = sum(r.bytes for r in figures.posters)

    for route in n.PAGES:
        row = Row(route)
        context = _context(browser, base_url)
        bytes_of(row, context, base_url + route)
        context.close()
        slug = route.strip("/")
        for _ in range(repeat):
            context = _context(browser, base_url)
            page, log = _slow_page(context)
            page.goto(route)
            row.fcp.append(_fcp(page) or float("nan"))
            if slug in j.JOURNEYS:
                journey = j.JOURNEYS[slug]
                row.press_label = "Jetzt starten"
                elapsed, size = _press(
                    page,
                    log,
                    j.start_selector(journey),
                    lambda p=page, jj=journey: j.wait_for_step(p, jj, jj.steps[0]),
                )
                row.press.append(elapsed)
                row.press_bytes = size
            context.close()
        rows.append(row)
        print(f"# {route}", file=sys.stderr)

    for slug, journey in sorted(j.JOURNEYS.items()):
        for index, label in n.journey_points(journey):
            row = Row(f"{slug}:{label}")
            context = _context(browser, base_url)
            path = n.advance(context.request, base_url, journey, index)
            bytes_of(row, context, base_url + path)
            context.close()
            for _ in range(repeat):
                context = _context(browser, base_url)
                path = n.advance(context.request, base_url, journey, index)
                page, log = _slow_page(context)
                page.goto(path)
                row.fcp.append(_fcp(page) or float("nan"))
                if index < len(journey.steps):
                    step = journey.steps[index]
                    j.fill(page, step.fills)
                    if step.kind == "review":
                        page.locator(f"#{j.DECLARATION}").check()
                    row.press_label = page.locator(j.submit_selector(step)).inner_text().strip()
                    elapsed, size = _press(
                        page,
                        log,
                        j.submit_selector(step),
                        lambda p=page, i=index, jj=journey: j.wait_after(p, jj, i),
                    )
                    row.press.append(elapsed)
                    row.press_bytes = size
                context.close()
            rows.append(row)
            print(f"# {row.route}", file=sys.stderr)
    return rows


def markdown(rows: list[Row]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "| --- |" + " ---: |" * 6 + " --- | ---: | ---: | --- |",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pageweight",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=3, help="throttled runs per row")
    parser.add_argument("--base-url", help="measure this server instead of starting one")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium)")

    from playwright.sync_api import sync_playwright

    def run(base_url: str) -> list[Row]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                return measure(browser, base_url, max(1, args.repeat))
            finally:
                browser.close()

    if args.base_url:
        rows = run(args.base_url.rstrip("/"))
    else:
        with (
            tempfile.TemporaryDirectory(prefix="jcd-pageweight-") as tmp,
            srv.running(srv.app_command(demo=True), Path(tmp), env={"JCD_ENV": "test"}) as server,
        ):
            rows = run(server.url)
    print(
        f"Cold loads (cache disabled, service workers blocked). Budgets: critical ≤ "
        f"{n.CRITICAL_BUDGET // n.KB} KB, total ≤ {n.TOTAL_BUDGET // n.KB} KB in ≤ "
        f"{n.REQUEST_BUDGET} requests, nothing from /static/media/ unasked, htmx step ≤ "
        f"{n.HTMX_STEP_BUDGET // n.KB} KB. Slow = 400 ms latency, 50 000 B/s; timings are "
        f"medians of {max(1, args.repeat)} runs. KB = 1024 bytes.\n"
    )
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
