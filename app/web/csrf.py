"""CSRF defence: a per-session token on every state-changing request, plus Origin and
Sec-Fetch-Site checks (SECURITY.md, web layer)."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from quart import current_app, g, request

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: The SAML ACS is posted to by the identity provider's page (cross-site, without our
#: cookie): it is protected by the signed response and its InResponseTo instead, and it
#: changes no session (it answers 303 to a GET that does, with the cookie).
EXEMPT_PATHS = {"/eid/saml/acs"}
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


class CSRFError(Exception):
    """Raised when a state-changing request cannot be proven to come from our own page."""


def csrf_token() -> str:
    """The token for forms; creating it starts a session."""
    session = g.session
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _own_origin() -> str:
    configured = current_app.config["SETTINGS"].public_origin
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.host}"


async def check_csrf() -> None:
    if request.method in SAFE_METHODS or request.path in EXEMPT_PATHS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        raise CSRFError("cross-site request")
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" != _own_origin():
            raise CSRFError("foreign origin")
    elif origin == "null":
        raise CSRFError("opaque origin")
    expected = g.session.get("csrf")
    sent = request.headers.get(HEADER)
    if not sent:
        form = await request.form
        sent = form.get(FIELD)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CSRFError("token missing or wrong")
