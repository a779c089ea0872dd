"""Passkeys (WebAuthn) with py_webauthn 3: registration, login, second factor, confirmation.

What the library leaves to us (SECURITY.md): challenges live server-side, expire and are
used once (consumed on every attempt, success or not); user verification is required;
the credential must belong to the account in question; the sign count is stored and a
counter that does not increase is refused as a possible clone. Functions here take the
database and a ``RelyingParty`` and raise ``PasskeyError`` with a German message id the
page shows; the HTTP face is app/sicherheit.py.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from quart import current_app, request
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_attestation_object,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.db import audit, utcnow
from app.db.tables import credentials, webauthn_challenges
from app.i18n import N_

CHALLENGE_TTL = timedelta(minutes=5)
#: what the browser may spend on the ceremony (a hint; the server's expiry is what counts)
TIMEOUT_MS = 120_000
NONCE_BYTES = 16
NAME_MAX = 100  # credentials.name is String(100)
ID_MAX = 400  # credentials.id is String(400)

FAILED = N_("Der Passkey konnte nicht geprüft werden. Bitte versuchen Sie es noch einmal.")
NOT_VERIFIED = N_(
    "Die Bestätigung mit dem Passkey hat nicht geklappt. Bitte entsperren Sie Ihr Gerät mit "
    "PIN, Fingerabdruck oder Gesicht und versuchen Sie es noch einmal."
)
EXPIRED = N_(
    "Die Anfrage für den Passkey ist abgelaufen oder wurde schon benutzt. Bitte versuchen Sie "
    "es noch einmal."
)
UNKNOWN = N_(
    "Diesen Passkey kennen wir nicht. Vielleicht wurde er entfernt. Bitte melden Sie sich mit "
    "Ihrem Passwort an."
)
NOT_YOURS = N_(
    "Dieser Passkey gehört nicht zu Ihrem Konto. Bitte nehmen Sie Ihren eigenen Passkey."
)
CLONED = N_(
    "Dieser Passkey wurde aus Sicherheitsgründen abgelehnt. Bitte melden Sie sich auf einem "
    "anderen Weg an und entfernen Sie den Passkey in Ihrem Konto."
)
NO_PASSKEY = N_(
    "Sie haben noch keinen Passkey. Sie können einen Passkey in Ihrem Konto unter "
    "„Anmeldung und Sicherheit“ einrichten."
)
EXISTS = N_("Dieser Passkey ist schon in Ihrem Konto gespeichert.")


class PasskeyError(Exception):
    """A passkey step failed; ``message_id`` is a German message id to show (gettext it)."""

    def __init__(self, message_id: str, reason: str = "") -> None:
        super().__init__(reason or message_id)
        self.message_id = message_id
        self.reason = reason


@dataclass(frozen=True)
class RelyingParty:
    """Who asks: the WebAuthn rp id (a host name), the name shown, the expected origin."""

    id: str
    name: str
    origin: str


def relying_party() -> RelyingParty:
    """The relying party of this request: configured values first, else the request's host.

    Behind a proxy ``public_origin`` must be set; trusting the Host header is for local use.
    """
    settings = current_app.config["SETTINGS"]
    origin = (settings.public_origin or f"{request.scheme}://{request.host}").rstrip("/")
    rp_id = settings.rp_id or urlsplit(origin).hostname or request.host.split(":")[0]
    return RelyingParty(id=rp_id, name=settings.rp_name, origin=origin)


@dataclass(frozen=True)
class Passkey:
    """One stored credential as the account page lists it."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class PasskeyProof:
    """What a confirmation with a passkey proves, kept with the submission (verifiable later:
    the signature covers authenticator data and the hash of the client data, whose challenge
    is the declaration's digest and the nonce)."""

    credential_id: str
    signature: str  # base64url
    sign_count: int
    authenticator_data: str  # base64url
    client_data: str  # base64url
    at: str  # ISO 8601, UTC

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Verified:
    """A verified assertion: whose credential it was."""

    account_id: str
    credential_id: str
    sign_count: int


