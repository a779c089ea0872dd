"""Upload sanitising (SECURITY.md, negative test 9). All fixtures are generated here."""

from __future__ import annotations

import hashlib
import io
import resource
import stat
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from app.documents.uploads import (
    DISPLAY_NAME_MAX,
    MAX_UPLOAD_BYTES,
    CleanFile,
    DocumentStore,
    UploadRejected,
    sanitise_upload,
)

# --- fixture builders -------------------------------------------------------------------------


def _save(pdf: pikepdf.Pdf, **kwargs: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **kwargs)
    return out.getvalue()


def _pdf(text: str = "Kontoauszug") -> pikepdf.Pdf:
    """A one-page PDF with real text in a content stream."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    return pdf


def _pdf_bytes(**kwargs: object) -> bytes:
    return _save(_pdf(), **kwargs)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, built by hand so a huge one costs almost nothing to make.

    Rows are zero bytes, which zlib packs about 1000:1: a 30000×30000 image is ~110 kB on the
    wire and 900 MB once decoded to 8-bit pixels - a real decompression bomb.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(height // 1000)]
    parts += [compressor.compress(row * (height % 1000)), compressor.flush()]
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_gps(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 0.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "JPEG", exif=exif, icc_profile=icc)
    return out.getvalue()


def _rejected(data: bytes, filename: str | None = "upload") -> str:
    with pytest.raises(UploadRejected) as info:
        sanitise_upload(data, filename)
    return info.value.code


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


# --- PDF --------------------------------------------------------------------------------------


def test_valid_pdf_is_kept_and_rewritten_by_qpdf() -> None:
    data = _pdf_bytes() + b"\n<html><script>alert(1)</script></html>\n"  # junk after %%EOF

    clean = sanitise_upload(data, "Kontoauszug März.pdf")

    assert clean.media_type == "application/pdf"
    assert clean.extension == ".pdf"
    assert clean.display_name == "Kontoauszug März.pdf"
    assert b"<script>" not in clean.content
    with pikepdf.open(io.BytesIO(clean.content)) as pdf:
        assert len(pdf.pages) == 1
        assert b"Kontoauszug" in pdf.pages[0].Contents.read_bytes()


def test_pdf_is_detected_by_content_not_name() -> None:
    clean = sanitise_upload(_pdf_bytes(), "scan.jpg")
    assert clean.media_type == "application/pdf"
    assert clean.display_name == "scan.pdf"


def _with_open_action_js(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hi')")
    )


def _with_named_javascript(pdf: pikepdf.Pdf) -> None:
    action = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()"))
    )
    js_tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), action]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=js_tree)


def _with_js_deep_in_next_chain(pdf: pikepdf.Pdf) -> None:
    js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1")))
    harmless = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://a.example"))
    harmless.Next = pikepdf.Array([js])
    pdf.Root.Outlines = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=0, Extra=harmless)
    )


def _with_embedded_file(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", mime_type="x")


def _with_page_additional_action(pdf: pikepdf.Pdf) -> None:
    go_to = pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.NextPage)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=go_to)


def _with_launch_link(pdf: pikepdf.Pdf) -> None:
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 50, 50]),
        A=launch,
    )
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([link]))


def _with_file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.FileAttachment,
        Rect=pikepdf.Array([0, 0, 10, 10]),
        FS=pikepdf.String("evil.bat"),
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([annot])


def _with_xfa_form(pdf: pikepdf.Pdf) -> None:
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa)


def _with_submit_form(pdf: pikepdf.Pdf) -> None:
    submit = pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("https://x.example"))
    pdf.Root.OpenAction = submit


@pytest.mark.parametrize(
    "add_active_content",
    [
        _with_open_action_js,
        _with_named_javascript,
        _with_js_deep_in_next_chain,
        _with_embedded_file,
        _with_page_additional_action,
        _with_launch_link,
        _with_file_attachment_annotation,
        _with_xfa_form,
        _with_submit_form,
    ],
)
def test_pdf_with_active_content_is_rejected(add_active_content) -> None:
    pdf = _pdf()
    add_active_content(pdf)
    assert _rejected(_save(pdf), "bescheid.pdf") == "pdf_active_content"


def test_pdf_active_content_in_object_streams_is_found() -> None:
    pdf = _pdf()
    _with_open_action_js(pdf)
    data = _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert b"JavaScript" not in data  # hidden from a naive byte search
    assert _rejected(data) == "pdf_active_content"


def test_pdf_hex_escaped_name_is_still_javascript() -> None:
    pdf = _pdf()
    _with_open_action_js(pdf)
    data = _save(pdf, compress_streams=False).replace(b"/JavaScript", b"/Java#53cript")
    assert b"/JavaScript" not in data
    assert _rejected(data) == "pdf_active_content"


def test_harmless_open_action_and_links_are_accepted_but_links_neutralised() -> None:
    pdf = _pdf()
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 50, 50]),
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://phish.example")),
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([link])

    clean = sanitise_upload(_save(pdf), "x.pdf")

    assert b"phish.example" not in clean.content
    with pikepdf.open(io.BytesIO(clean.content)) as out:
        assert "/OpenAction" in out.Root
        assert "/A" not in out.pages[0].obj.Annots[0]


@pytest.mark.parametrize("user_password", ["secret", ""])
def test_encrypted_pdf_is_rejected(user_password: str) -> None:
    encryption = pikepdf.Encryption(owner="owner-pw", user=user_password)
    assert _rejected(_pdf_bytes(encryption=encryption)) == "pdf_encrypted"


def test_truncated_pdf_is_rejected() -> None:
    data = _pdf_bytes()
    assert _rejected(data[: len(data) // 2]) == "pdf_broken"
    assert _rejected(data[:-8]) == "pdf_broken"


def test_pdf_header_with_garbage_is_rejected() -> None:
    assert _rejected(b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n") == "pdf_broken"


def test_pdf_object_stream_bomb_is_rejected_without_inflating_it() -> None:
    """A 250 kB PDF whose object stream inflates to 256 MB; qpdf may only use 64 MB for it."""
    header = b"3 0 "
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(header + page)]
    parts += [compressor.compress(b" " * (1 << 20)) for _ in range(256)]
    packed = b"".join([*parts, compressor.flush()])

    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = out.tell()
        out.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(
        4,
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream",
    )
    xref_at = out.tell()

    def row(kind: int, field2: int, field3: int) -> bytes:
        return bytes([kind]) + field2.to_bytes(4, "big") + field3.to_bytes(2, "big")

    xref = b"".join(
        [
            row(0, 0, 65535),
            row(1, offsets[1], 0),
            row(1, offsets[2], 0),
            row(2, 4, 0),  # object 3 lives in object stream 4
            row(1, offsets[4], 0),
            row(1, xref_at, 0),
        ]
    )
    out.write(
        b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(xref)
        + xref
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    data = out.getvalue()
    assert len(data) < 500_000

    before = _peak_rss_mb()
    assert _rejected(data) == "pdf_broken"
    assert _peak_rss_mb() - before < 150


# --- images -----------------------------------------------------------------------------------


def test_jpeg_with_gps_exif_is_accepted_without_any_metadata() -> None:
    data = _jpeg_with_gps()
    with Image.open(io.BytesIO(data)) as original:  # the fixture really carries GPS and ICC
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "icc_profile" in original.info

    clean = sanitise_upload(data, "IMG_0001.JPEG")

    assert (clean.media_type, clean.extension) == ("image/jpeg", ".jpg")
    assert clean.display_name == "IMG_0001.JPEG"
    with Image.open(io.BytesIO(clean.content)) as out:
        assert out.format == "JPEG"
        assert not out.getexif()
        assert "exif" not in out.info
        assert "icc_profile" not in out.info
        assert out.getpixel((20, 10))[0] > 150  # still red
    assert b"Exif" not in clean.content
    assert b"PhoneMaker" not in clean.content


def test_jpeg_orientation_is_applied_before_exif_is_dropped() -> None:
    clean = sanitise_upload(_jpeg_with_gps(orientation=6), "photo.jpg")
    with Image.open(io.BytesIO(clean.content)) as out:
        assert out.size == (20, 40)  # rotated upright, not just stripped


def test_png_text_chunks_and_icc_are_stripped() -> None:
    info = PngInfo()
    info.add_text("Author", "Erika Mustermann")
    info.add_text("Comment", "secret", zip=True)
    info.add_itxt("Description", "Wohnort Berlin", lang="de")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 128, 255)).save(out, "PNG", pnginfo=info, icc_profile=icc)

    clean = sanitise_upload(out.getvalue(), "screenshot.png")

    assert clean.media_type == "image/png"
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"):
        assert chunk not in clean.content
    assert b"Mustermann" not in clean.content
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.getpixel((3, 3))[:3] == (0, 128, 255)


def test_png_palette_transparency_survives_as_alpha() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=1)

    clean = sanitise_upload(out.getvalue(), "logo.png")

    with Image.open(io.BytesIO(clean.content)) as result:
        assert result.convert("RGBA").getpixel((0, 0))[3] == 0


def test_png_decompression_bomb_is_rejected_without_decoding() -> None:
    data = _bilevel_png(30_000, 30_000)
    assert len(data) < 200_000

    before, started = _peak_rss_mb(), time.monotonic()
    assert _rejected(data, "bomb.png") == "image_too_many_pixels"
    assert time.monotonic() - started < 2
    assert _peak_rss_mb() - before < 100


def test_png_over_our_pixel_limit_but_under_pillows_is_rejected() -> None:
    assert _rejected(_bilevel_png(7_000, 7_000)) == "image_too_many_pixels"


def test_bilevel_scan_below_the_limit_is_accepted() -> None:
    clean = sanitise_upload(_bilevel_png(2_480, 3_508), "scan.png")  # A4 at 300 dpi
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.size == (2_480, 3_508)


def test_truncated_image_is_rejected() -> None:
    out = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(out, "PNG")
    assert _rejected(out.getvalue()[:-200]) == "image_broken"
    assert _rejected(_jpeg_with_gps()[:300]) == "image_broken"


# --- size and type ----------------------------------------------------------------------------


def test_empty_upload_is_rejected() -> None:
    assert _rejected(b"", "a.pdf") == "empty"


def test_oversized_upload_is_rejected_before_parsing() -> None:
    data = _pdf_bytes()
    assert _rejected(data + b"\0" * (MAX_UPLOAD_BYTES + 1 - len(data))) == "too_large"
    assert sanitise_upload(data, "a.pdf", max_bytes=len(data)).media_type == "application/pdf"
    with pytest.raises(UploadRejected) as info:
        sanitise_upload(data, "a.pdf", max_bytes=len(data) - 1)
    assert info.value.code == "too_large"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "x.jpg"),
        (b"<html><body onload=alert(1)>", "photo.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.png"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>1</script>'
            b"</svg>",
            "photo.png",
        ),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "x.gif"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "scan.pdf"),
        (b"  %PDF-1.7 leading whitespace", "scan.pdf"),
        (b"{\\rtf1\\ansi hello}", "letter.pdf"),
    ],
)
def test_spoofed_types_are_rejected(data: bytes, filename: str) -> None:
    assert _rejected(data, filename) == "type"


def test_zip_named_pdf_is_rejected_without_unpacking() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scan.pdf", _pdf_bytes())
        # a zip bomb member: 200 MB of zeros in ~200 kB
        with archive.open("bomb.bin", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(b"\0" * (1 << 20))
    data = out.getvalue()
    assert len(data) < 1_000_000

    before = _peak_rss_mb()
    assert _rejected(data, "scan.pdf") == "type"
    assert _peak_rss_mb() - before < 50


# --- display names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\erika\\Desktop\\Bescheid.pdf", "Bescheid.pdf"),
        ("/tmp/x/../Mietvertrag.PDF", "Mietvertrag.PDF"),
        ("..", "Dokument.pdf"),
        ("", "Dokument.pdf"),
        (None, "Dokument.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("report\u202efdp.exe", "reportfdp.pdf"),  # bidi override removed, type fixed
        ("a\r\nContent-Type: text.pdf", "a Content-Type_ text.pdf"),  # no header injection
        ("photo.png", "photo.pdf"),
        ("Bescheid vom 01.02.2024", "Bescheid vom 01.02.2024.pdf"),
        ('Akte <1> "neu"?.pdf', "Akte _1_ _neu__.pdf"),
        ("Lohnabrechnung\tJanuar   2025.pdf", "Lohnabrechnung Januar 2025.pdf"),
    ],
)
def test_display_name_is_safe(filename: str | None, expected: str) -> None:
    assert sanitise_upload(_pdf_bytes(), filename).display_name == expected


def test_display_name_is_capped_and_keeps_its_extension() -> None:
    name = sanitise_upload(_pdf_bytes(), "ä" * 300 + ".pdf").display_name
    assert len(name) == DISPLAY_NAME_MAX
    assert name.endswith(".pdf")


def test_display_name_of_image_gets_the_real_extension() -> None:
    assert sanitise_upload(_jpeg_with_gps(), "scan.png").display_name == "scan.jpg"
    assert sanitise_upload(_jpeg_with_gps(), "scan.jpeg").display_name == "scan.jpeg"


def test_sha256_matches_stored_content() -> None:
    clean = sanitise_upload(_pdf_bytes(), "a.pdf")
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()


# --- storage ----------------------------------------------------------------------------------


def _clean() -> CleanFile:
    return sanitise_upload(_pdf_bytes(), "a.pdf")


def test_store_round_trip_with_random_private_files(tmp_path: Path) -> None:
    store = DocumentStore.in_data_dir(tmp_path)
    clean = _clean()

    key = store.save(clean)
    other = store.save(clean)

    assert key != other
    assert key.endswith(".pdf") and len(key) == 28
    assert store.read(key) == clean.content
    path = tmp_path / "documents" / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "documents").stat().st_mode) == 0o700
    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == sorted([key, other])

    store.delete(key)
    assert not path.exists()
    store.delete(key)  # idempotent
    with pytest.raises(FileNotFoundError):
        store.read(key)


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        "AAAAAAAAAAAAAAAAAAAAAAAA/../x.pdf",
        "AAAAAAAAAAAAAAAAAAAAAAAA.exe",
        "AAAAAAAAAAAAAAAAAAAAAAA.pdf",
        ".tmp-abc",
        "AAAAAAAAAAAAAAAAAAAAAAAA.pdf\n",
        "",
    ],
)
def test_store_refuses_keys_it_did_not_generate(tmp_path: Path, key: str) -> None:
    (tmp_path / "x").write_bytes(b"outside")
    store = DocumentStore(tmp_path / "documents")
    with pytest.raises(ValueError):
        store.read(key)
    with pytest.raises(ValueError):
        store.delete(key)
    assert (tmp_path / "x").exists()
