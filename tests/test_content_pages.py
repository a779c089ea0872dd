"""Content pages: BITV § 4 information (Leichte Sprache, DGS), accessibility statement,
feedback form, help, imprint, privacy and the start page."""

import re
from itertools import pairwise

import pytest
from sqlalchemy import select

from app import create_app
from app.db.tables import feedback
from app.settings import Settings

PAGES = [
    "/",
    "/leichte-sprache",
    "/gebaerdensprache",
    "/barrierefreiheit",
    "/barrierefreiheit/feedback",
    "/barrierefreiheit/feedback/danke",
    "/hilfe",
    "/impressum",
    "/datenschutz",
]
LANGS = {"de": "de", "ls": "de-x-ls", "en": "en"}
DGS_IDS = ["dgs-angebot", "dgs-navigation", "dgs-barrierefreiheit", "dgs-weitere-inhalte"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def app(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, env="test"))
    async with app.test_app():
        yield app


@pytest.fixture
async def client(app):
    return app.test_client()


async def text(response) -> str:
    return await response.get_data(as_text=True)


def main_of(html: str) -> str:
    start = html.index("<main")
    return html[start : html.index("</main>", start)]


async def csrf_token(client) -> str:
    response = await client.get("/barrierefreiheit/feedback")
    match = CSRF.search(await text(response))
    assert match, "feedback form has no CSRF token"
    return match.group(1)


async def feedback_rows(app) -> list:
    async with app.config["DB"].connect() as conn:
        return (await conn.execute(select(feedback))).all()


# --- every page, every variant --------------------------------------------------------


@pytest.mark.parametrize("code", LANGS)
@pytest.mark.parametrize("path", PAGES)
async def test_page_in_every_variant(client, path, code):
    response = await client.get(f"{path}?lang={code}")
    assert response.status_code == 200
    html = await text(response)
    assert f'<html lang="{LANGS[code]}">' in html
    main = main_of(html)
    assert len(re.findall(r"<h1\b", main)) == 1
    assert '<h1 tabindex="-1"' in main
    assert "style=" not in main
    assert "<script" not in main
    assert "hx-on" not in main
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("path", PAGES)
async def test_headings_do_not_skip_levels(client, path):
    main = main_of(await text(await client.get(path)))
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", main)]
    # an error summary (h2) may stand above the h1; from the h1 on no level is skipped
    levels = levels[levels.index(1) :]
    for before, after in pairwise(levels):
        assert after <= before + 1, (path, levels)


@pytest.mark.parametrize("path", ["/leichte-sprache", "/barrierefreiheit", "/hilfe"])
async def test_htmx_request_gets_a_fragment(client, path):
    response = await client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = await text(response)
    assert "<html" not in html
    assert "<title>" in html
    assert '<h1 tabindex="-1"' in html
    assert response.headers["HX-Push-Url"] == path


# --- start page -----------------------------------------------------------------------


async def test_start_page_offers_services_and_bitv_links(client):
    main = main_of(await text(await client.get("/?lang=de")))
    assert 'class="service-list"' in main
    assert 'href="/veraenderung"' in main
    assert 'href="/ortsabwesenheit"' in main
    assert 'href="/leichte-sprache"' in main
    assert 'href="/gebaerdensprache"' in main