def session_hash(token: str) -> str:
    """Ties a challenge to one browser session (the hash of its CSRF token)."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- challenges -----------------------------------------------------------------------------


async def _store_challenge(
    db: AsyncEngine,
    *,
    purpose: str,
    challenge: bytes,
    account_id: str | None,
    session: str | None,
    binding: str | None = None,
) -> str:
    now = utcnow()
    challenge_id = secrets.token_urlsafe(16)
    async with db.begin() as conn:
        # expired rows are of no use to anyone: drop them while we are here
        await conn.execute(
            delete(webauthn_challenges).where(webauthn_challenges.c.expires_at <= now)
        )
        await conn.execute(
            insert(webauthn_challenges).values(
                id=challenge_id,
                account_id=account_id,
                session_hash=session,
                purpose=purpose,
                challenge=challenge,
                binding=binding,
                created_at=now,
                expires_at=now + CHALLENGE_TTL,
            )
        )
    return challenge_id


async def _consume(conn: AsyncConnection, challenge_id: str | None) -> Any:
    """Use a challenge up: exactly one unused, unexpired row, else ``PasskeyError``.

    Runs before any other check, so a wrong attempt burns the challenge too.
    """
    if not challenge_id:
        raise PasskeyError(EXPIRED, "no challenge")
    now = utcnow()
    result = await conn.execute(
        update(webauthn_challenges)
        .where(
            webauthn_challenges.c.id == challenge_id,
            webauthn_challenges.c.used_at.is_(None),
            webauthn_challenges.c.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:
        raise PasskeyError(EXPIRED, "challenge used, expired or unknown")
    return (
        await conn.execute(
            select(webauthn_challenges).where(webauthn_challenges.c.id == challenge_id)
        )
    ).one()


async def take_challenge(
    db: AsyncEngine,
    challenge_id: str | None,
    *,
    purpose: str,
    session: str | None,
    account_id: str | None = None,
) -> bytes:
    """Consume a challenge and check it was issued for this purpose, browser and account."""
    async with db.begin() as conn:
        row = await _consume(conn, challenge_id)
    if row.purpose != purpose or row.session_hash != session:
        raise PasskeyError(EXPIRED, "challenge of another purpose or session")
    if row.account_id != account_id:
        raise PasskeyError(EXPIRED, "challenge issued to another account")
    return bytes(row.challenge)


# -- stored credentials ---------------------------------------------------------------------


async def list_passkeys(db: AsyncEngine, account_id: str) -> list[Passkey]:
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(credentials)
                .where(credentials.c.account_id == account_id)
                .order_by(credentials.c.created_at)
            )
        ).all()
    return [Passkey(r.id, r.name, r.created_at, r.last_used_at) for r in rows]


async def get_passkey(db: AsyncEngine, account_id: str, credential_id: str) -> Passkey | None:
    """One of the account's passkeys; None for an unknown id or somebody else's."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                select(credentials).where(
                    credentials.c.id == credential_id, credentials.c.account_id == account_id
                )
            )
        ).first()
    return Passkey(row.id, row.name, row.created_at, row.last_used_at) if row else None


async def has_passkey(db: AsyncEngine, account_id: str) -> bool:
    async with db.connect() as conn:
        count = (
            await conn.execute(
                select(func.count())
                .select_from(credentials)
                .where(credentials.c.account_id == account_id)
            )
        ).scalar_one()
    return count > 0


async def second_factor_required(db: AsyncEngine, account: Any) -> bool:
    """True when the account has a passkey or TOTP: then a password alone does not log in."""
    return bool(account.totp_secret) or await has_passkey(db, account.id)


async def rename(db: AsyncEngine, account_id: str, credential_id: str, name: str) -> bool:
    async with db.begin() as conn:
        result = await conn.execute(
            update(credentials)
            .where(credentials.c.id == credential_id, credentials.c.account_id == account_id)
            .values(name=name)
        )
    if result.rowcount:
        await audit.record(db, account_id, "passkey_renamed", credential_id)
    return bool(result.rowcount)


async def remove(db: AsyncEngine, account_id: str, credential_id: str) -> bool:
    async with db.begin() as conn:
        result = await conn.execute(
            delete(credentials).where(
                credentials.c.id == credential_id, credentials.c.account_id == account_id
            )
        )
    if result.rowcount:
        await audit.record(db, account_id, "passkey_removed", credential_id)
    return bool(result.rowcount)


async def _descriptors(db: AsyncEngine, account_id: str) -> list[PublicKeyCredentialDescriptor]:
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                select(credentials.c.id, credentials.c.transports).where(
                    credentials.c.account_id == account_id
                )
            )
        ).all()
    out = []
    for row in rows:
        transports = []
        for value in row.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue
        out.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(row.id), transports=transports or None
            )
        )
    return out


# -- registration ---------------------------------------------------------------------------


def user_handle(account_id: str) -> bytes:
    """The WebAuthn user id: the random account id, never the e-mail address."""
    return account_id.encode()


