"""Complete valid journeys through both e-services, as data, plus helpers to drive them.

The steps, field ids and titles follow the flow definitions in
``app/flows/definitions/`` (checked without a browser by ``e2e/test_journey_data.py``,
which walks each journey through the form-flow engine). Both the e2e suite and the a11y
suite use them.

Markup contract (``app/partials/eservice/fields.html``): inputs ``#f-<field>``, date parts
``#f-<field>-day|month|year``, radios ``input[name=<field>][value=<value>]``, the "Reiche
ich später nach" box ``#f-<field>-later``, list steps ``button[name=action][value=add|weiter]``,
the review's ``#declaration`` and its primary button ("Jetzt absenden").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

TODAY = datetime.now(ZoneInfo("Europe/Berlin")).date()


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


# -- what to do on a step --------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text-like input or textarea ``#f-<id>`` (text, number, money, email, phone, IBAN)."""

    id: str
    value: str

    def form(self) -> list[tuple[str, str]]:
        return [(self.id, self.value)]


@dataclass(frozen=True)
class Date:
    """A date as three inputs ``#f-<id>-day``, ``-month``, ``-year``."""

    id: str
    value: date

    @property
    def parts(self) -> list[tuple[str, str]]:
        v = self.value
        return [("day", str(v.day)), ("month", str(v.month)), ("year", str(v.year))]

    def form(self) -> list[tuple[str, str]]:
        return [(f"{self.id}-{part}", text) for part, text in self.parts]


@dataclass(frozen=True)
class Radio:
    """One radio of a group: ``input[name=<id>][value=<value>]``."""

    id: str
    value: str

    def form(self) -> list[tuple[str, str]]:
        return [(self.id, self.value)]


@dataclass(frozen=True)
class Select:
    id: str
    value: str

    def form(self) -> list[tuple[str, str]]:
        return [(self.id, self.value)]


@dataclass(frozen=True)
class Later:
    """Tick "Reiche ich später nach" of the file field ``<id>``."""

    id: str

    @property
    def element_id(self) -> str:
        return f"f-{self.id}-later"

    def form(self) -> list[tuple[str, str]]:
        return [(f"{self.id}-later", "ja")]


Fill = Text | Date | Radio | Select | Later


@dataclass(frozen=True)
class Step:
    """One step: its key (``*`` stands for an item id), German h1, what to enter, how to go on.

    ``kind`` is ``page``, ``list`` or ``review``; ``action`` on a list step is ``add`` or
    ``weiter``. ``invalid`` is input that the step must reject (for steps where leaving
    everything empty is valid); ``empty_ok`` says an empty submit passes.
    """

    key: str
    title: str
    fills: tuple[Fill, ...] = ()
    kind: str = "page"
    action: str = "weiter"
    invalid: tuple[Fill, ...] = ()
    empty_ok: bool = False

    @property
    def path_regex(self) -> str:
        """The URL path of this step below ``/<slug>/<draft id>/`` (JS and Python syntax)."""
        parts = ["[^/]+" if p == "*" else re.escape(p) for p in self.key.split("/")]
        return "/".join(parts)

    @property
    def label(self) -> str:
        suffix = f" ({self.action})" if self.kind == "list" else ""
        return f"{self.key}{suffix}"


@dataclass(frozen=True)
class Journey:
    slug: str
    service_title: str  # link text on the start page and h1 of the service page
    steps: tuple[Step, ...]
    reference_prefix: str
    receipt_title: str = "Ihre Mitteilung ist angekommen"
    extra: dict[str, Any] = field(default_factory=dict)

    def step_url_regex(self, step: Step) -> str:
        return rf"^/{self.slug}/[^/]+/{step.path_regex}$"

    @property
    def receipt_url_regex(self) -> str:
        return rf"^/{self.slug}/eingang/[^/]+$"

    @property
    def reference_regex(self) -> str:
        return rf"^{self.reference_prefix}-\d{{4}}-[A-Z0-9]{{4}}-[A-Z0-9]{{4}}$"


# -- the two journeys ------------------------------------------------------------------------

DECLARATION = "declaration"

PERSON = Step(
    "wer/person",
    "Angaben zu Ihrer Person",
    (
        Text("kundennummer", "123D456789"),
        Text("bg_nummer", "12345BG1234567"),
        Text("vorname", "Erika"),
        Text("nachname", "Mustermann"),
        Date("geburtsdatum", date(1985, 3, 27)),
    ),
    invalid=(Text("kundennummer", "123"), Date("geburtsdatum", TODAY + timedelta(days=30))),
)