async def test_healthz_still_works(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "ok"


# --- Leichte Sprache ------------------------------------------------------------------


@pytest.mark.parametrize("code", LANGS)
async def test_leichte_sprache_has_the_four_topics_in_every_variant(client, code):
    main = main_of(await text(await client.get(f"/leichte-sprache?lang={code}")))
    assert '<div lang="de-x-ls" class="ls-text">' in main
    for anchor in ("angebot", "navigation", "barrierefreiheit", "weitere-inhalte"):
        assert f'<section id="{anchor}">' in main
        assert f'href="#{anchor}"' in main
    # the content is Leichte Sprache whatever the variant: one sentence per line
    assert "Diese Internet-Seite gehört zum Jobcenter.\nSie bekommen Geld vom Jobcenter?" in main
    assert "Erklärung zur Barriere-Freiheit" in main
    assert 'href="/barrierefreiheit/feedback"' in main
    assert 'href="https://www.schlichtungsstelle-bgg.de"' in main
    assert 'href="/gebaerdensprache"' in main


async def test_leichte_sprache_avoids_abbreviations(client):
    main = main_of(await text(await client.get("/leichte-sprache?lang=ls")))
    body = re.sub(r"<[^>]+>", " ", main)
    for abbreviation in ("z. B.", "z.B.", "usw.", "bzw.", "ggf.", "Nr.", "d. h.", "SGB"):
        assert abbreviation not in body


async def test_leichte_sprache_one_short_sentence_per_line(client):
    """The same cheap checks as tests/test_i18n.py, on the rendered page."""
    main = main_of(await text(await client.get("/leichte-sprache?lang=de")))
    content = main[main.index('class="ls-text"') :]
    blocks = re.findall(r"<(?:p|li|h2|h3)>(.*?)</(?:p|li|h2|h3)>", content, flags=re.S)
    assert len(blocks) > 20
    for block in blocks:
        for line in re.sub(r"<[^>]+>", "", block).splitlines():
            assert not re.search(r"[.!?:] +[A-ZÄÖÜ0-9„]", line), line
            assert len(line.split()) <= 16, line
            assert ";" not in line


# --- Gebärdensprache ------------------------------------------------------------------


@pytest.mark.parametrize("code", LANGS)
async def test_gebaerdensprache_has_four_videos(client, code):
    main = main_of(await text(await client.get(f"/gebaerdensprache?lang={code}")))
    videos = re.findall(r"<video\b[^>]*>", main)
    assert len(videos) == 4
    assert all('preload="none"' in v for v in videos)
    assert main.count('<track kind="captions"') >= 4
    for video_id in DGS_IDS:
        assert f'<section id="{video_id}">' in main
        assert f'id="video-{video_id}"' in main
    assert len(re.findall(r"<h2>", main)) == 4
    downloads = re.findall(r"<a href=\"[^\"]+\.webm\" download>([^<]+)</a>", main)
    assert len(downloads) >= 4
    assert all(re.search(r"\d+ KB", d) for d in downloads)
    assert main.count('class="tag"') == 4  # sample videos are openly marked
    assert 'class="notice notice--warning"' in main


@pytest.mark.parametrize("save_data", [None, "on"])
async def test_smallest_rendition_comes_first(client, save_data):
    headers = {"Save-Data": save_data} if save_data else {}
    main = main_of(await text(await client.get("/gebaerdensprache", headers=headers)))
    for video in re.findall(r"<video\b.*?</video>", main, flags=re.S):
        widths = [int(w) for w in re.findall(r'<source [^>]*data-width="(\d+)"', video)]
        assert widths and widths == sorted(widths)
        assert 'width="320" height="240"' in video


# --- Erklärung zur Barrierefreiheit ---------------------------------------------------


async def test_statement_has_the_required_parts(client):
    main = main_of(await text(await client.get("/barrierefreiheit?lang=de")))
    assert "teilweise barrierefrei" in main
    assert "Beispielvideos" in main
    assert "Leichter Sprache" in main and "Zielgruppe" in main
    assert "PDF" in main
    assert "25. November 2026" in main
    assert "axe-core" in main and "Tastatur" in main and "Selbstbewertung" in main
    assert "0800 4 5555 00" in main
    assert 'href="/barrierefreiheit/feedback"' in main
    assert "innerhalb von einem Monat" in main
    assert "barrierefreiheit@jobcenter-musterstadt.example" in main
    assert "Musterstraße 1" in main
    assert 'href="https://www.schlichtungsstelle-bgg.de"' in main
    assert "§ 16 BGG" in main


# --- Feedback -------------------------------------------------------------------------


async def test_feedback_form_markup(client):
    response = await client.get("/barrierefreiheit/feedback")
    assert response.headers["Cache-Control"] == "no-store"
    main = main_of(await text(response))
    assert 'method="post" action="/barrierefreiheit/feedback"' in main
    assert 'name="csrf_token"' in main
    for name in ("seite", "nachricht", "email", "antwort"):
        assert f'name="{name}"' in main
    assert 'for="f-antwort"' in main
    assert "error-summary" not in main


@pytest.mark.parametrize(
    ("seite", "shown"),
    [
        ("/veraenderung", "/veraenderung"),
        ("/antraege?x=1", "/antraege?x=1"),
        ("https://evil.example/", ""),
        ("//evil.example/", ""),
        ("/\\evil.example", ""),
        ("javascript:alert(1)", ""),
    ],
)
async def test_feedback_page_prefilled_only_with_same_site_path(client, seite, shown):
    response = await client.get("/barrierefreiheit/feedback", query_string={"seite": seite})
    html = await text(response)
    value = re.search(r'name="seite" type="text" value="([^"]*)"', html).group(1)
    assert value.replace("&amp;", "&") == shown


async def test_empty_feedback_answers_422_with_error_summary(client, app):
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback",
        form={"csrf_token": token, "seite": "/hilfe", "nachricht": "   ", "email": "a@b.de"},
    )
    assert response.status_code == 422
    html = await text(response)
    assert re.search(r"<title>Fehler: Feedback zur Barrierefreiheit", html)
    main = main_of(html)
    assert '<div class="error-summary" tabindex="-1" autofocus' in main
    assert 'href="#f-nachricht"' in main
    assert 'class="field__error" id="f-nachricht-error"' in main
    assert 'aria-invalid="true"' in main
    # what the visitor typed is kept
    assert 'value="/hilfe"' in main
    assert 'value="a@b.de"' in main
    assert await feedback_rows(app) == []