async def registration_options(
    db: AsyncEngine, account: Any, rp: RelyingParty, session: str
) -> tuple[str, str]:
    """(challenge id, options JSON) for navigator.credentials.create()."""
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=account.email,
        user_id=user_handle(account.id),
        user_display_name=account.email,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=await _descriptors(db, account.id),
    )
    challenge_id = await _store_challenge(
        db, purpose="register", challenge=challenge, account_id=account.id, session=session
    )
    return challenge_id, options_to_json(options)


def _parse_registration(credential_json: str) -> RegistrationCredential:
    try:
        return parse_registration_credential_json(credential_json)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise PasskeyError(FAILED, f"unreadable registration: {exc}") from exc


def _registration_uv(credential: RegistrationCredential) -> bool:
    try:
        return parse_attestation_object(credential.response.attestation_object).auth_data.flags.uv
    except Exception:  # unreadable data is simply "not verified"
        return False


async def register(
    db: AsyncEngine,
    account_id: str,
    challenge_id: str | None,
    session: str,
    credential_json: str,
    rp: RelyingParty,
    name: str,
) -> Passkey:
    """Verify a registration and store the new credential for ``account_id``."""
    expected = await take_challenge(
        db, challenge_id, purpose="register", session=session, account_id=account_id
    )
    credential = _parse_registration(credential_json)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=expected,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        message = FAILED if _registration_uv(credential) else NOT_VERIFIED
        await audit.record(db, account_id, "passkey_rejected", None, step="register", why=str(exc))
        raise PasskeyError(message, str(exc)) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > ID_MAX:
        raise PasskeyError(FAILED, "credential id too long")
    transports = [t.value for t in (credential.response.transports or [])]
    now = utcnow()
    async with db.begin() as conn:
        taken = (
            await conn.execute(select(credentials.c.id).where(credentials.c.id == credential_id))
        ).first()
        if taken:
            raise PasskeyError(EXISTS, "credential id already stored")
        await conn.execute(
            insert(credentials).values(
                id=credential_id,
                account_id=account_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                name=name[:NAME_MAX],
                transports=transports,
                aaguid=verified.aaguid,
                created_at=now,
                last_used_at=None,
            )
        )
    await audit.record(db, account_id, "passkey_added", credential_id, aaguid=verified.aaguid)
    return Passkey(credential_id, name[:NAME_MAX], now, None)


# -- authentication (passwordless login, second factor) -------------------------------------


async def authentication_options(
    db: AsyncEngine,
    rp: RelyingParty,
    session: str,
    *,
    purpose: str,
    account_id: str | None = None,
    challenge: bytes | None = None,
    binding: str | None = None,
) -> tuple[str, str]:
    """(challenge id, options JSON) for navigator.credentials.get().

    Without ``account_id`` (passwordless login) the list of allowed credentials is empty, so
    the browser offers the passkeys it holds for this site (discoverable credentials).
    """
    challenge = challenge or secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=await _descriptors(db, account_id) if account_id else [],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    challenge_id = await _store_challenge(
        db,
        purpose=purpose,
        challenge=challenge,
        account_id=account_id,
        session=session,
        binding=binding,
    )
    return challenge_id, options_to_json(options)


def _parse_assertion(credential_json: str) -> AuthenticationCredential:
    try:
        return parse_authentication_credential_json(credential_json)
    except (WebAuthnException, ValueError, TypeError) as exc:
        raise PasskeyError(FAILED, f"unreadable assertion: {exc}") from exc


def _assertion_uv(credential: AuthenticationCredential) -> bool:
    try:
        return parse_authenticator_data(credential.response.authenticator_data).flags.uv
    except Exception:  # unreadable data is simply "not verified"
        return False


