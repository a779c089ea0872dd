"""Validate and sanitise uploaded evidence (PDF, JPEG, PNG) before it is stored.

Uploads come from the public internet and are later opened by Jobcenter staff, so we trust
nothing the client says: the type is decided by the file's content, PDFs with active content
are refused and the rest is re-written by qpdf, images are decoded and re-encoded without
metadata. See docs/decisions/0004-pdf-and-uploads.md.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import posixpath
import re
import secrets
import tempfile
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pikepdf
from PIL import Image, ImageCms, ImageOps

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
#: Largest image we decode. A 40 MP RGBA frame is ~160 MB in memory; phone cameras stay below.
MAX_IMAGE_PIXELS: Final = 40_000_000
#: Memory qpdf may use to inflate one stream (object/xref streams while parsing). Without it a
#: 500 kB PDF whose object stream inflates to 500 MB makes qpdf allocate all of it.
QPDF_MAX_DECODE_BYTES: Final = 64 * 1024 * 1024
JPEG_QUALITY: Final = 85
DISPLAY_NAME_MAX: Final = 120
#: Used when the client sent no usable file name.
DEFAULT_STEM: Final = "Dokument"

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"

_MAGIC: Final = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
_EXTENSION: Final = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
#: Extensions a user may already have that fit the detected type; kept in the display name.
_EXTENSION_ALIASES: Final = {
    PDF: frozenset({".pdf"}),
    JPEG: frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    PNG: frozenset({".png"}),
}
_PILLOW_FORMAT: Final = {JPEG: "JPEG", PNG: "PNG"}

#: PDF names that mean scripts, launchable or embedded files, form submission or XFA. Matched
#: as dictionary keys and as name values (/S /JavaScript, /Subtype /FileAttachment) anywhere
#: in the file; qpdf has already decoded #xx escapes, so /Java#53cript cannot hide.
_PDF_ACTIVE_NAMES: Final = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/AA",  # additional actions (page open, field keystroke, …)
        "/Launch",
        "/EmbeddedFiles",
        "/EF",  # embedded file stream of a file spec, also via /AF associated files
        "/FileAttachment",
        "/XFA",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/RichMedia",
        "/RichMediaExecute",
    }
)
#: Defence in depth for what we accept: neutralise links and media, drop thumbnails and
#: private application data (they can keep content the citizen removed from the page).
_PDF_SANITIZER: Final = (
    pikepdf.sanitize.Sanitizer()
    .remove_external_access()
    .remove_multimedia()
    .remove_thumbnails()
    .remove_private_app_data()
    .remove_web_capture()
)
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
#: Built-in table only, so the display name does not depend on the host's /etc/mime.types.
_KNOWN_TYPES: Final = mimetypes.MimeTypes()
_PATH_SEPARATORS: Final = re.compile(r"[/\\]")
_WINDOWS_RESERVED: Final = re.compile(r'[<>:"|?*]')
_STORAGE_KEY: Final = re.compile(r"[A-Za-z0-9_-]{24}\.(?:pdf|jpg|png)")


def _limit_qpdf_decoding() -> None:
    """Cap qpdf's per-stream decode memory unless the process already chose a limit.

    qpdf's limits are process-wide; we only fill in the ones left at "unlimited" (0).
    """
    limits = pikepdf.settings.get_qpdf_limits()
    if not limits["flate_max_memory"]:
        pikepdf.settings.set_qpdf_limits(flate_max_memory=QPDF_MAX_DECODE_BYTES)
    if not limits["png_max_memory"]:
        pikepdf.settings.set_qpdf_limits(png_max_memory=QPDF_MAX_DECODE_BYTES)
    if not limits["run_length_max_memory"]:
        pikepdf.settings.set_qpdf_limits(run_length_max_memory=QPDF_MAX_DECODE_BYTES)


_limit_qpdf_decoding()


class UploadRejected(Exception):
    """code is a short machine code; the UI maps it to a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanFile:
    """A sanitised upload, ready to store; nothing in it comes unchecked from the client."""

    content: bytes
    media_type: str
    extension: str
    display_name: str
    sha256: str


