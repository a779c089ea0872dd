"""Passkeys without a browser: a python-fido2 software authenticator against the real routes.

Covers item 2 and 12 of issue 4 and negative tests 5 and 6 of SECURITY.md: registration,
passwordless login, passkey as second factor, the content-bound confirmation API, and the
refusals (no user verification, bogus signature, counter rollback, wrong origin or RP id,
another user's credential, a challenge reused, expired or issued to another user), each
with nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import insert, select, update
from webauthn.helpers import base64url_to_bytes

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import credentials, sessions, webauthn_challenges
from app.identity import passkeys as pk
from tests.conftest import Browser, assert_rejected, error_summary, main
from tests.identity_helpers import PASSWORD, make_account, sign_in
from tests.webauthn_authenticator import ORIGIN, RP_ID, SoftAuthenticator

RP = pk.RelyingParty(id=RP_ID, name="Jobcenter digital", origin=ORIGIN)
NOT_VERIFIED = "Bitte entsperren Sie Ihr Gerät mit PIN, Fingerabdruck oder Gesicht"


# -- helpers -------------------------------------------------------------------------------


async def options(b: Browser, url: str, *, expect: int = 200) -> str:
    """What passkey.js does first: POST to the options URL with the CSRF header."""
    response = await b.client.post(url, headers={"X-CSRF-Token": b.token()})
    assert response.status_code == expect, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return (await response.get_data()).decode()


async def add_passkey(b: Browser, device: SoftAuthenticator, name: str = "Handy") -> None:
    """Add ``device`` on /konto/sicherheit as a logged-in visitor would (with JavaScript)."""
    await b.get("/konto/sicherheit")
    answer = device.register(await options(b, "/konto/sicherheit/passkey/optionen"))
    await b.submit("/konto/sicherheit/passkey", {"name": name, "credential": answer})
    assert b.path == "/konto/sicherheit", b.path


async def stored(app: Quart, device: SoftAuthenticator) -> Any:
    async with app.config["DB"].connect() as conn:
        return (
            await conn.execute(select(credentials).where(credentials.c.id == device.id))
        ).first()


async def logged_in(b: Browser) -> bool:
    """Whether the visitor's session is logged in: the account page opens."""
    response = await b.client.get("/konto/sicherheit")
    return response.status_code == 200


async def actions(app: Quart, actor: str) -> list[str]:
    return [e.action for e in await audit.entries(app.config["DB"], actor)]


async def enrolled(app: Quart, email: str = "erika@example.org") -> tuple[Any, SoftAuthenticator]:
    """An account with one passkey, registered through the library functions."""
    account = await make_account(app, email)
    device = SoftAuthenticator()
    challenge_id, opts = await pk.registration_options(app.config["DB"], account, RP, "s")
    await pk.register(
        app.config["DB"], account.id, challenge_id, "s", device.register(opts), RP, "Handy"
    )
    return account, device


