"""Tagged, accessible PDFs (receipts) from HTML, rendered offline with WeasyPrint.

PDF/UA-1 gives screen-reader users the same receipt everyone else gets: a structure tree
built from the HTML, the document language, and the title shown instead of a file name.
Rendering never touches the network: the caller's HTML may only use data: URLs and files
from the app's own static folder. See docs/decisions/0004-pdf-and-uploads.md.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

PDF_VARIANT: Final = "pdf/ua-1"
#: The only folder rendering may read from; also the default base URL, so templates can say
#: "css/receipt.css" or, as url_for() renders it, "/static/css/receipt.css".
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_STATIC_URL_PREFIX: Final = "/static/"

# WeasyPrint shares Pango/fontconfig state through the FontConfiguration, which is not
# documented as thread-safe; receipts are small, so one render at a time is fine.
_render_lock = threading.Lock()


@functools.cache
def _font_config() -> FontConfiguration:
    """Built once: scanning the system fonts costs more than rendering a receipt."""
    return FontConfiguration()


class LocalOnlyFetcher(URLFetcher):
    """Serves data: URLs and files inside static_dir; refuses everything else.

    No network (no tracking pixels, no SSRF, no hanging on a slow host) and no reading
    arbitrary local files (file:///etc/passwd) through a template or injected markup.
    """

    def __init__(self, static_dir: Path) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self._static_dir = static_dir.resolve()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Fetch an allowed URL; raise ValueError (WeasyPrint logs and skips it) otherwise."""
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = self._static_path(url)
        if path is None:
            raise ValueError(f"refused to fetch {url[:200]!r}: not data: or app/static")
        return super().fetch(path.as_uri(), headers)

    def _static_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        raw = url2pathname(parts.path)
        candidates = [Path(raw)]
        if raw.startswith(_STATIC_URL_PREFIX):  # "/static/x.css" resolved against file:///
            candidates.append(self._static_dir / raw.removeprefix(_STATIC_URL_PREFIX))
        for candidate in candidates:
            resolved = candidate.resolve()  # follows symlinks and "..": check the real target
            if resolved.is_relative_to(self._static_dir) and resolved.is_file():
                return resolved
        return None


def html_to_tagged_pdf(
    html: str, *, base_url: str | None = None, lang: str = "de", title: str
) -> bytes:
    """Render complete HTML to a PDF/UA-1 document and return its bytes.

    The HTML is rendered as given; lang and title go into the PDF's /Lang, document info
    and XMP metadata, so they are right even if the template forgets <title> or lang.
    """
    source = HTML(
        string=html,
        base_url=base_url or STATIC_DIR.as_uri() + "/",
        url_fetcher=LocalOnlyFetcher(STATIC_DIR),
    )
    with _render_lock:
        document = source.render(font_config=_font_config(), pdf_variant=PDF_VARIANT)
        document.metadata.title = title
        document.metadata.lang = lang
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    if not isinstance(pdf, bytes):  # write_pdf returns bytes when no target is given
        raise TypeError("WeasyPrint returned no PDF bytes")
    return pdf
