"""Shared fixtures: an app per test (own SQLite file), a database, and a no-JS browser."""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import io
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html import unescape
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode, urlsplit

import pikepdf
import pytest
from quart import Quart
from quart.wrappers import Response
from sqlalchemy.ext.asyncio import AsyncEngine
from werkzeug.datastructures import FileStorage

from app import create_app
from app.db import create_engine, migrate
from app.settings import Settings
from app.web import static
from app.web.static import StaticFiles

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TITLE_RE = re.compile(r"<title>(.*?)</title>", re.S)

Form = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


# -- app and database -----------------------------------------------------------------------


@functools.cache
def _static_files() -> StaticFiles:
    """Hashing and brotli-compressing app/static takes a second; do it once per worker."""
    return StaticFiles()


@asynccontextmanager
async def running(tmp_path: Path, **overrides: Any) -> AsyncIterator[Quart]:
    """An app on its own data directory, migrated (before_serving ran)."""
    with mock.patch.object(static, "StaticFiles", _static_files):
        app = create_app(Settings(data_dir=tmp_path, env="test", **overrides))
    async with app.test_app():
        yield app


@pytest.fixture
def app_with(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[Quart]]:
    """For tests that need other settings: ``async with app_with(upload_max_bytes=…) as app``."""
    counter = iter(range(1000))

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Quart]:
        return running(tmp_path / f"app{next(counter)}", **overrides)

    return factory


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Quart]:
    async with running(tmp_path) as app:
        yield app


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


# -- a browser without JavaScript ----------------------------------------------------------


class Browser:
    """A visitor without JavaScript: keeps its cookies, reads the CSRF token from the last
    page it saw, posts forms and follows the 303 to the next page."""

    def __init__(self, app: Quart) -> None:
        self.app = app
        self.client = app.test_client()
        self.url = ""
        self.html = ""
        self.response: Response | None = None

    async def get(
        self, url: str, *, expect: int | None = 200, headers: Mapping[str, str] | None = None
    ) -> str:
        response = await self.client.get(url, headers=dict(headers or {}))
        await self._remember(url, response)
        if expect is not None:
            assert response.status_code == expect, self._explain("GET", url, response)
        return self.html

    async def submit(
        self,
        url: str | None = None,
        data: Form | None = None,
        *,
        expect: int | None = 303,
        files: Mapping[str, tuple[bytes, str] | FileStorage] | None = None,
        headers: Mapping[str, str] | None = None,
        token: bool = True,
        follow: bool = True,
    ) -> Response:
        """POST ``data`` to ``url`` (default: the page last seen) with its CSRF token.

        A 303 is followed with a GET (unless ``follow`` is false); any other answer becomes
        the page last seen (the 422 page with its errors, an htmx fragment …).
        """
        url = url or self.url
        pairs = _pairs(data or {})
        if token and not any(k == "csrf_token" for k, _ in pairs):
            pairs.append(("csrf_token", self.token()))
        all_headers = dict(headers or {})
        if files is not None:
            assert len({k for k, _ in pairs}) == len(pairs), "multipart: one value per name"
            uploads = {name: _file(spec) for name, spec in files.items()}
            response = await self.client.post(
                url, form=dict(pairs), files=uploads, headers=all_headers
            )
        else:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = await self.client.post(url, data=urlencode(pairs), headers=all_headers)
        if expect is not None:
            assert response.status_code == expect, self._explain(
                "POST", url, response, await _text(response)
            )
        if response.status_code == 303 and follow:
            await self.get(response.headers["Location"], expect=None)
        else:
            await self._remember(url, response)
        return response

    def token(self) -> str:
        match = TOKEN_RE.search(self.html)
        assert match, f"no CSRF token on {self.url}"
        return match.group(1)

    async def _remember(self, url: str, response: Response) -> None:
        # an htmx answer says where the browser now is
        self.url = response.headers.get("HX-Push-Url") or url
        self.response = response
        self.html = await _text(response)

    def _explain(self, method: str, url: str, response: Response, text: str | None = None) -> str:
        body = self.html if text is None else text
        return (
            f"{method} {url} → {response.status_code} "
            f"(Location: {response.headers.get('Location')})\n{main(body)[:3000]}"
        )

    # what the user sees on the last page

    @property
    def status(self) -> int:
        assert self.response is not None
        return self.response.status_code

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def title(self) -> str:
        return title(self.html)

    def text(self) -> str:
        return text(self.html)

    def field_error(self, field_id: str) -> str | None:
        return field_error(self.html, field_id)

    def links(self, label: str) -> list[str]:
        """hrefs of links whose visible text starts with ``label``."""
        return [
            unescape(href)
            for href, inner in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', self.html, re.S)
            if text(inner).startswith(label)
        ]


