"""Walking the eID journey with real SAML messages from the local test IdP (no browser).

The ACS is posted by a client WITHOUT our cookies, as a real IdP's page would be (cross-site,
SameSite=Lax): the journey must work without the session there.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from quart import Quart
from sqlalchemy import select

from app.db import accounts as account_repo
from app.db.tables import audit_log, eid_proofs, saml_requests, sessions
from tests.conftest import Browser
from tests.identity_helpers import ERIKA, make_account, sign_in

ORIGIN = "http://localhost"
ACS = f"{ORIGIN}/eid/saml/acs"


async def erika(app: Quart, visitor: Browser, **kwargs: Any) -> account_repo.Account:
    """Erika Mustermann's account (pin_brief), logged in in ``visitor``."""
    account = await make_account(app, profile=dict(ERIKA), level="pin_brief", **kwargs)
    await sign_in(visitor, account)
    return account


def form_inputs(html: str, action: str) -> dict[str, str]:
    """Name → value of the (hidden) inputs of the form posting to ``action``."""
    match = re.search(rf'<form [^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert match, f"no form posting to {action}"
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)
        )
    }


async def press_eid_button(
    visitor: Browser, stufe: str = "eid_hoch", weiter: str = "/konto"
) -> str:
    """Open /konto/stufe and press the eID button; returns the IdP redirect URL."""
    await visitor.get("/konto/stufe?" + urlencode({"stufe": stufe, "weiter": weiter}))
    fields = form_inputs(visitor.html, "/eid/start")
    assert fields["stufe"] == stufe and fields["weiter"] == weiter
    response = await visitor.submit("/eid/start", fields, follow=False)
    location = response.headers["Location"]
    assert location.startswith(f"{ORIGIN}/test-idp/sso?"), location
    return location


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class IdpAnswer:
    saml_response: str
    relay_state: str
    action: str

    @property
    def xml(self) -> str:
        return base64.b64decode(self.saml_response).decode("utf-8")

    def form(self) -> dict[str, str]:
        return {"SAMLResponse": self.saml_response, "RelayState": self.relay_state}


async def idp_answer(
    visitor: Browser, location: str, person: str = "erika", fault: str = "keiner"
) -> IdpAnswer:
    """At the test IdP: choose person and fault, press Weiter; read the auto-submit form."""
    await visitor.get(path_of(location))
    fields = form_inputs(visitor.html, "/test-idp/antwort")
    await visitor.submit(
        "/test-idp/antwort", {**fields, "person": person, "fehler": fault}, expect=200
    )
    hidden = form_inputs(visitor.html, ACS)
    return IdpAnswer(hidden["SAMLResponse"], hidden.get("RelayState", ""), ACS)


async def post_to_acs(
    app: Quart, answer: IdpAnswer | dict[str, str], *, expect: int = 303
) -> tuple[int, str, str]:
    """POST the answer to the ACS from the IdP's page: cross-site, no cookies, no token.

    Returns (status, Location, body).
    """
    data = answer.form() if isinstance(answer, IdpAnswer) else answer
    client = app.test_client()  # a fresh client: SameSite=Lax keeps our cookie away
    response = await client.post(
        "/eid/saml/acs",
        data=urlencode(data),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://idp.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == expect, (response.status_code, body[-2000:])
    return response.status_code, response.headers.get("Location", ""), body


async def full_journey(
    app: Quart,
    visitor: Browser,
    *,
    stufe: str = "eid_hoch",
    weiter: str = "/konto",
    person: str = "erika",
    fault: str = "keiner",
) -> str:
    """Button → IdP → ACS; returns the /eid/fertig/… path the ACS sent the browser to."""
    location = await press_eid_button(visitor, stufe, weiter)
    answer = await idp_answer(visitor, location, person, fault)
    _, target, _ = await post_to_acs(app, answer)
    assert target.startswith("/eid/fertig/"), target
    return target


# -- what is stored -------------------------------------------------------------------------


async def rows(app: Quart, table: Any) -> list[Any]:
    async with app.config["DB"].connect() as conn:
        return list((await conn.execute(select(table))).all())


async def proofs(app: Quart) -> list[Any]:
    return await rows(app, eid_proofs)


async def requests(app: Quart) -> list[Any]:
    return await rows(app, saml_requests)


async def audit_actions(app: Quart, action: str) -> list[Any]:
    return [r for r in await rows(app, audit_log) if r.action == action]


async def session_data(app: Quart, account_id: str) -> list[dict[str, Any]]:
    """The data of every live session of the account."""
    return [dict(r.data) for r in await rows(app, sessions) if r.account_id == account_id]


def session_cookie(visitor: Browser) -> str | None:
    for cookie in visitor.client.cookie_jar:
        if cookie.name == "jcd_session":
            return cookie.value
    return None
