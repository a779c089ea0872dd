"""The installable web app without a browser: manifest, /sw.js, offline page, the
"fremdes Gerät" switch and the markup contract of app.js / drafts.js (docs/offline.md).

The service worker's behaviour in Chromium is tested in e2e/test_offline.py.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest
from PIL import Image
from quart import Quart

from app import pwa
from app.web.static import STATIC_DIR
from conftest import Browser, start_flow

ROOT = Path(__file__).resolve().parent.parent
HTML_LANG = {"de": "de", "ls": "de-x-ls", "en": "en"}
CONFIG_RE = re.compile(r"self\.JCD_CONFIG = (\{.*?\});")
#: app.js is on every page (docs/frontend.md); drafts.js only where a draft is on screen.
#: raw bytes; app.js loads the others only where needed (drafts.js on form steps,
#: passkey.js where a passkey form is, session.js when logged in)
BUDGETS = {
    "js/app.js": 9 * 1024,
    "js/drafts.js": 12 * 1024,
    "js/passkey.js": 8 * 1024,
    "js/session.js": 4 * 1024,
}
SW_BUDGET = 10 * 1024


def _config(source: str) -> dict:
    match = CONFIG_RE.search(source)
    assert match, "JCD_CONFIG not filled in"
    return json.loads(match.group(1))


async def _get(app: Quart, url: str, **headers: str):  # type: ignore[no-untyped-def]
    response = await app.test_client().get(url, headers=headers)
    return response, await response.get_data()


# -- the manifest -----------------------------------------------------------------------------


async def test_manifest(app: Quart) -> None:
    response, body = await _get(app, "/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    data = json.loads(body)
    for key in ("name", "short_name", "id", "start_url", "scope", "lang", "description"):
        assert data[key], key
    assert data["display"] == "standalone"
    assert data["start_url"] == data["scope"] == data["id"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", data["background_color"])
    kinds = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    } <= kinds
    for icon in data["icons"]:
        assert re.search(r"\.[0-9a-f]{12}\.png$", icon["src"]), icon["src"]
        answer, png = await _get(app, icon["src"])
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        size = int(icon["sizes"].split("x")[0])
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (size, size), icon["src"]
            if icon["purpose"] == "maskable":  # full bleed: no transparent pixel
                assert image.convert("RGBA").getextrema()[3][0] == 255


async def test_manifest_follows_the_language_variant(app: Quart) -> None:
    response, body = await _get(app, "/manifest.webmanifest?lang=en")
    assert json.loads(body)["lang"] == "en"
    assert "cookie" in response.headers["Vary"].lower()


@pytest.mark.parametrize("path", ["/", "/hilfe", "/antraege", "/veraenderung", "/offline/de"])
async def test_every_page_links_the_manifest(app: Quart, path: str) -> None:
    _response, body = await _get(app, path)
    html = body.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'<meta name="theme-color" content="#[0-9a-f]{6}">', html)


def test_icons_are_what_the_script_draws(tmp_path: Path) -> None:
    """scripts/make_icons.py is deterministic: the committed PNGs are its output."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "scripts/make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for size in (192, 512):
        for maskable in (False, True):
            name = f"icon-{'maskable-' if maskable else ''}{size}.png"
            drawn = module.draw_icon(size, maskable=maskable).convert("RGBA")
            with Image.open(STATIC_DIR / "img" / name) as stored:
                assert stored.convert("RGBA").tobytes() == drawn.tobytes(), name
            assert (STATIC_DIR / "img" / name).stat().st_size < 8 * 1024, name


# -- /sw.js -------------------------------------------------------------------------------