REVIEW_TITLE = "Daten überprüfen"

VERAENDERUNG = Journey(
    slug="veraenderung",
    service_title="Veränderung mitteilen",
    reference_prefix="VM",
    steps=(
        PERSON,
        Step(
            "haushalt/_liste",
            "Wer lebt noch in Ihrer Bedarfsgemeinschaft?",
            kind="list",
            action="add",
        ),
        Step(
            "haushalt/*/mitglied",
            "Angaben zur Person 1 im Haushalt",
            (
                Text("vorname", "Max"),
                Text("nachname", "Mustermann"),
                Date("geburtsdatum", date(2015, 6, 1)),
            ),
        ),
        Step("haushalt/_liste", "Wer lebt noch in Ihrer Bedarfsgemeinschaft?", kind="list"),
        Step(
            "aenderungen/*/art",
            "Was hat sich geändert? (Änderung 1)",
            (Radio("art", "arbeit_beginn"),),
        ),
        Step(
            "aenderungen/*/betrifft",
            "Wen betrifft die Änderung?",
            (
                Radio("person", "ich"),
                Date("datum", _first_of_next_month(TODAY)),
            ),
        ),
        Step(
            "aenderungen/*/arbeit",
            "Angaben zur Arbeit",
            (
                Text("arbeitgeber", "Bäckerei Schmidt GmbH"),
                Text("stunden", "20"),
                Text("brutto", "1.200,00"),
                Text("netto", "950,50"),
                Later("nachweis"),
            ),
            invalid=(Text("stunden", "200"), Text("brutto", "viel")),
        ),
        Step("aenderungen/_liste", "Ihre Änderungen", kind="list", action="add"),
        Step("aenderungen/*/art", "Was hat sich geändert? (Änderung 2)", (Radio("art", "bank"),)),
        Step(
            "aenderungen/*/betrifft",
            "Wen betrifft die Änderung?",
            (
                Radio("person", "ich"),
                Date("datum", _first_of_next_month(TODAY)),
            ),
        ),
        Step(
            "aenderungen/*/bank",
            "Ihre neue Bankverbindung",
            (
                Text("kontoinhaber", "Erika Mustermann"),
                Text("iban", "DE89 3704 0044 0532 0130 00"),
            ),
            invalid=(Text("iban", "DE00 1234 5678"),),
        ),
        Step("aenderungen/_liste", "Ihre Änderungen", kind="list"),
        Step(
            "rueckfragen/kontakt",
            "Wie erreichen wir Sie bei Rückfragen?",
            (
                Text("telefon", "0151 2345678"),
                Text("email", "erika.mustermann@example.org"),
            ),
            invalid=(Text("email", "kein-at-zeichen"),),
            empty_ok=True,
        ),
        Step("_pruefen", REVIEW_TITLE, (), kind="review"),
    ),
)

ORTSABWESENHEIT = Journey(
    slug="ortsabwesenheit",
    service_title="Ortsabwesenheit beantragen",
    reference_prefix="OA",
    steps=(
        PERSON,
        Step(
            "zeitraum/daten",
            "Wann sind Sie nicht erreichbar?",
            (
                Date("von", TODAY + timedelta(days=21)),
                Date("bis", TODAY + timedelta(days=27)),
            ),
            invalid=(
                Date("von", TODAY - timedelta(days=1)),
                Date("bis", TODAY - timedelta(days=3)),
            ),
        ),
        Step(
            "zeitraum/ziel",
            "Wohin fahren Sie?",
            (
                Radio("ziel", "ausland"),
                Text("ort", "Krakau"),
            ),
        ),
        Step("zeitraum/land", "In welches Land fahren Sie?", (Text("land", "Polen"),)),
        Step("grund/art", "Warum sind Sie nicht erreichbar?", (Radio("grund", "wichtig"),)),
        Step(
            "grund/wichtig",
            "Welcher wichtige Grund?",
            (
                Radio("wichtiger_grund", "familie"),
                Text("erlaeuterung", "Hochzeit meiner Schwester in Krakau."),
                Later("nachweis"),
            ),
        ),
        Step(
            "erreichbarkeit/kontakt",
            "Wie erreichen wir Sie während der Abwesenheit?",
            (
                Text("telefon", "+48 123 456 789"),
                Text("anschrift", "ul. Floriańska 1\n31-019 Kraków\nPolen"),
            ),
        ),
        Step("_pruefen", REVIEW_TITLE, (), kind="review"),
    ),
)

