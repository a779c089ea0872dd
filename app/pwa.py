"""The installable web app: manifest, service worker, offline page, "fremdes Gerät" switch.

* ``/manifest.webmanifest``: the web app manifest (``application/manifest+json``).
* ``/sw.js``: ``service_worker/sw.js`` rendered with the current hashed static URLs and a
  cache version (a hash of the static manifest, the worker source and the offline page's
  templates and catalogs), served from the site root so its scope is the whole site, with
  ``Cache-Control: no-cache`` so that a deploy reaches every browser at its next visit.
* ``/offline/<variant>``: the page the worker shows when a page cannot be loaded; the
  worker precaches it in every variant. It is the same for everybody (no session data).
* ``POST /geraet``: "Ich nutze ein fremdes Gerät" turns saving on the device off (and on
  again) for the session; rendered as ``<body data-device-storage="off">``.

What is stored where: docs/offline.md.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
from quart import Blueprint, Quart, Response, abort, current_app, g, request

from app.i18n import DEFAULT, VARIANTS, po_files

from .start import same_site_path
from .web.language import gettext
from .web.render import render, see_other

blueprint = Blueprint("pwa", __name__)

ROOT = Path(__file__).resolve().parent
SW_SOURCE = ROOT.parent / "service_worker" / "sw.js"
JS_TYPE = "text/javascript; charset=utf-8"
MANIFEST_TYPE = "application/manifest+json"
NO_CACHE = "no-cache"
THEME_COLOR = "#004b76"  # app.css --primary
BACKGROUND_COLOR = "#ffffff"
#: Precached by the worker besides the offline pages (hashed URLs; every icon under img/).
SHELL = ("css/app.css", "js/vendor/htmx-2.0.11.min.js", "js/app.js", "js/drafts.js")
ICONS = (
    ("img/icon-192.png", "192x192", "any"),
    ("img/icon-512.png", "512x512", "any"),
    ("img/icon-maskable-192.png", "192x192", "maskable"),
    ("img/icon-maskable-512.png", "512x512", "maskable"),
)
#: Templates and catalogs the offline page is made of: a change makes a new cache version.
OFFLINE_SOURCES = (
    "pages/base.html",
    "pages/shell.html",
    "partials/title.html",
    "partials/language_switch.html",
    "partials/pwa/offline.html",
)
#: Public pages the worker may keep a copy of for offline reading (never personal pages).
#: The switch's field: "ja" = a shared device, save nothing on it; "nein" = save again.
SWITCH = "fremdes_geraet"
PUBLIC_PAGES = (
    "/",
    "/hilfe",
    "/barrierefreiheit",
    "/leichte-sprache",
    "/gebaerdensprache",
    "/impressum",
    "/datenschutz",
)


@dataclass(frozen=True)
class Worker:
    version: str
    body: bytes
    br: bytes
    gz: bytes


def offline_url(code: str) -> str:
    return f"/offline/{code}"


def cache_version(app: Quart) -> str:
    """A hash of the static manifest (every hashed name), the worker and the offline page."""
    digest = hashlib.sha256()
    for name in sorted(app.config["STATIC"].by_hashed):
        digest.update(name.encode() + b"\n")
    digest.update(SW_SOURCE.read_bytes())
    for rel in OFFLINE_SOURCES:
        digest.update((ROOT / rel).read_bytes())
    for code in VARIANTS:
        for po in po_files(code):
            digest.update(po.read_bytes())
    return digest.hexdigest()[:16]


def build_worker(app: Quart) -> Worker:
    """``service_worker/sw.js`` with its placeholders filled in (once per process)."""
    static = app.config["STATIC"]
    version = cache_version(app)
    precache = [static.url(rel) for rel in SHELL]
    precache += [static.url(rel) for rel, _size, _purpose in ICONS]
    config = {
        "version": version,
        "precache": precache,
        "offline": {code: offline_url(code) for code in VARIANTS},
        "fallback": DEFAULT,
        "public": list(PUBLIC_PAGES),
    }
    source = SW_SOURCE.read_text(encoding="utf-8")
    marker = "self.JCD_CONFIG = {};"
    if marker not in source:
        raise RuntimeError(f"{SW_SOURCE}: the line {marker!r} is missing")
    body = source.replace(
        marker, "self.JCD_CONFIG = " + json.dumps(config, separators=(",", ":")) + ";", 1
    ).encode()
    return Worker(version, body, brotli.compress(body, quality=11), gzip.compress(body, 9, mtime=0))


def worker() -> Worker:
    cached: Worker | None = current_app.config.get("PWA_WORKER")
    if cached is None:
        cached = build_worker(current_app)  # type: ignore[arg-type]
        current_app.config["PWA_WORKER"] = cached
    return cached


def _encoded(body: bytes, br: bytes, gz: bytes, content_type: str) -> Response:
    """A small text response, brotli or gzip as the browser accepts, revalidated each time."""
    accepted = {
        p.split(";")[0].strip() for p in request.headers.get("Accept-Encoding", "").split(",")
    }
    data, encoding = (
        (br, "br") if "br" in accepted else (gz, "gzip") if "gzip" in accepted else (body, None)
    )
    response = Response(data, content_type=content_type)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = NO_CACHE
    return response


@blueprint.get("/sw.js")
async def service_worker() -> Response:
    item = worker()
    etag = f'"{item.version}"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag, "Cache-Control": NO_CACHE})
    response = _encoded(item.body, item.br, item.gz, JS_TYPE)
    response.headers["ETag"] = etag
    return response


@blueprint.get("/manifest.webmanifest")
async def manifest() -> Response:
    static = current_app.config["STATIC"]
    variant = VARIANTS[g.get("lang", DEFAULT)]
    data: dict[str, Any] = {
        "id": "/",
        "name": "jobcenter.digital",
        "short_name": "Jobcenter",
        "description": gettext(
            "Online-Dienste des Jobcenters: Veränderungen mitteilen, Ortsabwesenheit "
            "beantragen und mehr."
        ),
        "lang": variant.html_lang,
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static.url(rel), "sizes": size, "type": "image/png", "purpose": purpose}
            for rel, size, purpose in ICONS
        ],
    }
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = _encoded(
        body, brotli.compress(body, quality=5), gzip.compress(body, 6, mtime=0), MANIFEST_TYPE
    )
    response.vary.add("Cookie")  # the language variant (description, lang)
    return response


@blueprint.get("/offline")
@blueprint.get("/offline/<code>")
async def offline(code: str | None = None) -> Response:
    """The offline page; the worker asks for a variant by path (a ``?lang=`` would set the
    cookie). A ``?lang=`` from the page's own language switch wins."""
    if code is not None:
        if code not in VARIANTS:
            abort(404)
        if request.args.get("lang") not in VARIANTS:
            g.lang = code
    response = await render(
        "pages/shell.html",
        "partials/pwa/offline.html",
        page_title=gettext("Keine Verbindung zum Internet"),
        device_storage_off=False,  # the same page for everybody: it is cached on the device
    )
    response.headers["Cache-Control"] = NO_CACHE
    return response


@blueprint.post("/geraet")
async def device_switch() -> Response:
    """Turn saving on this device off ("fremdes Gerät") or on again; CSRF checked globally."""
    form = await request.form
    g.session["shared_device"] = form.get(SWITCH) == "ja"
    return see_other(same_site_path(form.get("next")) or "/")


@blueprint.app_context_processor
async def _device_storage() -> dict[str, Any]:
    session = g.get("session")
    return {"device_storage_off": bool(session and session.get("shared_device"))}


__all__ = ["blueprint", "build_worker", "cache_version"]
