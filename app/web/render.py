"""Page or fragment, decided in one place.

A normal request gets the whole page. An htmx request (``HX-Request``) gets only the
partial that the page includes, wrapped with the new <title> and the out-of-band
language switch, because htmx swaps just the main region. Responses that differ by
this header say so with ``Vary: HX-Request``.
"""

from __future__ import annotations

from typing import Any

from quart import Response, g, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def current_url() -> str:
    return g.get("canonical_url") or request.full_path.rstrip("?")


async def render(
    page: str,
    partial: str | None = None,
    *,
    status: int = 200,
    push_url: str | None = None,
    **context: Any,
) -> Response:
    """Render ``page`` (extends base.html and includes ``partial``) or just the partial."""
    if push_url:
        g.canonical_url = push_url
    if partial and is_htmx():
        body = await render_template("partials/fragment.html", content=partial, **context)
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
        response.headers["HX-Push-Url"] = push_url or current_url()
    else:
        body = await render_template(page, content=partial, **context)
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.vary.add("HX-Request")
    response.vary.add("Cookie")
    return response


def see_other(location: str) -> Response:
    """POST → 303 → GET, the journey without JavaScript."""
    return Response(status=303, headers={"Location": location})
