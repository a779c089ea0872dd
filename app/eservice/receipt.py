"""The receipt PDF: the submitted answers as a tagged, accessible PDF (PDF/UA)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from quart import g, render_template

from app.documents.pdf import html_to_tagged_pdf
from app.flows.engine import ReviewGroup
from app.flows.model import Flow
from app.i18n import VARIANTS
from app.web.language import gettext


async def build_pdf(
    flow: Flow,
    reference: str,
    groups: list[ReviewGroup],
    submitted: date,
    proofs: dict[str, Any] | None = None,
) -> bytes:
    html = await render_template(
        "pages/eservice/receipt_pdf.html",
        flow=flow,
        reference=reference,
        groups=groups,
        submitted=submitted,
        proofs=proofs,
    )
    title = f"{gettext(flow.title)} – {reference}"
    lang = VARIANTS[g.get("lang", "de")].html_lang
    return await asyncio.to_thread(html_to_tagged_pdf, html, lang=lang, title=title)
