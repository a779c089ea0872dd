"""Static files (hashed names, immutable, precompressed) and compressed HTML responses."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re

import brotli
from quart import Quart

from app.web.static import STATIC_DIR


def _hashed_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


async def test_pages_link_hashed_static_urls(app: Quart) -> None:
    client = app.test_client()
    html = await (await client.get("/")).get_data(as_text=True)
    urls = _hashed_urls(html)
    assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls)
    for url in urls:
        name = url.rsplit("/", 1)[1]
        assert re.search(r"\.[0-9a-f]{12}\.[a-z0-9]+$", name), url


async def test_hashed_file_is_immutable_and_brotli_compressed(app: Quart) -> None:
    client = app.test_client()
    url = app.config["STATIC"].url("css/app.css")
    original = (STATIC_DIR / "css" / "app.css").read_bytes()
    assert hashlib.sha256(original).hexdigest()[:12] in url

    response = await client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(await response.get_data()) == original
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.mimetype == "text/css"
    assert "accept-encoding" in response.headers["Vary"].lower()

    response = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.get_data()) == original

    response = await client.get(url)
    assert "Content-Encoding" not in response.headers
    assert await response.get_data() == original

    etag = response.headers["ETag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "immutable" in again.headers["Cache-Control"]


async def test_script_integrity_matches_the_served_file(app: Quart) -> None:
    client = app.test_client()
    html = await (await client.get("/")).get_data(as_text=True)
    scripts = re.findall(r'<script defer src="([^"]+)" integrity="([^"]+)"', html)
    assert scripts
    for url, integrity in scripts:
        body = await (await client.get(url)).get_data()
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert integrity == f"sha384-{digest}", url


async def test_unknown_hash_or_plain_name_is_404(app: Quart) -> None:
    client = app.test_client()
    for url in (
        "/static/css/app.000000000000.css",
        "/static/css/app.css",
        "/static/../settings.py",
        "/static/%2e%2e/settings.py",
        "/static/",
    ):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "immutable" not in response.headers.get("Cache-Control", "")


async def test_media_is_served_without_compression(app: Quart) -> None:
    files = app.config["STATIC"]
    name = next(n for n in files.by_name if n.endswith(".webm"))
    response = await app.test_client().get(files.url(name), headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.mimetype == "video/webm"
    assert "immutable" in response.headers["Cache-Control"]
    assert await response.get_data() == (STATIC_DIR / name).read_bytes()


async def test_html_is_compressed_with_brotli_or_gzip(app: Quart) -> None:
    client = app.test_client()
    plain = await client.get("/")
    html = await plain.get_data()
    assert "Content-Encoding" not in plain.headers
    assert b"<html" in html

    response = await client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "accept-encoding" in response.headers["Vary"].lower()
    assert b"<html" in brotli.decompress(await response.get_data())

    response = await client.get("/", headers={"Accept-Encoding": "gzip;q=1.0, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(await response.get_data())

    # error pages too
    response = await client.get("/nicht-da", headers={"Accept-Encoding": "br"})
    assert response.status_code == 404
    assert response.headers["Content-Encoding"] == "br"
    assert b"Seite nicht gefunden" in brotli.decompress(await response.get_data())


async def test_refused_codings_are_not_used(app: Quart) -> None:
    client = app.test_client()
    url = app.config["STATIC"].url("css/app.css")
    original = (STATIC_DIR / "css" / "app.css").read_bytes()
    response = await client.get(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0.5"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.get_data()) == original
    response = await client.get(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in response.headers
    response = await client.get("/", headers={"Accept-Encoding": "br;q=0.0, gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    response = await client.get("/", headers={"Accept-Encoding": "gzip;q=0, br;Q=0"})
    assert "Content-Encoding" not in response.headers
    assert b"<html" in await response.get_data()