async def test_feedback_keeps_typed_text_and_asks_for_email_when_answer_wanted(client, app):
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback",
        form={
            "csrf_token": token,
            "nachricht": "Der Knopf <b>Weiter</b> ist zu klein.",
            "antwort": "ja",
            "email": "",
        },
    )
    assert response.status_code == 422
    main = main_of(await text(response))
    assert "Der Knopf &lt;b&gt;Weiter&lt;/b&gt; ist zu klein.</textarea>" in main
    assert 'href="#f-email"' in main
    assert 'id="f-antwort" name="antwort" value="ja" checked' in main
    assert "f-nachricht-error" not in main
    assert await feedback_rows(app) == []


async def test_feedback_rejects_bad_email_and_overlong_text(client, app):
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback",
        form={"csrf_token": token, "nachricht": "x" * 5001, "email": "keine-adresse"},
    )
    assert response.status_code == 422
    main = main_of(await text(response))
    assert 'href="#f-nachricht"' in main
    assert 'href="#f-email"' in main
    assert "5001" in main
    assert await feedback_rows(app) == []


async def test_feedback_without_csrf_token_is_refused(client, app):
    await client.get("/barrierefreiheit/feedback")  # a session exists, the token is missing
    response = await client.post("/barrierefreiheit/feedback", form={"nachricht": "Hallo"})
    assert response.status_code == 403
    response = await client.post(
        "/barrierefreiheit/feedback", form={"nachricht": "Hallo", "csrf_token": "falsch"}
    )
    assert response.status_code == 403
    assert await feedback_rows(app) == []


async def test_feedback_from_another_site_is_refused(client, app):
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback",
        form={"csrf_token": token, "nachricht": "Hallo"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert await feedback_rows(app) == []


async def test_valid_feedback_is_stored_and_redirects(client, app):
    await client.get("/barrierefreiheit/feedback?lang=en")
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback",
        form={
            "csrf_token": token,
            "seite": "/veraenderung",
            "nachricht": "Das Video hat\r\nkeine Untertitel.",
            "antwort": "ja",
            "email": "erika@example.org",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/barrierefreiheit/feedback/danke"
    rows = await feedback_rows(app)
    assert len(rows) == 1
    row = rows[0]
    assert row.page == "/veraenderung"
    assert row.message == "Das Video hat\nkeine Untertitel."
    assert row.email == "erika@example.org"
    assert row.wants_answer is True
    assert row.lang == "en"
    assert row.created_at is not None and row.answered_at is None
    assert len(row.id) >= 20

    thanks = main_of(await text(await client.get("/barrierefreiheit/feedback/danke?lang=de")))
    assert "innerhalb von einem Monat" in thanks


async def test_minimal_feedback_stores_nulls(client, app):
    token = await csrf_token(client)
    response = await client.post(
        "/barrierefreiheit/feedback", form={"csrf_token": token, "nachricht": "Zu wenig Kontrast"}
    )
    assert response.status_code == 303
    (row,) = await feedback_rows(app)
    assert row.page is None and row.email is None and row.wants_answer is False


# --- Datenschutz, Impressum, Hilfe ----------------------------------------------------


async def test_privacy_page_says_what_is_stored_where(client):
    main = main_of(await text(await client.get("/datenschutz?lang=de")))
    assert "jcd_session" in main
    assert "jcd_lang" in main
    assert "6 Monate" in main and "Meine Anträge" in main
    assert '<section id="geraet">' in main
    assert "Wenn Sie offline weiterarbeiten, speichert Ihr Browser" in main
    assert "Kein Tracking" in main


async def test_help_and_imprint(client):
    help_page = main_of(await text(await client.get("/hilfe?lang=de")))
    assert "0800 4 5555 00" in help_page
    assert "Montag bis Freitag" in help_page
    assert "Meine Anträge" in help_page
    assert 'href="/leichte-sprache"' in help_page and 'href="/gebaerdensprache"' in help_page
    imprint = main_of(await text(await client.get("/impressum?lang=de")))
    assert "gemeinsame Einrichtung" in imprint
    assert "Jobcenter Musterstadt" in imprint
