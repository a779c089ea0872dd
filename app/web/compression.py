"""Compress HTML and JSON responses (brotli, else gzip): every byte costs our users."""

from __future__ import annotations

import gzip

import brotli
from quart import Response, request

MIN_SIZE = 300
COMPRESSIBLE = ("text/html", "application/json", "text/plain", "application/xml")


def accepted_encodings(header: str) -> set[str]:
    """The content codings a client accepts; ``q=0`` means "not this one"."""
    accepted: set[str] = set()
    for part in header.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        weight = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(weight) <= 0:
                continue
        except ValueError:
            continue
        if name:
            accepted.add(name.lower())
    return accepted


async def compress_response(response: Response) -> Response:
    if (
        response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(COMPRESSIBLE)
    ):
        return response
    accept = accepted_encodings(request.headers.get("Accept-Encoding", ""))
    if not accept & {"br", "gzip"}:
        response.vary.add("Accept-Encoding")
        return response
    body = await response.get_data()
    if len(body) < MIN_SIZE:
        return response
    if "br" in accept:
        data, encoding = brotli.compress(body, quality=5), "br"
    else:
        data, encoding = gzip.compress(body, 6, mtime=0), "gzip"
    response.set_data(data)
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    return response
