"""A tiny HTTP/1.1 keep-alive client on asyncio streams (no dependencies).

One ``Connection`` per simulated visitor; requests are pre-encoded bytes so that the
load generator spends as little CPU as possible (it shares the machine with the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

ACCEPT_ENCODING = "br, gzip"  # as a browser sends it: the server compresses HTML


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def text(self) -> str:
        encoding = (self.header("content-encoding") or "").lower()
        body = self.body
        if encoding == "br":
            import brotli

            body = brotli.decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        return body.decode("utf-8")


def encode(
    method: str, path: str, host: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Accept-Encoding: {ACCEPT_ENCODING}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None

    async def send(self, raw: bytes) -> Reply:
        """Send one pre-encoded request and read the whole response."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = headers.get("content-length")
        if length is not None:
            body = await self.reader.readexactly(int(length[0])) if int(length[0]) else b""
        elif "chunked" in headers.get("transfer-encoding", [""])[0].lower():
            body = await self._chunked()
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await self.reader.read()
            await self.close()
        if "close" in headers.get("connection", [""])[0].lower():
            await self.close()
        return Reply(status, headers, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


@dataclass
class Browserish:
    """A visitor: one keep-alive connection and a cookie jar; follows redirects."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conn = Connection(self.host, self.port)
        self.authority = f"{self.host}:{self.port}"

    def cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _remember(self, reply: Reply) -> None:
        for value in reply.headers.get("set-cookie", []):
            pair, *attrs = value.split(";")
            name, _, cookie = pair.strip().partition("=")
            expired = any(a.strip().lower() in ("max-age=0",) for a in attrs)
            if expired or not cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie

    async def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Reply, str]:
        """Send, follow 303/302 with GET; returns the last reply and its path."""
        body = urlencode(form).encode() if form is not None else b""
        extra = dict(headers or {})
        if form is not None:
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        for _ in range(5):
            raw = encode(method, path, self.authority, {**extra, **self.cookie_header()}, body)
            reply = await self.conn.send(raw)
            self._remember(reply)
            location = reply.header("location")
            if reply.status in (301, 302, 303, 307, 308) and location:
                target = urlsplit(location)
                path = (target.path or "/") + (f"?{target.query}" if target.query else "")
                method, body = "GET", b""
                extra.pop("Content-Type", None)
                continue
            return reply, path
        raise RuntimeError(f"too many redirects at {path}")