async def _check_assertion(
    db: AsyncEngine,
    credential: AuthenticationCredential,
    expected_challenge: bytes,
    rp: RelyingParty,
    *,
    account_id: str | None,
    step: str,
) -> Verified:
    """Verify an assertion against the stored credential; update its sign count.

    ``account_id`` None: any account's credential (passwordless login); else it must be
    that account's. Audits refusals that point to an attack (someone else's credential,
    a counter that went backwards).
    """
    credential_id = credential.id
    async with db.connect() as conn:
        row = (
            await conn.execute(select(credentials).where(credentials.c.id == credential_id))
        ).first()
    if row is None:
        raise PasskeyError(UNKNOWN if account_id is None else NOT_YOURS, "unknown credential")
    if account_id is not None and row.account_id != account_id:
        await audit.record(
            db, account_id, "passkey_rejected", credential_id, step=step, why="foreign"
        )
        raise PasskeyError(NOT_YOURS, "credential of another account")
    if credential.response.user_handle and credential.response.user_handle != user_handle(
        row.account_id
    ):
        raise PasskeyError(FAILED, "user handle does not match the credential's account")
    try:
        # the counter is compared below, after the signature is known to be genuine
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=bytes(row.public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        message = FAILED if _assertion_uv(credential) else NOT_VERIFIED
        await audit.record(
            db, row.account_id, "passkey_rejected", credential_id, step=step, why=str(exc)
        )
        raise PasskeyError(message, str(exc)) from exc
    new = verified.new_sign_count
    now = utcnow()
    async with db.begin() as conn:
        # atomic: two uses with the same counter cannot both pass
        result = await conn.execute(
            update(credentials)
            .where(
                credentials.c.id == credential_id,
                # an authenticator without a counter sends 0 every time: fine while both are 0
                credentials.c.sign_count == 0 if new == 0 else credentials.c.sign_count < new,
            )
            .values(sign_count=new, last_used_at=now)
        )
    if result.rowcount != 1:
        await audit.record(
            db,
            row.account_id,
            "passkey_clone_suspected",
            credential_id,
            step=step,
            stored=row.sign_count,
            sent=new,
        )
        raise PasskeyError(CLONED, "sign count did not increase")
    return Verified(row.account_id, credential_id, new)


async def authenticate(
    db: AsyncEngine,
    challenge_id: str | None,
    session: str,
    credential_json: str,
    rp: RelyingParty,
    *,
    purpose: str,
    account_id: str | None = None,
) -> Verified:
    """Passwordless login (``purpose="login"``, no account) or second factor ("second")."""
    expected = await take_challenge(
        db, challenge_id, purpose=purpose, session=session, account_id=account_id
    )
    credential = _parse_assertion(credential_json)
    return await _check_assertion(db, credential, expected, rp, account_id=account_id, step=purpose)


# -- content-bound confirmation (the Widerspruch) ------------------------------------------


async def confirmation_options(
    db: AsyncEngine, account_id: str, draft_id: str, digest: bytes, rp: RelyingParty
) -> str:
    """Options whose challenge is ``digest || nonce``: the signature covers the declaration.

    ``digest`` is the SHA-256 of the canonical declaration, computed by the caller from its
    stored draft. Only the account's own passkeys are allowed.
    """
    if len(digest) != 32:
        raise ValueError("digest must be a SHA-256 (32 bytes)")
    if not await has_passkey(db, account_id):
        raise PasskeyError(NO_PASSKEY, "no passkey")
    _challenge_id, options = await authentication_options(
        db,
        rp,
        session="",
        purpose="confirm",
        account_id=account_id,
        challenge=digest + secrets.token_bytes(NONCE_BYTES),
        binding=draft_id,
    )
    return options


async def verify_confirmation(
    db: AsyncEngine,
    account_id: str,
    draft_id: str,
    digest: bytes,
    credential_json: str,
    rp: RelyingParty,
) -> PasskeyProof:
    """Check a confirmation; the expected challenge is the digest recomputed now || nonce.

    The challenge the browser signed names the stored row (it is the row's challenge); that
    row is used up first, then it must have been issued to this account for this draft. A
    declaration changed since the options were made gives another digest: refused.
    """
    credential = _parse_assertion(credential_json)
    try:
        signed = parse_client_data_json(credential.response.client_data_json).challenge
    except Exception as exc:  # any unreadable client data is a refusal
        raise PasskeyError(FAILED, "unreadable client data") from exc
    async with db.begin() as conn:
        challenge_id = (
            await conn.execute(
                select(webauthn_challenges.c.id).where(
                    webauthn_challenges.c.challenge == signed,
                    webauthn_challenges.c.purpose == "confirm",
                )
            )
        ).scalar()
        row = await _consume(conn, challenge_id)
    if row.account_id != account_id or row.binding != draft_id:
        await audit.record(
            db, account_id, "passkey_rejected", draft_id, step="confirm", why="binding"
        )
        raise PasskeyError(EXPIRED, "challenge issued for another account or draft")
    stored = bytes(row.challenge)
    expected = digest + stored[-NONCE_BYTES:]
    verified = await _check_assertion(
        db, credential, expected, rp, account_id=account_id, step="confirm"
    )
    response = credential.response
    proof = PasskeyProof(
        credential_id=verified.credential_id,
        signature=bytes_to_base64url(response.signature),
        sign_count=verified.sign_count,
        authenticator_data=bytes_to_base64url(response.authenticator_data),
        client_data=bytes_to_base64url(response.client_data_json),
        at=utcnow().isoformat(),
    )
    await audit.record(
        db, account_id, "passkey_confirmed", draft_id, credential_id=verified.credential_id
    )
    return proof