JOURNEYS = {j.slug: j for j in (VERAENDERUNG, ORTSABWESENHEIT)}


# -- driving a page --------------------------------------------------------------------------

SETTLED_JS = """
([pattern]) => {
  if (!new RegExp(pattern).test(location.pathname)) return false;
  const main = document.getElementById('main');
  if (!main || main.getAttribute('aria-busy') === 'true') return false;
  if (document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')) return false;
  const version = main.querySelector('form.form input[name=version]');
  const form = version && version.form;
  if (form && new URL(form.getAttribute('action'), location.href).pathname !== location.pathname)
    return false;
  return document.readyState !== 'loading';
}
"""


def wait_for_path(page: Any, pattern: str, *, js: bool = True) -> None:
    """Wait until the URL path matches ``pattern`` and (with JavaScript) the swap settled."""
    if js:
        page.wait_for_function(SETTLED_JS, arg=[pattern])
    else:
        regex = re.compile(pattern)
        page.wait_for_url(lambda url: bool(regex.search(urlsplit(url).path)))


def wait_for_step(page: Any, journey: Journey, step: Step, *, js: bool = True) -> None:
    wait_for_path(page, journey.step_url_regex(step), js=js)


def wait_for_receipt(page: Any, journey: Journey, *, js: bool = True) -> None:
    wait_for_path(page, journey.receipt_url_regex, js=js)


def submit_selector(step: Step) -> str:
    if step.kind == "list":
        return f"main form.form button[name=action][value={step.action}]"
    return "main form.form button[type=submit].button--primary"


def start_selector(journey: Journey) -> str:
    return f"main form[action='/{journey.slug}/start'] button[type=submit]"


def start(page: Any, journey: Journey, lang: str | None = None, *, js: bool = True) -> None:
    """Open the service page (``?lang=`` if given) and press "Jetzt starten"."""
    page.goto(f"/{journey.slug}" + (f"?lang={lang}" if lang else ""))
    page.locator(start_selector(journey)).click()
    wait_for_step(page, journey, journey.steps[0], js=js)


def fill(page: Any, fills: tuple[Fill, ...] | list[Fill]) -> None:
    """Enter values with Playwright's fill/check (fast; the keyboard path is ``type_in``)."""
    for item in fills:
        if isinstance(item, Text):
            page.locator(f"#f-{item.id}").fill(item.value)
        elif isinstance(item, Date):
            for part, text in item.parts:
                page.locator(f"#f-{item.id}-{part}").fill(text)
        elif isinstance(item, Radio):
            page.locator(f"input[name='{item.id}'][value='{item.value}']").check()
        elif isinstance(item, Select):
            page.locator(f"#f-{item.id}").select_option(item.value)
        elif isinstance(item, Later):
            page.locator(f"#{item.element_id}").check()
        else:  # pragma: no cover - exhaustive
            raise TypeError(item)


def clear(page: Any, fills: tuple[Fill, ...] | list[Fill]) -> None:
    """Empty the inputs a step would fill (for the "submit empty" error state)."""
    for item in fills:
        if isinstance(item, Text):
            page.locator(f"#f-{item.id}").fill("")
        elif isinstance(item, Date):
            for part, _ in item.parts:
                page.locator(f"#f-{item.id}-{part}").fill("")
        elif isinstance(item, Later):
            page.locator(f"#{item.element_id}").set_checked(False)


def submit(page: Any, step: Step) -> None:
    if step.kind == "review":
        page.locator(f"#{DECLARATION}").check()
    page.locator(submit_selector(step)).click()


def complete_step(page: Any, journey: Journey, index: int, *, js: bool = True) -> None:
    """Fill step ``index`` validly, submit it and wait for the next step (or the receipt)."""
    step = journey.steps[index]
    fill(page, step.fills)
    submit(page, step)
    wait_after(page, journey, index, js=js)


def wait_after(page: Any, journey: Journey, index: int, *, js: bool = True) -> None:
    """Wait for what follows step ``index``: the next step, or the receipt after the last."""
    if index + 1 < len(journey.steps):
        wait_for_step(page, journey, journey.steps[index + 1], js=js)
    else:
        wait_for_receipt(page, journey, js=js)