def _pairs(data: Form) -> list[tuple[str, str]]:
    if isinstance(data, Mapping):
        out: list[tuple[str, str]] = []
        for key, value in data.items():
            if isinstance(value, str):
                out.append((key, value))
            else:
                out.extend((key, v) for v in value)
        return out
    return list(data)


def _file(spec: tuple[bytes, str] | FileStorage) -> FileStorage:
    if isinstance(spec, FileStorage):
        return spec
    content, filename = spec
    return FileStorage(
        io.BytesIO(content), filename=filename, content_type="application/octet-stream"
    )


async def _text(response: Response) -> str:
    return (await response.get_data()).decode("utf-8", errors="replace")


@pytest.fixture
def visitor(app: Quart) -> Browser:
    """A no-JS visitor of ``app`` (named so as not to shadow the root conftest's Chromium
    ``browser`` fixture of the e2e and a11y suites)."""
    return Browser(app)


# -- reading pages --------------------------------------------------------------------------


def title(html: str) -> str:
    match = TITLE_RE.search(html)
    return " ".join(unescape(match.group(1)).split()) if match else ""


def main(html: str) -> str:
    """The main region (or the whole fragment) as text."""
    part = html.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in html else html
    return text(part)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def field_error(html: str, field_id: str) -> str | None:
    match = re.search(
        rf'<p class="field__error" id="f-{re.escape(field_id)}-error">(.*?)</p>', html, re.S
    )
    return text(match.group(1)).removeprefix("Fehler:").strip() if match else None


def error_summary(html: str) -> list[str]:
    match = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    if not match:
        return []
    return [text(li) for li in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)]


