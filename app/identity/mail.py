"""Mail to citizens over real SMTP (aiosmtplib), and the local catcher for demo mode.

Mails are composed during the request (so they are in the visitor's language) and sent in
a background task: the answer the visitor sees takes the same time whether or not a mail
goes out, and a failed send changes nothing they can see (no account enumeration). A
failure is logged; the pages offer to send the mail again.

``python -m app serve --demo`` starts :func:`start_catcher`, an aiosmtpd server that keeps
every mail as an ``.eml`` file; ``/dev/mail`` shows them (app/devmail.py).
"""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from quart import current_app, request

from app.db import utcnow
from app.settings import Settings

log = logging.getLogger(__name__)

SEND_TIMEOUT = 20  # seconds


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs) + "\n"


def build(settings: Settings, mail: Mail, lang: str = "de") -> EmailMessage:
    message = EmailMessage()
    message.set_content(mail.body)  # first: it replaces every Content-* header
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="jobcenter.digital")
    message["Content-Language"] = "de" if lang == "ls" else lang
    message["Auto-Submitted"] = "auto-generated"
    return message


async def send(settings: Settings, message: EmailMessage) -> bool:
    """Hand one message to the SMTP server; False (and a log line) when that failed."""
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=SEND_TIMEOUT,
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        log.error("mail not sent (%s): %s", message["Subject"], error)
        return False
    return True


def queue(mail: Mail) -> None:
    """Send in the background: the request does not wait for (or reveal) the SMTP server."""
    from quart import g

    settings = current_app.config["SETTINGS"]
    message = build(settings, mail, g.get("lang", "de"))
    current_app.add_background_task(send, settings, message)


def link(path: str) -> str:
    """An absolute link for a mail.

    In production the configured public origin only: a forged Host header must never put
    an attacker's host into a password-reset link. Elsewhere the request's own origin.
    """
    settings = current_app.config["SETTINGS"]
    if settings.public_origin:
        return settings.public_origin.rstrip("/") + path
    if settings.production:
        raise RuntimeError("JCD_PUBLIC_ORIGIN must be set in production (links in mails)")
    return f"{request.scheme}://{request.host}{path}"


# -- the demo catcher ------------------------------------------------------------------------


class FileCatcher:
    """aiosmtpd handler: keeps each mail as ``<time>-<random>.eml`` in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        (self.directory / name).write_bytes(content)
        return "250 Message accepted"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_catcher(directory: Path, port: int, host: str = "127.0.0.1") -> Any:
    """Start the catcher in a thread of this process; returns the Controller (``.stop()``)."""
    from aiosmtpd.controller import Controller

    controller = Controller(FileCatcher(directory), hostname=host, port=port)
    controller.start()
    return controller
