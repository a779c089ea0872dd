"""Videos load only when asked for: steps link to a video page; the page has the player."""

from __future__ import annotations

import re

from quart import Quart

from conftest import Browser, start_flow


async def test_step_links_to_video_page_without_loading_media(app: Quart, visitor: Browser) -> None:
    b = visitor
    await start_flow(b, "veraenderung")
    assert "<video" not in b.html and "/static/media/" not in b.html
    link = re.search(r'href="(/videos/erklaer-veraenderung\?zurueck=[^"]+)"', b.html)
    assert link, "the help area links the explainer video"
    await b.get(link.group(1).replace("&amp;", "&"))
    assert 'preload="none"' in b.html and '<track kind="captions"' in b.html
    assert "Text zum Video lesen" in b.html  # transcript
    back = re.search(r'class="back-link" href="([^"]+)"', b.html).group(1)
    assert back.startswith("/veraenderung/")


async def test_video_page_refuses_foreign_back_links_and_unknown_ids(
    app: Quart, visitor: Browser
) -> None:
    await visitor.get("/videos/erklaer-veraenderung?zurueck=https://evil.example/")
    assert 'class="back-link" href="/"' in visitor.html
    await visitor.get("/videos/unbekannt", expect=404)