def step_values(page: Any, fills: tuple[Fill, ...]) -> dict[str, Any]:
    """What the inputs of ``fills`` currently show (for "values were kept" checks)."""
    out: dict[str, Any] = {}
    for item in fills:
        if isinstance(item, Text | Select):
            out[item.id] = page.locator(f"#f-{item.id}").input_value()
        elif isinstance(item, Date):
            out[item.id] = tuple(
                page.locator(f"#f-{item.id}-{part}").input_value() for part, _ in item.parts
            )
        elif isinstance(item, Radio):
            out[item.id] = page.locator(
                f"input[name='{item.id}'][value='{item.value}']"
            ).is_checked()
        elif isinstance(item, Later):
            out[item.element_id] = page.locator(f"#{item.element_id}").is_checked()
    return out


def expected_values(fills: tuple[Fill, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fills:
        if isinstance(item, Text | Select):
            out[item.id] = item.value
        elif isinstance(item, Date):
            out[item.id] = tuple(text for _, text in item.parts)
        elif isinstance(item, Radio):
            out[item.id] = True
        elif isinstance(item, Later):
            out[item.element_id] = True
    return out


# -- keyboard only ---------------------------------------------------------------------------

ACTIVE_MATCHES_JS = "s => !!document.activeElement && document.activeElement.matches(s)"
ACTIVE_DESCRIBE_JS = """() => {
  const e = document.activeElement;
  if (!e) return 'nothing';
  return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.getAttribute('name') ? `[name=${e.getAttribute('name')}]` : '');
}"""


def tab_to(page: Any, selector: str, *, backwards: bool = False, max_presses: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``."""
    key = "Shift+Tab" if backwards else "Tab"
    visited: list[str] = []
    for _ in range(max_presses):
        if page.evaluate(ACTIVE_MATCHES_JS, selector):
            return
        visited.append(page.evaluate(ACTIVE_DESCRIBE_JS))
        page.keyboard.press(key)
    if page.evaluate(ACTIVE_MATCHES_JS, selector):
        return
    raise AssertionError(
        f"{selector!r} not reached with {max_presses} × {key}; focus went through: "
        + " → ".join(visited[:40])
    )


def _type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    if page.evaluate("s => document.querySelector(s).value", selector):
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
    page.keyboard.type(text)


def _check_by_keyboard(page: Any, selector: str) -> None:
    tab_to(page, selector)
    if not page.evaluate("s => document.querySelector(s).checked", selector):
        page.keyboard.press("Space")


def _choose_radio(page: Any, name: str, value: str) -> None:
    """Tab into the group, then arrow keys to the wanted radio and Space to be sure."""
    tab_to(page, f"input[type=radio][name='{name}']")
    count = page.locator(f"input[type=radio][name='{name}']").count()
    for _ in range(count + 1):
        if page.evaluate(ACTIVE_MATCHES_JS, f"input[name='{name}'][value='{value}']"):
            if not page.evaluate("() => document.activeElement.checked"):
                page.keyboard.press("Space")
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"radio {name}={value} not reached with the arrow keys")


def _choose_option(page: Any, selector: str, value: str) -> None:
    tab_to(page, selector)
    count = page.locator(f"{selector} option").count()
    for _ in range(count + 1):
        if page.evaluate("s => document.querySelector(s).value", selector) == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value!r} of {selector} not reached with the arrow keys")


def type_in(page: Any, fills: tuple[Fill, ...] | list[Fill]) -> None:
    """Enter values with the keyboard only: Tab to each input, then type / arrows / Space."""
    for item in fills:
        if isinstance(item, Text):
            _type_into(page, f"#f-{item.id}", item.value)
        elif isinstance(item, Date):
            for part, text in item.parts:
                _type_into(page, f"#f-{item.id}-{part}", text)
        elif isinstance(item, Radio):
            _choose_radio(page, item.id, item.value)
        elif isinstance(item, Select):
            _choose_option(page, f"#f-{item.id}", item.value)
        elif isinstance(item, Later):
            _check_by_keyboard(page, f"#{item.element_id}")
        else:  # pragma: no cover - exhaustive
            raise TypeError(item)


def submit_by_keyboard(page: Any, step: Step) -> None:
    if step.kind == "review":
        _check_by_keyboard(page, f"#{DECLARATION}")
    tab_to(page, submit_selector(step))
    page.keyboard.press("Enter")
