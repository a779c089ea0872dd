"""Tagged receipts: PDF/UA-1 structure, metadata, extractable text, no network."""

from __future__ import annotations

import base64
import io
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from app.documents import pdf as pdf_module
from app.documents.pdf import LocalOnlyFetcher, html_to_tagged_pdf
from app.documents.uploads import sanitise_upload

TITLE = "Eingangsbestätigung Weiterbewilligungsantrag"
RECEIPT = """<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><title>Eingangsbestätigung</title>
<style>body { font-family: "DejaVu Sans", sans-serif; }</style></head>
<body>
<h1>Eingangsbestätigung</h1>
<p>Ihr Weiterbewilligungsantrag ist am 3. März 2025 eingegangen.</p>
<p>Aktenzeichen: 123A456789 · Gebühr: 0,00 €</p>
</body>
</html>"""


# --- helpers ----------------------------------------------------------------------------------


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def _to_unicode_map(font: pikepdf.Object) -> dict[bytes, str]:
    """Code -> text from a font's /ToUnicode CMap (bfchar and simple bfrange entries)."""
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    mapping: dict[bytes, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[bytes.fromhex(src)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            width, start = len(lo) // 2, int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code.to_bytes(width, "big")] = chr(start + offset)
    return mapping


def _extract_text(data: bytes) -> str:
    """What a screen reader or copy-paste gets: shown glyphs mapped back through ToUnicode."""
    chunks: list[str] = []
    with _open(data) as pdf:
        for page in pdf.pages:
            fonts = {str(name): _to_unicode_map(font) for name, font in page.Resources.Font.items()}
            current: dict[bytes, str] = {}
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "Tf":
                    current = fonts[str(operands[0])]
                elif str(operator) in ("Tj", "TJ"):
                    strings = operands[0] if str(operator) == "TJ" else operands
                    for item in strings:
                        if isinstance(item, pikepdf.String):
                            raw = bytes(item)
                            chunks.extend(
                                current.get(raw[i : i + 2], "?") for i in range(0, len(raw), 2)
                            )
                    chunks.append(" ")
    return " ".join("".join(chunks).split())


def _structure_types(pdf: pikepdf.Pdf) -> list[str]:
    found: list[str] = []
    stack: list[pikepdf.Object] = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if "/S" in node:
            found.append(str(node.S))
        kids = node.get("/K")
        if isinstance(kids, pikepdf.Array):
            stack.extend(kid for kid in kids if isinstance(kid, pikepdf.Dictionary))
        elif isinstance(kids, pikepdf.Dictionary):
            stack.append(kids)
    return found


def _image_count(data: bytes) -> int:
    with _open(data) as pdf:
        return sum(len(page.get_images()) for page in pdf.pages)


@pytest.fixture
def trap_server() -> Iterator[tuple[str, socket.socket]]:
    """A local HTTP port that accepts connections into its backlog and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.3)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", server
    finally:
        server.close()


# --- tests ------------------------------------------------------------------------------------


def test_receipt_is_tagged_pdf_ua() -> None:
    data = html_to_tagged_pdf(RECEIPT, title=TITLE)

    assert data.startswith(b"%PDF-1.7")
    with _open(data) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert root.MarkInfo.Marked is True
        assert str(root.Lang) == "de"
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.docinfo.Title) == TITLE
        metadata = pdf.open_metadata()
        assert metadata["dc:title"] == TITLE
        assert metadata["pdfuaid:part"] == "1"
        assert {"/Document", "/H1", "/P"} <= set(_structure_types(pdf))
        for _, font in pdf.pages[0].Resources.Font.items():
            assert "/ToUnicode" in font  # text is extractable, not just painted glyphs


def test_receipt_text_is_extractable() -> None:
    text = _extract_text(html_to_tagged_pdf(RECEIPT, title=TITLE))

    assert "Eingangsbestätigung" in text
    assert "Ihr Weiterbewilligungsantrag ist am 3. März 2025 eingegangen." in text
    assert "0,00 €" in text


def test_lang_and_title_come_from_the_arguments() -> None:
    html = "<!doctype html><html><body><p>Receipt</p></body></html>"  # no lang, no <title>

    data = html_to_tagged_pdf(html, lang="en", title="Receipt")

    with _open(data) as pdf:
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo.Title) == "Receipt"


def test_receipt_passes_our_own_upload_checks() -> None:
    """No scripts, attachments or actions: a receipt could be uploaded back as evidence."""
    data = html_to_tagged_pdf(RECEIPT, title=TITLE)
    assert sanitise_upload(data, "Eingangsbestaetigung.pdf").media_type == "application/pdf"


def test_external_urls_are_not_fetched(trap_server: tuple[str, socket.socket]) -> None:
    base, server = trap_server
    html = f"""<!doctype html><html lang="de"><head>
<link rel="stylesheet" href="{base}/style.css">
<style>@import url("{base}/import.css");
@font-face {{ font-family: Remote; src: url("{base}/font.woff2"); }}
body {{ font-family: Remote, sans-serif; background: url("{base}/bg.png"); }}</style>
</head><body><h1>Quittung</h1>
<img src="{base}/pixel.png" alt="Logo">
<img src="http://10.255.255.1/hangs.png" alt="Nicht erreichbar">
<img src="https://example.invalid/x.png" alt="x"></body></html>"""

    started = time.monotonic()
    data = html_to_tagged_pdf(html, title="Quittung")

    assert time.monotonic() - started < 5  # 10.255.255.1 would hang until the 10 s timeout
    with pytest.raises(TimeoutError):
        server.accept()  # nothing ever connected
    assert _image_count(data) == 0


def test_local_files_outside_static_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    Image.new("RGB", (4, 4), "red").save(secret)
    html = f"""<!doctype html><html lang="de"><body>
<img src="{secret.as_uri()}" alt="a"><img src="file:///etc/passwd" alt="b">
<img src="../../../../../../{secret}" alt="c"></body></html>"""

    assert _image_count(html_to_tagged_pdf(html, title="t")) == 0


def test_data_urls_are_allowed() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, "PNG")
    src = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    html = f'<!doctype html><html lang="de"><body><img src="{src}" alt="Logo"></body></html>'

    assert _image_count(html_to_tagged_pdf(html, title="t")) == 1


def test_static_files_are_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "receipt.css").write_text("h1 { color: rgb(255, 0, 0); }")
    Image.new("RGB", (4, 4), "green").save(static / "logo.png")
    monkeypatch.setattr(pdf_module, "STATIC_DIR", static)
    html = """<!doctype html><html lang="de"><head>
<link rel="stylesheet" href="/static/css/receipt.css"></head>
<body><h1>Rot</h1><img src="logo.png" alt="Logo"></body></html>"""

    data = html_to_tagged_pdf(html, title="t")

    with _open(data) as pdf:
        assert b"1 0 0 rg" in pdf.pages[0].Contents.read_bytes()
    assert _image_count(data) == 1


def test_fetcher_stays_inside_the_static_folder(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("p {}")
    (tmp_path / "secret.txt").write_text("secret")
    (static / "link.css").symlink_to(tmp_path / "secret.txt")
    fetcher = LocalOnlyFetcher(static)

    assert fetcher.fetch((static / "ok.css").as_uri()).read() == b"p {}"
    assert fetcher.fetch("file:///static/ok.css").read() == b"p {}"
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url in [
        (tmp_path / "secret.txt").as_uri(),
        (static / "link.css").as_uri(),  # symlink pointing outside
        f"file://{static}/../secret.txt",
        "file:///static/../../../../etc/passwd",
        "file://evil.example/share/x.css",
        "http://127.0.0.1/x.css",
        "https://example.org/x.css",
        "ftp://example.org/x.css",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_rendering_is_fast_and_reuses_the_font_configuration() -> None:
    html_to_tagged_pdf(RECEIPT, title=TITLE)
    started = time.monotonic()
    for _ in range(3):
        html_to_tagged_pdf(RECEIPT, title=TITLE)
    assert time.monotonic() - started < 3
    assert pdf_module._font_config() is pdf_module._font_config()
