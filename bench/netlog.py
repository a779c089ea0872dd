"""What Chromium receives, measured over CDP; shared by e2e/test_budgets.py and
bench/pageweight.py.

* ``NetworkLog``: a CDP session on one page (``Network.enable``, optionally
  ``Network.setCacheDisabled``) that records every request with its resource type and
  the ``encodedDataLength`` of ``Network.loadingFinished`` (bytes on the wire: headers
  plus the compressed body). Redirect hops are kept as their own entries.
* ``cold_load``: open a URL in a fresh page with the cache disabled, wait until the
  network is idle and every recorded request has finished, return the figures.
* ``advance``: bring a journey of ``e2e/journeys.py`` to a given step over plain HTTP
  (the browser context's own ``request``, so the cookies are the page's), fast enough to
  start every step's measurement from scratch.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from e2e import journeys as j

KB = 1024
#: The budgets of /work/shared/PERFORMANCE.md (bytes and counts).
CRITICAL_BUDGET = 14 * KB
TOTAL_BUDGET = 35 * KB
REQUEST_BUDGET = 5
HTMX_STEP_BUDGET = 3 * KB

#: Pages outside the e-services; the 404 is a path that does not exist.
NOT_FOUND = "/gibt-es-nicht"
PAGES = (
    "/",
    "/leichte-sprache",
    "/gebaerdensprache",
    "/barrierefreiheit",
    "/barrierefreiheit/feedback",
    "/hilfe",
    "/impressum",
    "/datenschutz",
    "/antraege",
    "/veraenderung",
    "/ortsabwesenheit",
    NOT_FOUND,
)
CRITICAL_TYPES = {"Document", "Stylesheet"}
MEDIA_PREFIX = "/static/media/"
POSTER_BUDGET = 6 * 1024  # each poster of a video, counted apart from the page


# -- the network log ---------------------------------------------------------------------


@dataclass
class Resource:
    url: str
    method: str
    type: str = "Other"
    status: int | None = None
    bytes: int = 0
    done: bool = False
    failed: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def is_poster(self) -> bool:
        """A video's small still (PERFORMANCE.md allows it: "preload=none, small poster")."""
        return self.path.startswith(MEDIA_PREFIX) and "-poster." in self.path

    @property
    def is_media(self) -> bool:
        """Video data and captions: loaded only when asked for (budget (c))."""
        return (self.type == "Media" or self.path.startswith(MEDIA_PREFIX)) and not self.is_poster

    @property
    def is_video(self) -> bool:
        return self.type == "Media"

    def describe(self) -> str:
        status = self.failed or self.status
        return f"{self.method} {self.path} [{self.type} {status}] {self.bytes} B"


@dataclass
class Figures:
    """One page load or one interaction: what went over the wire."""

    resources: list[Resource] = field(default_factory=list)

    @property
    def critical(self) -> int:
        return sum(r.bytes for r in self.resources if r.type in CRITICAL_TYPES)

    @property
    def load(self) -> list[Resource]:
        """Everything the page loaded by itself: HTML, CSS, JS, icon, manifest, and caption
        tracks if the page fetched them unasked; not video data, not posters (those are
        counted apart, see ``posters``)."""
        return [r for r in self.resources if not r.is_video and not r.is_poster]

    @property
    def total(self) -> int:
        return sum(r.bytes for r in self.load)

    @property
    def requests(self) -> int:
        return len(self.load)

    @property
    def posters(self) -> list[Resource]:
        return [r for r in self.resources if r.is_poster]

    @property
    def media(self) -> list[Resource]:
        return [r for r in self.resources if r.is_media]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def listing(self, resources: Iterable[Resource] | None = None) -> str:
        chosen = self.resources if resources is None else list(resources)
        return "\n".join("  " + r.describe() for r in chosen) or "  (nothing)"