async def pending_login(b: Browser, account: Any, *, weiter: str = "", age: int = 0) -> None:
    """The session the password step leaves behind: ``pending_login``, not logged in yet."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    data = {
        "csrf": secrets.token_urlsafe(32),
        "pending_login": {
            "account_id": account.id,
            "at": (now - timedelta(seconds=age)).isoformat(),
            "weiter": weiter,
        },
    }
    async with b.app.config["DB"].begin() as conn:
        await conn.execute(
            insert(sessions).values(
                id_hash=hashlib.sha256(token.encode()).hexdigest(),
                data=data,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=1),
                account_id=None,
            )
        )
    b.client.set_cookie("localhost", "jcd_session", token)


# -- registration --------------------------------------------------------------------------


async def test_add_a_passkey_and_see_it_listed(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    assert visitor.title.startswith("Anmeldung und Sicherheit")
    assert 'data-passkey="register"' in visitor.html
    assert "<noscript>" in visitor.html  # without JavaScript: says so, TOTP stays
    assert visitor.response.headers["Cache-Control"] == "no-store"
    opts = json.loads(await options(visitor, "/konto/sicherheit/passkey/optionen"))
    assert opts["authenticatorSelection"]["userVerification"] == "required"
    assert opts["authenticatorSelection"]["residentKey"] == "preferred"
    assert opts["attestation"] == "none"
    assert opts["rp"]["id"] == RP_ID
    assert "@" not in opts["user"]["id"]  # the user handle is not the e-mail address

    device = SoftAuthenticator()
    await add_passkey(visitor, device, name="Mein Handy")
    assert "Ihr Passkey ist gespeichert." in main(visitor.html)
    assert "Mein Handy" in main(visitor.html)
    row = await stored(app, device)
    assert row.account_id == account.id
    assert row.aaguid == "6a3b9f0e-2c5d-4e7f-8a1b-2c3d4e5f6071"
    assert row.transports == ["internal", "hybrid"]
    assert "passkey_added" in await actions(app, account.id)

    # the next options exclude the passkey already there, so the device is not added twice
    again = json.loads(await options(visitor, "/konto/sicherheit/passkey/optionen"))
    assert [c["id"] for c in again["excludeCredentials"]] == [device.id]
    # and the name offered for the next one counts on
    assert 'value="Passkey 2"' in visitor.html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uv": False}, NOT_VERIFIED),
        ({"origin": "https://jobcenter-digital.example"}, "konnte nicht geprüft werden"),
        ({"rp_id": "evil.example"}, "konnte nicht geprüft werden"),
    ],
    ids=["no-user-verification", "wrong-origin", "wrong-rp-id"],
)
async def test_registration_refused(
    app: Quart, visitor: Browser, change: dict[str, Any], message: str
) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    device = SoftAuthenticator()
    answer = device.register(await options(visitor, "/konto/sicherheit/passkey/optionen"), **change)
    await visitor.submit(
        "/konto/sicherheit/passkey", {"name": "Handy", "credential": answer}, expect=422
    )
    assert visitor.title.startswith("Fehler:")
    assert any(message in line for line in error_summary(visitor.html))
    assert await stored(app, device) is None
    assert 'value="Handy"' in visitor.html  # the typed name is kept


async def test_registration_challenge_counts_once(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    device = SoftAuthenticator()
    answer = device.register(await options(visitor, "/konto/sicherheit/passkey/optionen"))
    # a failing attempt uses the challenge up, so the good answer to it comes too late
    broken = json.loads(answer)
    broken["response"]["clientDataJSON"] = broken["response"]["clientDataJSON"][:-4] + "AAAA"
    await visitor.submit(
        "/konto/sicherheit/passkey",
        {"name": "Handy", "credential": json.dumps(broken)},
        expect=422,
    )
    await visitor.submit(
        "/konto/sicherheit/passkey", {"name": "Handy", "credential": answer}, expect=422
    )
    assert any("abgelaufen" in line for line in error_summary(visitor.html))
    assert await stored(app, device) is None


async def test_without_javascript_the_form_says_what_to_do(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    await visitor.submit("/konto/sicherheit/passkey", {"name": "Handy"}, expect=422)
    assert any("JavaScript" in line for line in error_summary(visitor.html))


async def test_name_is_checked_and_kept(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    long_name = "x" * 101
    await visitor.submit("/konto/sicherheit/passkey", {"name": long_name}, expect=422)
    assert_rejected(visitor, {"name": "höchstens 100 Zeichen"}, kept={"name": long_name})


async def test_security_page_needs_login(app: Quart, visitor: Browser) -> None:
    response = await visitor.client.get("/konto/sicherheit")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden?weiter=/konto/sicherheit")
    await visitor.get("/anmelden/passkey")
    await options(visitor, "/konto/sicherheit/passkey/optionen", expect=401)


# -- rename and remove ---------------------------------------------------------------------


async def test_rename_a_passkey(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    device = SoftAuthenticator()
    await add_passkey(visitor, device, "Handy")
    [link] = visitor.links("Umbenennen")
    await visitor.get(link)
    assert visitor.title.startswith("Passkey umbenennen")
    await visitor.submit(data={"name": "  "}, expect=422)
    assert_rejected(visitor, {"name": "Bitte geben Sie dem Passkey einen Namen."})
    await visitor.submit(data={"name": "Laptop im Büro"})
    assert visitor.path == "/konto/sicherheit"
    assert "Laptop im Büro" in main(visitor.html)
    assert (await stored(app, device)).name == "Laptop im Büro"


async def test_remove_a_passkey_after_confirming(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    device = SoftAuthenticator()
    await add_passkey(visitor, device, "Handy")
    [link] = visitor.links("Entfernen")
    await visitor.get(link)
    assert visitor.title.startswith("Passkey wirklich entfernen?")
    assert await stored(app, device) is not None  # the GET changed nothing
    await visitor.submit(link)
    assert "Der Passkey ist entfernt." in main(visitor.html)
    assert await stored(app, device) is None
    assert "passkey_removed" in await actions(app, account.id)


async def test_last_passkey_of_an_account_without_password_stays(
    app: Quart, visitor: Browser
) -> None:
    account = await make_account(app)
    await account_repo.set_fields(app.config["DB"], account.id, password_hash=None)
    await sign_in(visitor, account)
    device = SoftAuthenticator()
    await add_passkey(visitor, device, "Handy")
    [link] = visitor.links("Entfernen")
    await visitor.get(link)
    await visitor.submit(link, expect=422)
    assert any("Ihr einziger Passkey" in line for line in error_summary(visitor.html))
    assert await stored(app, device) is not None


async def test_another_users_passkey_is_not_found(app: Quart, visitor: Browser) -> None:
    _owner, device = await enrolled(app, "leon@example.org")
    intruder = await make_account(app, "erika@example.org")
    await sign_in(visitor, intruder)
    await visitor.get("/konto/sicherheit")
    for action in ("umbenennen", "entfernen"):
        url = f"/konto/sicherheit/passkey/{device.id}/{action}"
        await visitor.get(url, expect=404)
        await visitor.get("/konto/sicherheit")
        await visitor.submit(url, {"name": "Meins"}, expect=404)
    row = await stored(app, device)
    assert row is not None and row.name == "Handy"


# -- passwordless login --------------------------------------------------------------------


async def test_log_in_with_a_passkey(app: Quart, visitor: Browser) -> None:
    account, device = await enrolled(app)
    await visitor.get("/anmelden/passkey?weiter=/konto/sicherheit")
    assert visitor.title.startswith("Mit Passkey anmelden")
    opts = json.loads(await options(visitor, "/anmelden/passkey/optionen"))
    assert opts["allowCredentials"] == []  # discoverable: the device offers its passkeys
    assert opts["userVerification"] == "required"
    answer = device.sign_in(json.dumps(opts))
    await visitor.submit("/anmelden/passkey", {"credential": answer, "weiter": "/konto/sicherheit"})
    assert visitor.path == "/konto/sicherheit"
    assert await logged_in(visitor)
    entries = await audit.entries(app.config["DB"], account.id)
    assert entries[-1].action == "login" and entries[-1].details["method"] == "passkey"
    row = await stored(app, device)
    assert row.sign_count == 1 and row.last_used_at is not None


async def test_login_options_are_rate_limited_per_client(app: Quart, visitor: Browser) -> None:
    """Anyone may ask for login options, and each stores a challenge: not without bound."""
    from app.db.tables import webauthn_challenges
    from app.sicherheit import LOGIN_OPTIONS

    await visitor.get("/anmelden/passkey")
    for _ in range(LOGIN_OPTIONS.limit):
        await options(visitor, "/anmelden/passkey/optionen")
    await options(visitor, "/anmelden/passkey/optionen", expect=429)
    async with app.config["DB"].connect() as conn:
        stored_rows = (await conn.execute(select(webauthn_challenges))).all()
    assert len(stored_rows) == LOGIN_OPTIONS.limit


async def test_login_goes_nowhere_outside_the_site(app: Quart, visitor: Browser) -> None:
    _account, device = await enrolled(app)
    await visitor.get("/anmelden/passkey")
    answer = device.sign_in(await options(visitor, "/anmelden/passkey/optionen"))
    response = await visitor.submit(
        "/anmelden/passkey", {"credential": answer, "weiter": "//evil.example/"}, follow=False
    )
    assert response.headers["Location"] == "/konto"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uv": False}, NOT_VERIFIED),
        ({"bogus_signature": True}, "konnte nicht geprüft werden"),
        ({"origin": "https://jobcenter-digital.example"}, "konnte nicht geprüft werden"),
        ({"rp_id": "evil.example"}, "konnte nicht geprüft werden"),
    ],
    ids=["no-user-verification", "bogus-signature", "wrong-origin", "wrong-rp-id"],
)
async def test_passkey_login_refused(
    app: Quart, visitor: Browser, change: dict[str, Any], message: str
) -> None:
    account, device = await enrolled(app)
    await visitor.get("/anmelden/passkey")
    answer = device.sign_in(await options(visitor, "/anmelden/passkey/optionen"), **change)
    await visitor.submit("/anmelden/passkey", {"credential": answer}, expect=422)
    assert visitor.title.startswith("Fehler:")
    assert any(message in line for line in error_summary(visitor.html))
    assert message in main(visitor.html.split("data-passkey-message", 1)[1])  # next to the button
    assert not await logged_in(visitor)
    row = await stored(app, device)
    assert row.sign_count == 0 and row.last_used_at is None  # nothing changed
    assert "login" not in await actions(app, account.id)


async def test_counter_rollback_is_refused_and_audited(app: Quart, visitor: Browser) -> None:
    account, device = await enrolled(app)
    for _ in range(2):  # two good logins: counter 1, 2
        other = Browser(app)
        await other.get("/anmelden/passkey")
        answer = device.sign_in(await options(other, "/anmelden/passkey/optionen"))
        await other.submit("/anmelden/passkey", {"credential": answer})
    await visitor.get("/anmelden/passkey")
    # a copy of the key with an older counter (a clone) signs correctly, with counter 2
    answer = device.sign_in(await options(visitor, "/anmelden/passkey/optionen"), counter=2)
    await visitor.submit("/anmelden/passkey", {"credential": answer}, expect=422)
    assert any("Sicherheitsgründen" in line for line in error_summary(visitor.html))
    assert not await logged_in(visitor)
    assert (await stored(app, device)).sign_count == 2
    assert "passkey_clone_suspected" in await actions(app, account.id)


async def test_login_challenge_is_single_use(app: Quart, visitor: Browser) -> None:
    _account, device = await enrolled(app)
    await visitor.get("/anmelden/passkey")
    opts = await options(visitor, "/anmelden/passkey/optionen")
    await visitor.submit(
        "/anmelden/passkey", {"credential": device.sign_in(opts, uv=False)}, expect=422
    )
    # the failed attempt used the challenge up: a good answer to it is refused now
    await visitor.submit("/anmelden/passkey", {"credential": device.sign_in(opts)}, expect=422)
    assert any("abgelaufen" in line for line in error_summary(visitor.html))
    assert not await logged_in(visitor)


async def test_a_challenge_is_consumed_by_any_attempt(app: Quart) -> None:
    """The single-use UPDATE runs first: a mismatching attempt burns the challenge too."""
    db = app.config["DB"]
    challenge_id, _opts = await pk.authentication_options(db, RP, "session-a", purpose="login")
    with pytest.raises(pk.PasskeyError):  # another browser session tries it
        await pk.take_challenge(db, challenge_id, purpose="login", session="session-b")
    with pytest.raises(pk.PasskeyError) as caught:  # now not even the right one may
        await pk.take_challenge(db, challenge_id, purpose="login", session="session-a")
    assert caught.value.message_id == pk.EXPIRED


async def test_challenge_of_another_browser_is_refused(app: Quart, visitor: Browser) -> None:
    _account, device = await enrolled(app)
    attacker = Browser(app)
    await attacker.get("/anmelden/passkey")
    opts = await options(attacker, "/anmelden/passkey/optionen")
    # the victim's browser answers the attacker's challenge: no use in the attacker's session
    await visitor.get("/anmelden/passkey")
    await options(visitor, "/anmelden/passkey/optionen")
    await visitor.submit("/anmelden/passkey", {"credential": device.sign_in(opts)}, expect=422)
    assert not await logged_in(visitor)


async def test_expired_login_challenge_is_refused(app: Quart, visitor: Browser) -> None:
    _account, device = await enrolled(app)
    await visitor.get("/anmelden/passkey")
    opts = await options(visitor, "/anmelden/passkey/optionen")
    async with app.config["DB"].begin() as conn:
        await conn.execute(
            update(webauthn_challenges).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await visitor.submit("/anmelden/passkey", {"credential": device.sign_in(opts)}, expect=422)
    assert any("abgelaufen" in line for line in error_summary(visitor.html))
    assert not await logged_in(visitor)


async def test_unknown_passkey_is_refused(app: Quart, visitor: Browser) -> None:
    await make_account(app)
    await visitor.get("/anmelden/passkey")
    stranger = SoftAuthenticator()
    answer = stranger.sign_in(await options(visitor, "/anmelden/passkey/optionen"))
    await visitor.submit("/anmelden/passkey", {"credential": answer}, expect=422)
    assert any("kennen wir nicht" in line for line in error_summary(visitor.html))


# -- second factor after the password -----------------------------------------------------


async def test_second_factor_required_with_a_passkey(app: Quart) -> None:
    plain = await make_account(app, "plain@example.org")
    account, _device = await enrolled(app)
    db = app.config["DB"]
    assert not await pk.second_factor_required(db, plain)
    assert await pk.second_factor_required(db, account)


async def test_passkey_as_second_factor(app: Quart, visitor: Browser) -> None:
    account, device = await enrolled(app)
    await pending_login(visitor, account, weiter="/konto/sicherheit")
    assert not await logged_in(visitor)
    await visitor.get("/anmelden/zweiter-faktor")
    assert visitor.title.startswith("Anmeldung bestätigen")
    assert 'data-passkey="second"' in visitor.html
    opts = json.loads(await options(visitor, "/anmelden/zweiter-faktor/optionen"))
    assert [c["id"] for c in opts["allowCredentials"]] == [device.id]
    assert opts["userVerification"] == "required"
    await visitor.submit(
        "/anmelden/zweiter-faktor/passkey", {"credential": device.sign_in(json.dumps(opts))}
    )
    assert visitor.path == "/konto/sicherheit"
    assert await logged_in(visitor)
    entries = await audit.entries(app.config["DB"], account.id)
    assert entries[-1].details["method"] == "password+passkey"


async def test_password_then_passkey(app: Quart, visitor: Browser) -> None:
    """The whole way: the password form of /anmelden hands over to the second factor."""
    account, device = await enrolled(app)
    await visitor.get("/anmelden?weiter=/konto/sicherheit")
    await visitor.submit(
        "/anmelden", {"email": account.email, "passwort": PASSWORD, "weiter": "/konto/sicherheit"}
    )
    assert visitor.path == "/anmelden/zweiter-faktor"
    assert not await logged_in(visitor)  # the password alone does not log in
    answer = device.sign_in(await options(visitor, "/anmelden/zweiter-faktor/optionen"))
    await visitor.submit("/anmelden/zweiter-faktor/passkey", {"credential": answer})
    assert visitor.path == "/konto/sicherheit"
    assert await logged_in(visitor)


async def test_second_factor_refuses_another_users_passkey(app: Quart, visitor: Browser) -> None:
    account, _device = await enrolled(app)
    _other, other_device = await enrolled(app, "leon@example.org")
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    opts = await options(visitor, "/anmelden/zweiter-faktor/optionen")
    await visitor.submit(
        "/anmelden/zweiter-faktor/passkey",
        {"credential": other_device.sign_in(opts)},
        expect=422,
    )
    assert any("gehört nicht zu Ihrem Konto" in line for line in error_summary(visitor.html))
    assert not await logged_in(visitor)
    assert (await stored(app, other_device)).sign_count == 0


async def test_second_factor_refuses_without_user_verification(
    app: Quart, visitor: Browser
) -> None:
    account, device = await enrolled(app)
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    opts = await options(visitor, "/anmelden/zweiter-faktor/optionen")
    await visitor.submit(
        "/anmelden/zweiter-faktor/passkey",
        {"credential": device.sign_in(opts, uv=False)},
        expect=422,
    )
    assert any(NOT_VERIFIED in line for line in error_summary(visitor.html))
    assert not await logged_in(visitor)


async def test_second_factor_expires_after_five_minutes(app: Quart, visitor: Browser) -> None:
    account, _device = await enrolled(app)
    await pending_login(visitor, account, age=301)
    response = await visitor.client.get("/anmelden/zweiter-faktor")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden")
    await visitor.get("/anmelden/passkey")  # a page of the same session, for its CSRF token
    await options(visitor, "/anmelden/zweiter-faktor/optionen", expect=401)
    assert not await logged_in(visitor)


async def test_second_factor_page_needs_a_password_first(app: Quart, visitor: Browser) -> None:
    response = await visitor.client.get("/anmelden/zweiter-faktor")
    assert response.status_code == 303


# -- content-bound confirmation (Widerspruch): negative tests 4, 5, 6 ----------------------


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


async def test_confirmation_proof(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("Erklärung"), RP)
    parsed = json.loads(opts)
    assert [c["id"] for c in parsed["allowCredentials"]] == [device.id]
    assert parsed["userVerification"] == "required"
    proof = await pk.verify_confirmation(
        db, account.id, "draft1", digest("Erklärung"), device.sign_in(opts), RP
    )
    assert proof.credential_id == device.id
    assert proof.sign_count == 1
    assert proof.signature and proof.authenticator_data and proof.client_data and proof.at
    # the signed client data carries the declaration's digest
    client = json.loads(base64url_to_bytes(proof.client_data))
    assert base64url_to_bytes(client["challenge"])[:32] == digest("Erklärung")
    assert "passkey_confirmed" in await actions(app, account.id)


async def _refused(app: Quart, device: SoftAuthenticator, call: Any, reason: str) -> None:
    with pytest.raises(pk.PasskeyError) as caught:
        await call
    assert caught.value.message_id, reason
    assert (await stored(app, device)).sign_count == 0, f"{reason}: sign count changed"


async def test_confirmation_refused_when_declaration_changed(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("Erklärung"), RP)
    answer = device.sign_in(opts)
    changed = digest("Erklärung, danach geändert")
    await _refused(
        app, device, pk.verify_confirmation(db, account.id, "draft1", changed, answer, RP), "digest"
    )


async def test_confirmation_challenge_reused(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    await pk.verify_confirmation(db, account.id, "draft1", digest("E"), device.sign_in(opts), RP)
    before = (await stored(app, device)).sign_count
    with pytest.raises(pk.PasskeyError) as caught:
        await pk.verify_confirmation(
            db, account.id, "draft1", digest("E"), device.sign_in(opts), RP
        )
    assert caught.value.message_id == pk.EXPIRED
    assert (await stored(app, device)).sign_count == before


async def test_confirmation_challenge_expired(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    async with db.begin() as conn:
        await conn.execute(
            update(webauthn_challenges).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await _refused(
        app,
        device,
        pk.verify_confirmation(db, account.id, "draft1", digest("E"), device.sign_in(opts), RP),
        "expired",
    )


async def test_confirmation_challenge_of_another_user(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    other, _other_device = await enrolled(app, "leon@example.org")
    opts = await pk.confirmation_options(db, other.id, "draft1", digest("E"), RP)
    await _refused(
        app,
        device,
        pk.verify_confirmation(db, account.id, "draft1", digest("E"), device.sign_in(opts), RP),
        "issued to another user",
    )
    # and it was used up by that attempt
    async with db.connect() as conn:
        used = (await conn.execute(select(webauthn_challenges.c.used_at))).scalars().all()
    assert all(used)


async def test_confirmation_challenge_of_another_draft(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    await _refused(
        app,
        device,
        pk.verify_confirmation(db, account.id, "draft2", digest("E"), device.sign_in(opts), RP),
        "another draft",
    )


async def test_confirmation_with_another_users_passkey(app: Quart) -> None:
    db = app.config["DB"]
    account, _device = await enrolled(app)
    _other, other_device = await enrolled(app, "leon@example.org")
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    with pytest.raises(pk.PasskeyError) as caught:
        await pk.verify_confirmation(
            db, account.id, "draft1", digest("E"), other_device.sign_in(opts), RP
        )
    assert caught.value.message_id == pk.NOT_YOURS
    assert (await stored(app, other_device)).sign_count == 0


@pytest.mark.parametrize(
    "change",
    [
        {"uv": False},
        {"bogus_signature": True},
        {"origin": "https://jobcenter-digital.example"},
        {"rp_id": "evil.example"},
        {"challenge": secrets.token_bytes(48)},
    ],
    ids=["no-user-verification", "bogus-signature", "wrong-origin", "wrong-rp-id", "made-up"],
)
async def test_confirmation_refused(app: Quart, change: dict[str, Any]) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    await _refused(
        app,
        device,
        pk.verify_confirmation(
            db, account.id, "draft1", digest("E"), device.sign_in(opts, **change), RP
        ),
        str(change),
    )


async def test_confirmation_counter_rollback(app: Quart) -> None:
    db = app.config["DB"]
    account, device = await enrolled(app)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    await pk.verify_confirmation(db, account.id, "draft1", digest("E"), device.sign_in(opts), RP)
    opts = await pk.confirmation_options(db, account.id, "draft1", digest("E"), RP)
    with pytest.raises(pk.PasskeyError) as caught:
        await pk.verify_confirmation(
            db, account.id, "draft1", digest("E"), device.sign_in(opts, counter=1), RP
        )
    assert caught.value.message_id == pk.CLONED
    assert (await stored(app, device)).sign_count == 1


async def test_has_passkey(app: Quart) -> None:
    db = app.config["DB"]
    plain = await make_account(app, "plain@example.org")
    account, _device = await enrolled(app)
    assert await pk.has_passkey(db, account.id)
    assert not await pk.has_passkey(db, plain.id)
    with pytest.raises(pk.PasskeyError):
        await pk.confirmation_options(db, plain.id, "draft1", digest("E"), RP)
