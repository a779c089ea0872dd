"""/dev/mail: the inbox of the local SMTP catcher, demo mode only (app/__init__.py).

``python -m app serve --demo`` starts the catcher (app/identity/mail.py); it keeps each
mail as an ``.eml`` file under ``<data dir>/mail``. Here a person trying the app reads the
confirmation or reset mail and follows its link. Never registered in production.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, abort, current_app

from .web.language import gettext
from .web.render import render

blueprint = Blueprint("devmail", __name__)

NAME = re.compile(r"^[0-9T]{15,30}-[0-9a-f]{8}$")
LINK = re.compile(r"(https?://[^\s<>\"]+)")
LIMIT = 200


def _folder() -> Path:
    settings = current_app.config["SETTINGS"]
    return settings.mail_catcher_dir or settings.data_dir / "mail"


def _read(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def _summary(path: Path) -> dict[str, Any]:
    message = _read(path)
    try:
        sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    return {
        "id": path.stem,
        "to": str(message["To"] or ""),
        "subject": str(message["Subject"] or ""),
        "sent": sent,
    }


def _segments(text: str) -> list[tuple[str, str]]:
    """The body as ("text", …) and ("link", …) pieces, so the template makes links clickable
    (escaped by Jinja, no HTML from the mail is trusted)."""
    out: list[tuple[str, str]] = []
    for index, piece in enumerate(LINK.split(text)):
        if piece:
            out.append(("link" if index % 2 else "text", piece))
    return out


async def _page(partial: str, title: str, **ctx: Any) -> Response:
    response = await render(
        "pages/shell.html", f"partials/devmail/{partial}.html", page_title=title, **ctx
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/dev/mail")
async def inbox() -> Response:
    folder = _folder()
    files = sorted(folder.glob("*.eml"), reverse=True)[:LIMIT] if folder.is_dir() else []
    return await _page("liste", gettext("Test-Postfach"), mails=[_summary(path) for path in files])


@blueprint.get("/dev/mail/<mail_id>")
async def one(mail_id: str) -> Response:
    path = _folder() / f"{mail_id}.eml"
    if not NAME.match(mail_id) or not path.is_file():
        abort(404)
    message = _read(path)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return await _page(
        "nachricht",
        str(message["Subject"] or gettext("Test-Postfach")),
        mail=_summary(path),
        segments=_segments(text),
    )
