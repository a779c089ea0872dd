"""Static files with content-hashed names, immutable caching and precompression.

Every file under app/static is read once at start-up; text files are compressed
once with brotli and gzip. Templates ask ``static_url("css/app.css")`` and get
``/static/css/app.<hash>.css``. Large media are streamed from disk (range requests).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from quart import Blueprint, Response, abort, current_app, request, send_file

from .compression import accepted_encodings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEXT_TYPES = (
    "text/",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/manifest+json",
)
IMMUTABLE = "public, max-age=31536000, immutable"
mimetypes.add_type("text/vtt", ".vtt")
mimetypes.add_type("video/webm", ".webm")
mimetypes.add_type("image/webp", ".webp")
mimetypes.add_type("application/manifest+json", ".webmanifest")


@dataclass(frozen=True)
class StaticFile:
    path: Path
    digest: str
    media_type: str
    content: bytes | None  # None for media streamed from disk
    br: bytes | None
    gz: bytes | None
    integrity: str


def _hashed_name(rel: str, digest: str) -> str:
    stem, dot, ext = rel.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"


class StaticFiles:
    def __init__(self, root: Path = STATIC_DIR, stream_over: int = 256 * 1024):
        self.by_name: dict[str, StaticFile] = {}
        self.by_hashed: dict[str, StaticFile] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:12]
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type.endswith("javascript"):
                media_type += "; charset=utf-8"
            text = media_type.startswith(TEXT_TYPES)
            stream = len(data) > stream_over and not text
            item = StaticFile(
                path=path,
                digest=digest,
                media_type=media_type,
                content=None if stream else data,
                br=brotli.compress(data, quality=11) if text else None,
                gz=gzip.compress(data, 9, mtime=0) if text else None,
                integrity="sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode(),
            )
            self.by_name[rel] = item
            self.by_hashed[_hashed_name(rel, digest)] = item

    def url(self, rel: str) -> str:
        item = self.by_name[rel]
        return "/static/" + _hashed_name(rel, item.digest)

    def integrity(self, rel: str) -> str:
        return self.by_name[rel].integrity


blueprint = Blueprint("static_files", __name__)


def pick_encoding(accept: str, item: StaticFile) -> tuple[bytes | None, str | None]:
    accepted = accepted_encodings(accept)
    if item.br is not None and "br" in accepted:
        return item.br, "br"
    if item.gz is not None and "gzip" in accepted:
        return item.gz, "gzip"
    return item.content, None


@blueprint.get("/static/<path:name>")
async def serve(name: str) -> Response:
    files: StaticFiles = current_app.config["STATIC"]
    item = files.by_hashed.get(name)
    if item is None:
        abort(404)
    if item.content is None:
        response = await send_file(item.path, mimetype=item.media_type, conditional=True)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    if request.headers.get("If-None-Match") == f'"{item.digest}"':
        return Response(
            status=304, headers={"ETag": f'"{item.digest}"', "Cache-Control": IMMUTABLE}
        )
    body, encoding = pick_encoding(request.headers.get("Accept-Encoding", ""), item)
    response = Response(body, content_type=item.media_type)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if item.br is not None:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["ETag"] = f'"{item.digest}"'
    response.headers["X-Precompressed"] = "1"
    return response