class NetworkLog:
    """Records the requests of one page through its own CDP session."""

    def __init__(self, context: Any, page: Any, *, cache_disabled: bool = True) -> None:
        self.page = page
        self.cdp = context.new_cdp_session(page)
        self._by_id: dict[str, Resource] = {}
        self._all: list[Resource] = []
        self.cdp.on("Network.requestWillBeSent", self._will_be_sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._failed)
        self.cdp.send("Network.enable")
        if cache_disabled:
            self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    # CDP events ---------------------------------------------------------------------------

    def _will_be_sent(self, params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        if not url.startswith("http"):
            return  # data: URLs cost nothing on the wire
        rid = params["requestId"]
        hop = params.get("redirectResponse")
        if hop is not None and rid in self._by_id:
            # the redirect's own response (e.g. a 303 after a POST) is a finished entry
            previous = self._by_id[rid]
            previous.status = hop.get("status")
            previous.bytes = int(hop.get("encodedDataLength") or 0)
            previous.done = True
        resource = Resource(
            url=url, method=params["request"]["method"], type=params.get("type") or "Other"
        )
        self._by_id[rid] = resource
        self._all.append(resource)

    def _response(self, params: dict[str, Any]) -> None:
        resource = self._by_id.get(params["requestId"])
        if resource is not None:
            resource.status = params["response"].get("status")
            resource.type = params.get("type") or resource.type

    def _finished(self, params: dict[str, Any]) -> None:
        resource = self._by_id.get(params["requestId"])
        if resource is not None:
            resource.bytes = int(params.get("encodedDataLength") or 0)
            resource.done = True

    def _failed(self, params: dict[str, Any]) -> None:
        resource = self._by_id.get(params["requestId"])
        if resource is not None:
            resource.failed = params.get("errorText") or "failed"
            resource.done = True

    # reading it -------------------------------------------------------------------------------

    def mark(self) -> int:
        return len(self._all)

    def since(self, mark: int = 0) -> Figures:
        return Figures(list(self._all[mark:]))

    def settle(self, timeout_s: float = 10.0) -> None:
        """Wait until every recorded request has finished or failed (bounded)."""
        deadline = time.monotonic() + timeout_s
        while any(not r.done for r in self._all):
            if time.monotonic() > deadline:
                pending = [r.describe() for r in self._all if not r.done]
                raise AssertionError(f"requests still open after {timeout_s}s: {pending}")
            self.page.wait_for_timeout(50)  # lets Playwright dispatch the CDP events

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cdp.detach()


SHELL_EXTRAS_JS = """() => {
  const icon = document.querySelector('link[rel~="icon" i]');
  const manifest = document.querySelector('link[rel="manifest" i]');
  return {
    Icon: icon ? icon.href : new URL('/favicon.ico', location.href).href,
    Manifest: manifest ? manifest.href : null,
  };
}"""
FETCH_JS = (
    "url => fetch(url, {cache: 'no-store'}).then(r => r.arrayBuffer()).then(b => b.byteLength)"
)


def _shell_extras(page: Any, log: NetworkLog, figures: Figures) -> Figures:
    """The icon and the manifest, counted exactly once per cold load.

    Chromium fetches the favicon (``/favicon.ico`` when the page declares none) and,
    on phones, the manifest by itself, outside the page, but only once per browser
    session and not always before the network is idle: whether it shows up in a given
    test would depend on which test ran first. So the browser's own requests for them
    are dropped and each is fetched once from the page, through the same network stack,
    and counted with its resource type set to ``Icon`` / ``Manifest``.
    """
    wanted = {kind: url for kind, url in page.evaluate(SHELL_EXTRAS_JS).items() if url}
    kept = [r for r in figures.resources if r.url not in wanted.values()]
    for kind, url in wanted.items():
        if not url.startswith("http"):
            continue  # data: URL, nothing on the wire
        mark = log.mark()
        page.evaluate(FETCH_JS, url)
        log.settle()
        for resource in log.since(mark).resources:
            resource.type = kind
            kept.append(resource)
    return Figures(kept)


def cold_load(context: Any, url: str) -> Figures:
    """Open ``url`` in a new page of ``context`` with the HTTP cache disabled; the icon
    and the manifest are counted once each (see ``_shell_extras``)."""
    page = context.new_page()
    log = NetworkLog(context, page)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        log.settle()
        return _shell_extras(page, log, log.since(0))
    finally:
        log.close()
        page.close()


# -- journeys over plain HTTP ------------------------------------------------------------


@dataclass
class Form:
    action: str
    classes: str
    hidden: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(action=a.get("action", ""), classes=a.get("class", ""))
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and a.get("type") == "hidden":
            self._open.hidden[a.get("name", "")] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _check(response: Any, pattern: str, where: str) -> str:
    path = urlsplit(response.url).path
    if not response.ok or not re.search(pattern, path):
        raise AssertionError(
            f"{where}: expected a page matching {pattern}, got {response.status} {path}"
        )
    return path


def advance(request: Any, base_url: str, journey: j.Journey, upto: int) -> str:
    """Start ``journey`` and complete its steps before ``upto``; return that step's path.

    ``upto == len(journey.steps)`` submits the review and returns the receipt's path.
    ``request`` is a browser context's ``request`` (it shares the context's cookies);
    the forms are posted as the no-JavaScript journey does (303 → GET).
    """
    service = request.get(urljoin(base_url, f"/{journey.slug}"))
    start = next(f for f in forms(service.text()) if f.action == f"/{journey.slug}/start")
    response = request.post(urljoin(base_url, start.action), form=start.hidden)
    path = _check(response, journey.step_url_regex(journey.steps[0]), f"{journey.slug} start")
    for index, step in enumerate(journey.steps[:upto]):
        form = next(f for f in forms(response.text()) if "form" in f.classes.split())
        data = dict(form.hidden)
        for item in step.fills:
            data.update(item.form())
        if step.kind == "list":
            data["action"] = step.action
        if step.kind == "review":
            data[j.DECLARATION] = "ja"
        response = request.post(urljoin(base_url, form.action or path), form=data)
        following = (
            journey.step_url_regex(journey.steps[index + 1])
            if index + 1 < len(journey.steps)
            else journey.receipt_url_regex
        )
        path = _check(response, following, f"{journey.slug} after step {index + 1} {step.label}")
    return path


def journey_points(journey: j.Journey) -> list[tuple[int, str]]:
    """(index, label) of every step and the receipt (index ``len(steps)``)."""
    points = [(i, f"{i + 1:02d}-{s.label}") for i, s in enumerate(journey.steps)]
    points.append((len(journey.steps), f"{len(journey.steps) + 1:02d}-eingang"))
    return points