def radio_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{re.escape(name)}" value="([^"]*)"', html)


def typed(html: str, name: str) -> str | None:
    """What the form shows for ``name``: an input's value, a textarea's text, the checked
    radio or the selected option."""
    name_attr = f'name="{re.escape(name)}"'
    area = re.search(rf"<textarea [^>]*{name_attr}[^>]*>(.*?)</textarea>", html, re.S)
    if area:
        return unescape(area.group(1))
    select = re.search(rf"<select [^>]*{name_attr}[^>]*>(.*?)</select>", html, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)" selected', select.group(1))
        return unescape(chosen.group(1)) if chosen else None
    for tag in re.findall(rf"<input [^>]*{name_attr}[^>]*>", html):
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="radio"' in tag or 'type="checkbox"' in tag:
            if " checked" in tag and value:
                return unescape(value.group(1))
            continue
        return unescape(value.group(1)) if value else None
    return None


# -- files ----------------------------------------------------------------------------------


def tiny_pdf(text: str = "Arbeitsvertrag") -> bytes:
    """A real one-page PDF with a line of text."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


# -- assertions shared by the journeys ------------------------------------------------------


def assert_rejected(
    b: Browser, errors: Mapping[str, str], kept: Mapping[str, str] | None = None
) -> None:
    """A 422 the way a user should meet it: "Fehler:" in the title, an error summary that
    links to the fields, each message at its field, and what they typed still there."""
    assert b.status == 422, b._explain("POST", b.url, b.response)  # type: ignore[arg-type]
    assert b.title.startswith("Fehler:"), b.title
    summary = error_summary(b.html)
    assert summary, "no error summary"
    assert 'class="error-summary"' in b.html
    for field_id, message in errors.items():
        shown = b.field_error(field_id)
        assert shown is not None, f"no message at {field_id}: {summary}"
        assert message in shown, (field_id, shown)
        assert any(message in line for line in summary), (message, summary)
        assert f'aria-describedby="f-{field_id}-' in b.html or field_id == "declaration"
    for name, value in (kept or {}).items():
        assert typed(b.html, name) == value, f"typed value of {name} not kept"


def date_parts(name: str, day: int | str, month: int | str, year: int | str) -> dict[str, str]:
    return {f"{name}-day": str(day), f"{name}-month": str(month), f"{name}-year": str(year)}


PERSON = {
    "kundennummer": "123D456789",
    "vorname": "Erika",
    "nachname": "Mustermann",
    **date_parts("geburtsdatum", 12, 8, 1964),
}


async def start_flow(b: Browser, slug: str) -> str:
    """Open the service's start page, press "Jetzt starten"; returns the draft id."""
    await b.get(f"/{slug}")
    await b.submit(f"/{slug}/start")
    assert b.path.endswith("/wer/person"), b.path
    return b.path.split("/")[2]


async def person_step(
    b: Browser, kundennummer: str = "123D456789", *, check_errors: bool = True
) -> None:
    """The shared "Angaben zu Ihrer Person" page: first wrong, then right."""
    assert b.path.endswith("/wer/person")
    if check_errors:
        await b.submit(
            data={
                "kundennummer": "12345",
                "vorname": "Erika",
                "nachname": " ",
                **date_parts("geburtsdatum", 31, 2, 1964),
            },
            expect=422,
        )
        assert_rejected(
            b,
            {
                "kundennummer": "Die Kundennummer hat 10 Zeichen",
                "nachname": "Bitte füllen Sie dieses Feld aus.",
                "geburtsdatum": "Dieses Datum gibt es nicht.",
            },
            kept={
                "kundennummer": "12345",
                "vorname": "Erika",
                "geburtsdatum-day": "31",
                "geburtsdatum-month": "2",
                "geburtsdatum-year": "1964",
            },
        )
        assert b.field_error("vorname") is None
    await b.submit(data={**PERSON, "kundennummer": kundennummer})


# -- mail: a real SMTP server ---------------------------------------------------------------

LINK_RE = re.compile(r"https?://[^\s<>\"]+")


class Mailbox:
    """What a real SMTP server (aiosmtpd in a thread) received: ``.port``, ``.messages``."""

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[email.message.EmailMessage] = []
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        for loop, arrived in list(self._waiting):  # wake the test (another thread's loop)
            loop.call_soon_threadsafe(arrived.set)
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    async def wait_for(self, address: str, count: int = 1) -> email.message.EmailMessage:
        """The ``count``-th mail to ``address`` once it has arrived (mail is sent in the
        background, after the answer); fails after 10 seconds."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(10):
            while len(self.to(address)) < count:
                waiter = (loop, asyncio.Event())
                self._waiting.append(waiter)
                try:
                    if len(self.to(address)) < count:
                        await waiter[1].wait()
                finally:
                    self._waiting.remove(waiter)
        return self.to(address)[count - 1]

    @staticmethod
    def body(message: email.message.EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    async def link(self, address: str, count: int = 1) -> str:
        """The path (and query) of the link in the ``count``-th mail to ``address``."""
        message = await self.wait_for(address, count)
        found = LINK_RE.findall(self.body(message))
        assert found, f"no link in the mail to {address}"
        parts = urlsplit(found[0])
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port; build the app with ``app_with(smtp_port=…port)``."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    box.port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