def sanitise_upload(
    data: bytes, filename: str | None, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> CleanFile:
    """Accept a PDF, JPEG or PNG by content and return a re-written copy, or raise UploadRejected.

    max_bytes lets the caller pass Settings.upload_max_bytes.
    """
    if not data:
        raise UploadRejected("empty")
    if len(data) > max_bytes:
        raise UploadRejected("too_large")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UploadRejected("type")
    content = _sanitise_pdf(data) if media_type == PDF else _sanitise_image(data, media_type)
    extension = _EXTENSION[media_type]
    return CleanFile(
        content=content,
        media_type=media_type,
        extension=extension,
        display_name=safe_display_name(filename, media_type),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def sniff_media_type(data: bytes) -> str | None:
    """The media type from the leading magic bytes; None for anything we do not accept."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def _sanitise_pdf(data: bytes) -> bytes:
    """Refuse encrypted, broken or active PDFs; return the others re-written by qpdf."""
    # A cut-off upload has no %%EOF near its end. qpdf would happily "recover" it, silently
    # storing a partial document, so refuse it here (readers look in the last 1024 bytes too).
    if b"%%EOF" not in data[-1024:]:
        raise UploadRejected("pdf_broken")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:  # opened with the empty user password, still encrypted
                raise UploadRejected("pdf_encrypted")
            if len(pdf.pages) == 0:
                raise UploadRejected("pdf_broken")
            if _has_active_content(pdf):
                raise UploadRejected("pdf_active_content")
            _PDF_SANITIZER.apply(pdf)
            out = io.BytesIO()
            pdf.save(
                out,
                compress_streams=True,
                # Copy streams as they are: decoding untrusted image data buys nothing here.
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                deterministic_id=True,
            )
    except pikepdf.PasswordError as exc:
        raise UploadRejected("pdf_encrypted") from exc
    except UploadRejected:
        raise
    except Exception as exc:  # qpdf and pikepdf raise many types on hostile input: fail closed
        raise UploadRejected("pdf_broken") from exc
    return out.getvalue()


def _has_active_content(pdf: pikepdf.Pdf) -> bool:
    """True if any object in the file carries a name from _PDF_ACTIVE_NAMES.

    We scan every indirect object (plus the trailer) and the direct objects nested in them,
    so nothing depends on where a viewer would look for actions: catalog, pages, annotations,
    fields, outlines, name trees and objects no viewer should ever reach are all covered.
    """
    for top in (pdf.trailer, *pdf.objects):
        stack: list[object] = [top]
        while stack:
            obj = stack.pop()
            children: list[object]
            if isinstance(obj, pikepdf.Name):
                if str(obj) in _PDF_ACTIVE_NAMES:
                    return True
                continue
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                children = []
                for key, value in obj.items():
                    if key in _PDF_ACTIVE_NAMES:
                        return True
                    children.append(value)
            elif isinstance(obj, pikepdf.Array):
                children = list(obj)
            else:
                continue
            # Indirect children are visited as their own entry of pdf.objects.
            stack.extend(
                child
                for child in children
                if isinstance(child, pikepdf.Object) and not child.is_indirect
            )
    return False


def _sanitise_image(data: bytes, media_type: str) -> bytes:
    """Decode within a pixel budget, fix orientation, drop all metadata and re-encode."""
    fmt = _PILLOW_FORMAT[media_type]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            _check_pixels(probe.size)
            probe.verify()
        # verify() leaves the image unusable, so decode a fresh one.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            _check_pixels(image.size)
            image.load()
            upright = ImageOps.exif_transpose(image)
        clean = _normalise_mode(_to_srgb(upright), fmt)
        # Everything the encoders could copy (EXIF, GPS, XMP, ICC, text chunks) lives in info.
        clean.info = {}
        out = io.BytesIO()
        if fmt == "JPEG":
            clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        else:
            clean.save(out, "PNG", optimize=True)
    except Image.DecompressionBombError as exc:
        # Raised by Image.open above twice Pillow's own limit. Between its warning threshold
        # and ours there is nothing: ours is lower, so _check_pixels refuses those first.
        raise UploadRejected("image_too_many_pixels") from exc
    except UploadRejected:
        raise
    except Exception as exc:  # Pillow decoders raise many types on hostile input: fail closed
        raise UploadRejected("image_broken") from exc
    return out.getvalue()


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse before decoding: the header's size is what the decoder will allocate."""
    width, height = size
    if width <= 0 or height <= 0:
        raise UploadRejected("image_broken")
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadRejected("image_too_many_pixels")


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert colour with the embedded ICC profile, so dropping the profile keeps colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile is not worth a rejection; the pixels are still fine
    return converted if converted is not None else image


def _normalise_mode(image: Image.Image, fmt: str) -> Image.Image:
    """A mode the encoder writes, with palette or tRNS transparency as a real alpha channel.

    Needed because clearing image.info also clears "transparency".
    """
    if fmt == "JPEG":
        return image if image.mode in ("L", "RGB") else image.convert("RGB")
    if "transparency" in image.info or image.mode == "PA":
        return image.convert("RGBA")
    if image.mode == "P" and image.has_transparency_data:
        return image.convert("RGBA")
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image


def safe_display_name(filename: str | None, media_type: str) -> str:
    """A name safe to show and offer for download, ending in an extension that fits the content.

    Basename only (POSIX and Windows separators), NFC, no control or format characters
    (this removes bidi overrides that make "gpj.exe" look like "exe.jpg"), no characters
    Windows refuses in file names, at most DISPLAY_NAME_MAX characters.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = _PATH_SEPARATORS.split(name)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or not unicodedata.category(ch).startswith("C")
    )
    name = _WINDOWS_RESERVED.sub("_", name)
    name = " ".join(name.split()).strip(" .")

    stem, suffix = posixpath.splitext(name)
    if suffix.lower() in _EXTENSION_ALIASES[media_type]:
        extension = suffix
    else:
        extension = _EXTENSION[media_type]
        if _KNOWN_TYPES.guess_type("x" + suffix, strict=False)[0] is None:
            stem = name  # "Bescheid 01.02.2024": the dot is part of the name, not a type
    stem = stem[: DISPLAY_NAME_MAX - len(extension)].rstrip(" .") or DEFAULT_STEM
    return stem + extension


class DocumentStore:
    """Stores sanitised files under <data_dir>/documents with random names, outside any web root.

    Keys are random, so they reveal nothing and cannot be guessed; the database row that maps
    a key to its owner is the only way in.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> DocumentStore:
        """The store at its conventional place, <data_dir>/documents."""
        return cls(data_dir / "documents")

    def save(self, clean: CleanFile) -> str:
        """Write atomically (temp file, fsync, rename) with mode 0o600; return the new key."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(18) + clean.extension
        target = self._path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(clean.content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        self._fsync_root()
        return key

    def read(self, key: str) -> bytes:
        """The stored bytes; ValueError for a malformed key, FileNotFoundError if gone."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove the file; deleting a missing file is not an error (retention jobs may race)."""
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not _STORAGE_KEY.fullmatch(key):
            raise ValueError("invalid storage key")
        return self.root / key

    def _fsync_root(self) -> None:
        """Make the rename durable, so a crash cannot lose a file the database points to."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