async def test_worker_is_served_from_the_root_and_not_cached(app: Quart) -> None:
    response, body = await _get(app, "/sw.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in response.headers  # the root scope is the default
    config = _config(body.decode())
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    static = app.config["STATIC"]
    for rel in ("css/app.css", "js/vendor/htmx-2.0.11.min.js", "js/app.js", "js/drafts.js"):
        assert static.url(rel) in config["precache"], rel
    for rel, _size, _purpose in pwa.ICONS:
        assert static.url(rel) in config["precache"], rel
    assert config["offline"] == {code: f"/offline/{code}" for code in HTML_LANG}
    for url in config["precache"]:
        answer, _ = await _get(app, url)
        assert answer.status_code == 200, url
    # no personal page may ever be kept
    assert not [
        p for p in config["public"] if re.match(r"^/(veraenderung|ortsabwesenheit|antraege)", p)
    ]

    etag = response.headers["ETag"]
    again, _ = await _get(app, "/sw.js", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "no-cache"
    packed, data = await _get(app, "/sw.js", **{"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(data) == body
    assert len(body) <= SW_BUDGET, f"sw.js is {len(body)} bytes"


async def test_rendered_worker_is_valid_javascript(app: Quart, tmp_path: Path) -> None:
    """Node.js is on every machine of this project's kind (env: python machine)."""
    assert shutil.which("node"), "node is needed to check the rendered service worker"
    _response, body = await _get(app, "/sw.js")
    path = tmp_path / "sw.js"
    path.write_bytes(body)
    node = await asyncio.create_subprocess_exec(
        "node", "--check", str(path), stderr=asyncio.subprocess.PIPE
    )
    _out, err = await node.communicate()
    assert node.returncode == 0, err.decode()


async def test_cache_version_follows_the_static_manifest(app: Quart) -> None:
    version = pwa.cache_version(app)
    static = app.config["STATIC"]
    name = next(iter(static.by_hashed))
    item = static.by_hashed.pop(name)
    try:
        static.by_hashed[name.replace(".", ".0", 1)] = item  # a changed file: a new hash
        assert pwa.cache_version(app) != version
    finally:
        static.by_hashed.pop(name.replace(".", ".0", 1))
        static.by_hashed[name] = item
    assert pwa.cache_version(app) == version


# -- the offline page ---------------------------------------------------------------------


@pytest.mark.parametrize("code", list(HTML_LANG))
async def test_offline_page_in_every_variant(app: Quart, code: str) -> None:
    response, body = await _get(app, f"/offline/{code}")
    html = body.decode()
    assert response.status_code == 200
    assert f'<html lang="{HTML_LANG[code]}">' in html
    assert response.headers["Cache-Control"] == "no-cache"
    assert "data-offline-page" in html
    # the same for everybody: no session, no token, no language cookie (a ?lang= would set it)
    assert "Set-Cookie" not in response.headers
    assert "csrf_token" not in html
    assert "data-device-storage" not in html


async def test_offline_page_language_switch(app: Quart) -> None:
    """Its own language switch links to /offline/<variant>?lang=…: that choice wins."""
    response, body = await _get(app, "/offline/de?lang=en")
    assert '<html lang="en">' in body.decode()
    assert "jcd_lang=en" in response.headers.get("Set-Cookie", "")


async def test_offline_page_unknown_variant(app: Quart) -> None:
    response, _ = await _get(app, "/offline/xx")
    assert response.status_code == 404


async def test_offline_page_never_carries_the_shared_device_switch(
    app: Quart, visitor: Browser
) -> None:
    await visitor.get("/antraege")
    await visitor.submit("/geraet", {"fremdes_geraet": "ja", "next": "/antraege"})
    html = await visitor.get("/offline/de")
    assert "data-device-storage" not in html


# -- "Ich nutze ein fremdes Gerät" --------------------------------------------------------


async def test_device_switch(app: Quart, visitor: Browser) -> None:
    b = visitor
    html = await b.get("/antraege")
    assert 'data-device-storage="off"' not in html
    assert re.search(r'<form method="post" action="/geraet"[^>]*data-device-switch', html)
    assert 'name="fremdes_geraet" value="ja"' in html

    response = await b.submit(
        "/geraet", {"fremdes_geraet": "ja", "next": "/antraege"}, follow=False
    )
    assert response.headers["Location"] == "/antraege"
    html = await b.get("/antraege")
    assert '<body data-drafts="' in html and 'data-device-storage="off"' in html
    assert 'name="fremdes_geraet" value="nein"' in html
    draft_id = await start_flow(b, "veraenderung")
    assert 'data-device-storage="off"' in b.html, "the whole session, every page"

    await b.submit(
        "/geraet", {"fremdes_geraet": "nein", "next": f"/veraenderung/{draft_id}/wer/person"}
    )
    assert b.path == f"/veraenderung/{draft_id}/wer/person"
    assert 'data-device-storage="off"' not in b.html


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)", ""]
)
async def test_device_switch_goes_back_on_this_site_only(
    app: Quart, visitor: Browser, target: str
) -> None:
    await visitor.get("/antraege")
    response = await visitor.submit(
        "/geraet", {"fremdes_geraet": "ja", "next": target}, follow=False
    )
    assert response.headers["Location"] == "/"


async def test_device_switch_needs_the_csrf_token(app: Quart, visitor: Browser) -> None:
    await visitor.get("/antraege")
    await visitor.submit("/geraet", {"fremdes_geraet": "ja"}, token=False, expect=403)


async def test_device_switch_is_a_full_page_post(app: Quart) -> None:
    """Not boosted: <body data-device-storage> must change with it."""
    source = (ROOT / "app/partials/pwa/device_switch.html").read_text()
    assert 'data-hx-boost="false"' in source and "data-device-switch" in source


# -- the markup contract of app.js and drafts.js --------------------------------------------


async def test_page_carries_the_messages_and_the_drafts_script(app: Quart) -> None:
    _response, body = await _get(app, "/")
    html = body.decode()
    live = re.search(r'<div id="live"[^>]*>', html)
    assert live
    for name in ("error", "offline", "queued", "sent", "restored"):
        assert re.search(rf'data-msg-{name}="[^"]+"', live.group(0)), name
    static = app.config["STATIC"]
    assert f'data-drafts="{static.url("js/drafts.js")}"' in html
    assert f'data-drafts-integrity="{static.integrity("js/drafts.js")}"' in html


async def test_htmx_swaps_the_conflict_answer(app: Quart) -> None:
    _response, body = await _get(app, "/")
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", body.decode())
    assert meta
    rules = json.loads(meta.group(1))["responseHandling"]
    codes = [r["code"] for r in rules]
    conflict = rules[codes.index("409")]
    assert conflict["swap"] is True and conflict["error"] is False
    assert codes.index("409") < codes.index("[45]..")


@pytest.mark.parametrize("rel", sorted(BUDGETS))
def test_scripts_stay_small_and_speak_no_german(rel: str) -> None:
    source = (STATIC_DIR / rel).read_text(encoding="utf-8")
    assert len(source.encode()) <= BUDGETS[rel], f"{rel}: {len(source.encode())} bytes"
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
    assert not re.search(r"[äöüÄÖÜß„“]", code), f"{rel}: texts belong in data-msg-* attributes"
    for banned in ("eval(", "new Function", "innerHTML =", "hx-on"):
        assert banned not in code, f"{rel}: {banned}"


def test_worker_source_speaks_no_german() -> None:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", pwa.SW_SOURCE.read_text(encoding="utf-8"), flags=re.S)
    assert not re.search(r"[äöüÄÖÜß]", code)
    assert "eval(" not in code


async def test_receipt_and_delete_form_carry_the_draft_to_clear(
    app: Quart, visitor: Browser
) -> None:
    """The lead's side of the contract (docs/offline.md): what drafts.js clears on."""
    draft_id = await start_flow(visitor, "veraenderung")
    html = await visitor.get("/antraege")
    assert re.search(
        rf'<form [^>]*action="/antraege/{draft_id}/loeschen"[^>]*'
        rf'data-clear-draft="{draft_id}"',
        html,
    )
    receipt = (ROOT / "app/partials/eservice/receipt.html").read_text()
    assert re.search(
        r'class="confirmation-panel" data-clear-draft="\{\{ submission.draft_id \}\}"', receipt
    )
