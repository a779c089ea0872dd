"""Offline in Chromium (``context.set_offline``): the service worker, the drafts on the device,
the queue, restoring a step, the offline page, conflicts and the privacy switches.

The tests that need the service worker create their own contexts with
``service_workers="allow"``; everything else in the suites blocks workers, and every test has
its own browser context (its own storage), so a worker never outlives its test. The drafts
on the device (IndexedDB, ``app/static/js/drafts.js``) work without a worker: those tests
keep the worker blocked.

Contract with the server for conflicts (the last tests; docs/offline.md): a step POST whose
``version`` is older than the draft's and whose values differ from the stored ones answers
409 with a ``.conflict`` block.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import journeys as j

pytestmark = pytest.mark.browser

PHONE = (320, 640)
PERSON = j.PERSON
QUEUED = "Ihre Angaben sind sicher auf diesem Gerät gespeichert"
RESTORED = "Wir haben Ihre Eingaben von diesem Gerät wiederhergestellt."
SENT = "Wir haben Ihre Angaben gesendet."
OFFLINE_TITLE = "Keine Verbindung zum Internet"

#: The device records (without the saved HTML), read straight from IndexedDB.
RECORDS_JS = """
() => new Promise((ok, ko) => {
  const open = indexedDB.open('jcd', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('steps', { keyPath: 'k' });
  open.onerror = () => ko(open.error);
  open.onsuccess = () => {
    const db = open.result, q = db.transaction('steps').objectStore('steps').getAll();
    q.onsuccess = () => {
      db.close();
      ok(q.result.map(r => ({ k: r.k, d: r.d, q: r.q, b: r.b, f: Object.fromEntries(r.f),
                              s: r.s, html: !!r.h })));
    };
  };
})
"""
PUT_JS = """
record => new Promise((ok, ko) => {
  const open = indexedDB.open('jcd', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('steps', { keyPath: 'k' });
  open.onerror = () => ko(open.error);
  open.onsuccess = () => {
    const t = open.result.transaction('steps', 'readwrite');
    t.objectStore('steps').put({ ...record, t: Date.now() });
    t.oncomplete = () => { open.result.close(); ok(); };
  };
})
"""
DATABASES_JS = "async () => (await indexedDB.databases()).map(d => d.name)"
DRAFTS_READY_JS = "() => !!(window.jcd && window.jcd.failed)"
CONTROLLED_JS = "() => !!navigator.serviceWorker.controller"


def records(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(RECORDS_JS)


def wait_for_record(page: Any, predicate: Any, what: str, timeout: float = 10.0) -> dict:
    """Poll IndexedDB until a record satisfies ``predicate`` (the save is debounced)."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = records(page)
        for record in found:
            if predicate(record):
                return record
        page.wait_for_timeout(100)
    raise AssertionError(f"no device record {what}; records: {found}")


def typed_all(record: dict[str, Any]) -> bool:
    """The record holds everything ``PERSON.fills`` typed (the last field is the year)."""
    return all(record["f"].get(name) == value for f in PERSON.fills for name, value in f.form())


def wait_until_gone(page: Any, predicate: Any, what: str, timeout: float = 10.0) -> None:
    """Poll IndexedDB until no record satisfies ``predicate``."""
    deadline = time.monotonic() + timeout
    left: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        left = [r for r in records(page) if predicate(r)]
        if not left:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"device records {what} still there: {left}")


def step_key(page: Any) -> str:
    """ "<draft id>/<step key>" of the step on screen (the record key)."""
    return page.evaluate("() => location.pathname.split('/').slice(2).join('/')")


def start(page: Any, journey: j.Journey = j.VERAENDERUNG, lang: str | None = None) -> None:
    """The first step. drafts.js is not loaded yet: app.js loads it at the first input."""
    j.start(page, journey, lang)


def fill_online(page: Any, fills: Any) -> None:
    """Type while the connection is still there (it drops later): drafts.js gets loaded."""
    j.fill(page, fills)
    page.wait_for_function(DRAFTS_READY_JS)


def install_worker(page: Any, path: str = "/") -> None:
    """Open ``path`` and wait until the worker controls the page and has precached the shell."""
    page.goto(path)
    page.wait_for_function(CONTROLLED_JS, timeout=20_000)
    page.wait_for_function(
        """async () => {
          const keys = await caches.keys();
          const shell = keys.find(k => k.startsWith('jcd-shell-'));
          return !!shell && (await (await caches.open(shell)).keys()).length >= 7;
        }""",
        timeout=20_000,
    )


def assert_notice(page: Any, name: str, text: str) -> None:
    note = page.locator(f"#main [data-pwa-notice='{name}']")
    expect(note).to_be_visible()
    expect(note).to_contain_text(text)
    expect(page.locator("#live")).to_contain_text(text)
    # above the form
    assert page.evaluate(
        """n => { const note = document.querySelector(`#main [data-pwa-notice='${n}']`);
                  const form = document.querySelector('#main form.form');
                  return !form || !!(note.compareDocumentPosition(form)
                                     & Node.DOCUMENT_POSITION_FOLLOWING); }""",
        name,
    ), f"the {name} notice is not above the form"


# -- the queue: "Weiter" offline, sent when the connection is back -----------------------------


@pytest.mark.parametrize("viewport", [PHONE])
def test_weiter_offline_is_queued_and_sent_when_back_online(context: Any, page: Any) -> None:
    journey = j.VERAENDERUNG
    start(page, journey)
    key = step_key(page)
    assert not page.evaluate(DRAFTS_READY_JS), "drafts.js is loaded only when needed"

    # step 1: the connection drops before "Weiter": queued on the device, said on the page
    # and in #live
    fill_online(page, PERSON.fills)
    context.set_offline(True)
    page.locator(j.submit_selector(PERSON)).click()
    assert_notice(page, "queued", QUEUED)
    record = wait_for_record(page, lambda r: r["k"] == key and r["q"], "queued for step 1")
    assert record["f"]["vorname"] == "Erika"
    assert record["f"]["csrf_token"] and record["f"]["version"]
    assert record["html"], "the step's HTML is kept for showing it offline"
    j.wait_for_step(page, journey, PERSON)  # still on step 1, nothing lost
    assert j.step_values(page, PERSON.fills) == j.expected_values(PERSON.fills)

    # back online: sent, and the journey goes on where it was
    context.set_offline(False)
    j.wait_for_step(page, journey, journey.steps[1])
    assert_notice(page, "sent", SENT)
    expect(page.locator("#step-title")).to_be_focused()
    assert not [r for r in records(page) if r["k"] == key], "sent: the device copy is gone"

    # a list step offline: the pressed button ("add") is queued with the form
    list_step = journey.steps[1]
    list_key = step_key(page)
    context.set_offline(True)
    j.submit(page, list_step)
    assert_notice(page, "queued", QUEUED)
    record = wait_for_record(page, lambda r: r["k"] == list_key and r["q"], "queued list step")
    assert record["s"] == ["action", "add"]
    context.set_offline(False)
    j.wait_for_step(page, journey, journey.steps[2])

    # the rest of the journey online; the review shows what was sent from the queue
    for index in range(2, len(journey.steps) - 1):
        j.complete_step(page, journey, index)
    summary = page.locator("main .summary-list").first
    for value in ("123D456789", "Erika", "Mustermann", "27. März 1985"):
        expect(summary).to_contain_text(value)
    j.complete_step(page, journey, len(journey.steps) - 1)
    assert records(page) == [], "after the submission nothing of the draft stays on the device"


@pytest.mark.parametrize("viewport", [PHONE])
def test_queue_is_sent_on_the_next_page_load(context: Any, page: Any) -> None:
    """Queued, tab closed offline, opened again online: sent on load, the journey goes on."""
    journey = j.ORTSABWESENHEIT
    start(page, journey)
    url = page.url
    key = step_key(page)
    fill_online(page, PERSON.fills)
    context.set_offline(True)
    page.locator(j.submit_selector(PERSON)).click()
    wait_for_record(page, lambda r: r["k"] == key and r["q"], "queued")
    page.close()
    context.set_offline(False)

    again = context.new_page()
    again.goto(url)
    j.wait_for_step(again, journey, journey.steps[1])
    wait_until_gone(again, lambda r: r["k"] == key, "of the sent step")


@pytest.mark.parametrize("viewport", [PHONE])
def test_offline_from_the_first_keystroke_with_the_worker(new_context: Any) -> None:
    """Offline before anything was typed: the worker has drafts.js precached. Back online,
    Background Sync (Chromium) and the online event both ask to send: sent once."""
    context = new_context(service_workers="allow")
    page = context.new_page()
    journey = j.ORTSABWESENHEIT
    install_worker(page, f"/{journey.slug}")
    start(page, journey)
    key = step_key(page)
    posts: list[str] = []
    context.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    context.set_offline(True)
    j.fill(page, PERSON.fills)
    page.locator(j.submit_selector(PERSON)).click()
    assert_notice(page, "queued", QUEUED)
    wait_for_record(page, lambda r: r["k"] == key and r["q"], "queued")
    context.set_offline(False)
    j.wait_for_step(page, journey, journey.steps[1])
    wait_until_gone(page, lambda r: r["k"] == key, "of the sent step")
    page.wait_for_timeout(500)
    assert len([u for u in posts if u.endswith("/wer/person")]) == 1, posts


@pytest.mark.parametrize("viewport", [PHONE])
def test_offline_before_drafts_js_ever_loaded(context: Any, page: Any) -> None:
    """No worker, nothing typed, offline at once: drafts.js cannot load; the page says the
    input is still on the page (what it said before offline drafts existed)."""
    start(page, j.VERAENDERUNG)
    context.set_offline(True)
    page.locator(j.submit_selector(PERSON)).click()
    expect(page.locator("#live")).to_contain_text("Ihre Eingaben sind noch auf dieser Seite")
    j.wait_for_step(page, j.VERAENDERUNG, PERSON)


# -- restoring a step -------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE])
def test_reopened_step_restores_device_values(context: Any, page: Any) -> None:
    """Typed, browser closed without "Weiter", opened again: the values are back."""
    journey = j.VERAENDERUNG
    start(page, journey)
    url, key = page.url, step_key(page)
    j.fill(page, PERSON.fills)
    wait_for_record(
        page,
        lambda r: r["k"] == key and typed_all(r),
        "with the typed values",
    )
    page.close()

    again = context.new_page()
    again.goto(url)
    again.wait_for_function(DRAFTS_READY_JS)  # at once: the device holds drafts
    assert_notice(again, "restored", RESTORED)
    assert j.step_values(again, PERSON.fills) == j.expected_values(PERSON.fills)
    # and they go to the server with "Weiter"
    again.locator(j.submit_selector(PERSON)).click()
    j.wait_for_step(again, journey, journey.steps[1])
    wait_until_gone(again, lambda r: r["k"] == key, "of the sent step")


@pytest.mark.parametrize("viewport", [PHONE])
def test_reopened_step_offline_is_shown_from_the_device(new_context: Any) -> None:
    """Typed, closed, opened again offline: the worker shows the step with the values."""
    context = new_context(service_workers="allow")
    page = context.new_page()
    journey = j.VERAENDERUNG
    install_worker(page, f"/{journey.slug}")
    start(page, journey)
    url, key = page.url, step_key(page)
    j.fill(page, PERSON.fills)
    wait_for_record(
        page,
        lambda r: r["k"] == key and typed_all(r),
        "with the typed values",
    )
    page.close()

    context.set_offline(True)
    again = context.new_page()
    again.goto(url)
    expect(again.locator("#step-title")).to_have_text(PERSON.title)
    assert_notice(again, "restored", RESTORED)
    assert j.step_values(again, PERSON.fills) == j.expected_values(PERSON.fills)
    expect(again).to_have_title(re.compile(re.escape(PERSON.title)))

    # "Weiter" still offline: queued; online again: sent, on to the next step
    again.locator(j.submit_selector(PERSON)).click()
    assert_notice(again, "queued", QUEUED)
    context.set_offline(False)
    j.wait_for_step(again, journey, journey.steps[1])
    wait_until_gone(again, lambda r: r["k"] == key, "of the sent step")


# -- the offline page ---------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE])
def test_unvisited_page_offline_shows_the_offline_page(new_context: Any) -> None:
    context = new_context(service_workers="allow")
    page = context.new_page()
    install_worker(page, "/")
    context.set_offline(True)

    # a boosted link: htmx cannot load it, the browser goes to the worker's offline page
    page.locator("main a[href='/veraenderung']").click()
    page.wait_for_url(re.compile(r"/veraenderung$"))
    expect(page.locator("main h1")).to_have_text(OFFLINE_TITLE)

    # a page never visited
    response = page.goto("/impressum")
    assert response is not None and response.status == 200
    expect(page.locator("main h1")).to_have_text(OFFLINE_TITLE)
    expect(page).to_have_title(re.compile(OFFLINE_TITLE))
    assert page.evaluate("() => document.documentElement.lang") == "de"

    # back online, "Noch einmal versuchen" loads the page
    context.set_offline(False)
    page.locator("main [data-offline-page] a[href='']").click()
    expect(page.locator("main h1")).to_have_text("Impressum")


@pytest.mark.parametrize("viewport", [PHONE])
@pytest.mark.parametrize(("lang", "html_lang"), [("en", "en"), ("ls", "de-x-ls")])
def test_offline_page_comes_in_the_visitors_variant(
    new_context: Any, lang: str, html_lang: str
) -> None:
    context = new_context(service_workers="allow")
    page = context.new_page()
    install_worker(page, "/")
    page.goto(f"/hilfe?lang={lang}")  # chosen in the language switch: the worker notes it
    page.wait_for_function(
        """async l => {
          const keys = await caches.keys();
          const shell = keys.find(k => k.startsWith('jcd-shell-'));
          const hit = await (await caches.open(shell)).match('/__jcd/lang');
          return !!hit && (await hit.text()) === l;
        }""",
        arg=lang,
    )
    context.set_offline(True)
    page.goto("/barrierefreiheit")
    assert page.evaluate("() => document.documentElement.lang") == html_lang
    expect(page.locator("main [data-offline-page]")).to_be_visible()


def test_worker_scope_and_caches(new_context: Any, base_url: str) -> None:
    context = new_context(service_workers="allow")
    page = context.new_page()
    install_worker(page, "/")
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == base_url + "/"
    # old caches go on activate: only this version's caches exist
    keys = page.evaluate("async () => caches.keys()")
    assert all(k.startswith("jcd-") for k in keys), keys
    assert len({k.rsplit("-", 1)[1] for k in keys}) == 1, keys
    # never a POST, an htmx request or a personal page in the caches
    cached = page.evaluate(
        """async () => {
          const out = [];
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const r of await cache.keys()) out.push(new URL(r.url).pathname);
          }
          return out;
        }"""
    )
    assert not [p for p in cached if re.match(r"^/(veraenderung|ortsabwesenheit|antraege)", p)]


# -- privacy --------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE])
def test_shared_device_switch_keeps_nothing_on_the_device(context: Any, page: Any) -> None:
    journey = j.VERAENDERUNG
    start(page, journey)
    key = step_key(page)
    j.fill(page, PERSON.fills)
    wait_for_record(page, lambda r: r["k"] == key, "before the switch")

    url = page.url
    assert page.evaluate("() => localStorage.getItem('jcd-drafts')") == "1"

    # "Ich nutze ein fremdes Gerät" on "Meine Anträge": a full-page POST, 303 back
    page.goto("/antraege")
    with page.expect_navigation():
        page.locator("form[data-device-switch] button[value=ja]").click()
    assert page.evaluate("() => location.pathname") == "/antraege"
    expect(page.locator("body")).to_have_attribute("data-device-storage", "off")
    page.wait_for_function(f"async () => !(await ({DATABASES_JS})()).includes('jcd')")
    assert page.evaluate("() => localStorage.getItem('jcd-drafts')") is None

    # for the whole session: on the step nothing is kept either
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-device-storage", "off")
    j.fill(page, [j.Text("vorname", "Erika")])
    page.wait_for_timeout(800)
    assert "jcd" not in page.evaluate(DATABASES_JS), "typing saved data on a shared device"
    assert not page.evaluate(DRAFTS_READY_JS), "drafts.js is not even loaded"

    # offline on a shared device: nothing queued, the page says the input is still there
    context.set_offline(True)
    page.locator(j.submit_selector(PERSON)).click()
    expect(page.locator("#live")).to_contain_text("Ihre Eingaben sind noch auf dieser Seite")
    context.set_offline(False)

    # and back
    page.goto("/antraege")
    with page.expect_navigation():
        page.locator("form[data-device-switch] button[value=nein]").click()
    expect(page.locator("body")).not_to_have_attribute("data-device-storage", "off")


@pytest.mark.parametrize("viewport", [PHONE])
def test_entwurf_loeschen_clears_the_device(context: Any, page: Any) -> None:
    journey = j.VERAENDERUNG
    start(page, journey)
    key = step_key(page)
    j.fill(page, PERSON.fills)
    wait_for_record(page, lambda r: r["k"] == key, "before deleting")
    page.goto("/antraege")
    form = page.locator("main form[data-clear-draft]")
    if form.count() == 0:
        pytest.xfail("/antraege: the delete form has no data-clear-draft yet (lead)")
    page.wait_for_function(DRAFTS_READY_JS)
    form.first.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/antraege\?geloescht=1"))
    assert not [r for r in records(page) if r["d"] == key.split("/")[0]]


@pytest.mark.parametrize("viewport", [PHONE])
def test_receipt_clears_the_device(context: Any, page: Any) -> None:
    """Device data of a draft that was sent from elsewhere goes when its receipt is shown."""
    journey = j.ORTSABWESENHEIT
    start(page, journey)
    draft = step_key(page).split("/")[0]
    # a record the server never saw (e.g. typed on a later step, then sent from another tab)
    page.evaluate(PUT_JS, {"k": f"{draft}/x/y", "d": draft, "u": "/x", "f": [], "b": 1, "q": 0})
    for index in range(len(journey.steps)):
        j.complete_step(page, journey, index)
    if page.locator("main .confirmation-panel[data-clear-draft]").count() == 0:
        pytest.xfail("the receipt has no data-clear-draft yet (lead)")
    wait_until_gone(page, lambda r: r["d"] == draft, "of the submitted draft")


# -- conflicts (server: 409 with a .conflict block) -------------------------------------------


def _person_form(**extra: str) -> dict[str, str]:
    form: dict[str, str] = {}
    for item in PERSON.fills:
        form.update(dict(item.form()))
    form.update(extra)
    return form


def prepare_conflict(context: Any, page: Any, lang: str | None = None) -> tuple[str, str]:
    """Device: step 1 typed ("Erika") but not sent; elsewhere: saved as "Erika Maria".
    Returns (url, record key). xfails while the server has no conflict answer (409)."""
    journey = j.VERAENDERUNG
    start(page, journey, lang)
    url, key = page.url, step_key(page)
    path = page.evaluate("() => location.pathname")
    token = page.locator("input[name=csrf_token]").first.input_value()
    version = page.locator("form.form input[name=version]").input_value()
    j.fill(page, PERSON.fills)
    wait_for_record(
        page,
        lambda r: r["k"] == key and typed_all(r),
        "typed on this device",
    )
    page.close()
    # elsewhere (another tab of the same session) step 1 is saved first, with another first name
    answer = context.request.post(
        path,
        form=_person_form(vorname="Erika Maria", csrf_token=token, version=version),
        max_redirects=0,
    )
    assert answer.status == 303, f"saving elsewhere: {answer.status}"
    probe = context.request.post(
        path,
        form=_person_form(csrf_token=token, version=version),
        headers={"HX-Request": "true"},
        max_redirects=0,
    )
    if probe.status != 409:
        pytest.xfail(
            f"server-side conflict (409) not there yet: a stale POST answered {probe.status}"
        )
    return url, key


@pytest.mark.parametrize("viewport", [PHONE])
def test_conflict_shows_both_versions_and_keeps_the_server_version(context: Any) -> None:
    url, key = prepare_conflict(context, context.new_page())
    page = context.new_page()
    page.goto(url)
    conflict = page.locator("#main .conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Auf diesem Gerät")
    expect(conflict).to_contain_text("Gespeichert")
    expect(conflict).to_contain_text("Erika Maria")  # saved elsewhere
    expect(conflict.locator("text=Erika").first).to_be_visible()  # on this device
    expect(conflict.locator("form input[name=resolve][value=device]")).to_have_count(1)
    keep = conflict.locator(f"[data-discard-device='{key}']")
    expect(keep).to_be_visible()
    assert [r for r in records(page) if r["k"] == key], "kept until the visitor chooses"

    keep.click()
    wait_until_gone(page, lambda r: r["k"] == key, "of the discarded step")
    page.goto(url)
    expect(page.locator("#f-vorname")).to_have_value("Erika Maria")
    expect(page.locator("#main .conflict")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE])
def test_conflict_keep_device_version(context: Any) -> None:
    url, key = prepare_conflict(context, context.new_page())
    page = context.new_page()
    page.goto(url)
    conflict = page.locator("#main .conflict")
    expect(conflict).to_be_visible()
    conflict.locator("form:has(input[name=resolve][value=device]) button[type=submit]").click()
    j.wait_for_step(page, j.VERAENDERUNG, j.VERAENDERUNG.steps[1])
    wait_until_gone(page, lambda r: r["k"] == key, "of the sent step")
    page.goto(url)
    expect(page.locator("#f-vorname")).to_have_value("Erika")
