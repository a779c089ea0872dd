"""eID over SAML 2.0: our service-provider side (pysaml2 + xmlsec1), docs/decisions/0008.

One code path for the local test identity provider and a real BundID-style provider: the
only difference is where the IdP metadata comes from (``settings.eid_idp_metadata`` or the
in-process test IdP). What we check on every response (SECURITY.md, negative test 3):

- the assertion is signed with a key from the IdP's metadata (pysaml2 + xmlsec1, never a
  certificate carried in the message), with SHA-256 or better;
- InResponseTo names a pending ``saml_requests`` row (not used, not expired);
- the Audience is our entity id, NotBefore/NotOnOrAfter hold, the issuer is the configured IdP;
- each assertion id is accepted once (primary key of ``eid_proofs``);
- trust level ``STORK-QAA-Level-4`` (hoch) or ``-3`` (substanziell), at least the level asked
  for, AND login method ``eID`` (an ELSTER certificate or a user name is not an ID card).

The ACS runs without our session cookie (the IdP posts cross-site, SameSite=Lax), so it only
stores the proof. ``finish`` runs on the top-level GET that follows, with the cookie: it binds
the proof to the session and the account holder and raises the level.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree
from quart import Response, current_app, g, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.attribute_converter import AttributeConverter
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import (
    IncorrectlySigned,
    StatusAuthnFailed,
    StatusError,
    StatusRequestDenied,
    UnsolicitedResponse,
)
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import DIGEST_SHA256
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import accounts, eid_proofs, saml_requests
from app.identity import account_id, raise_level, rank
from app.settings import Settings
from app.web.render import see_other

log = logging.getLogger(__name__)

# -- BundID attributes (SECURITY.md), NameFormat uri -------------------------------------
OID_PSEUDONYM = "urn:oid:1.3.6.1.4.1.25484.494450.3"  # bPK2
OID_TRUST_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"
OID_LOGIN_METHOD = "urn:oid:1.3.6.1.4.1.25484.494450.2"
OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_SURNAME = "urn:oid:2.5.4.4"
OID_BIRTH_DATE = "urn:oid:1.2.40.0.10.2.1.1.55"
OID_STREET = "urn:oid:2.5.4.16"
OID_POSTCODE = "urn:oid:2.5.4.17"
OID_LOCALITY = "urn:oid:2.5.4.7"
#: OID → the local name pysaml2 hands us (and the test IdP fills in)
ATTRIBUTES = {
    OID_PSEUDONYM: "bpk2",
    OID_TRUST_LEVEL: "trust_level",
    OID_LOGIN_METHOD: "login_method",
    OID_GIVEN_NAME: "given_name",
    OID_SURNAME: "surname",
    OID_BIRTH_DATE: "birth_date",
    OID_STREET: "street",
    OID_POSTCODE: "postcode",
    OID_LOCALITY: "locality",
}
#: what we keep of the person (the proof's ``attributes``); the pseudonym only as a hash
PERSON_ATTRIBUTES = ("given_name", "surname", "birth_date", "street", "postcode", "locality")

#: trust level attribute values → our levels (eIDAS: substanziell = 3, hoch = 4)
QAA = {"STORK-QAA-Level-3": "eid_substanziell", "STORK-QAA-Level-4": "eid_hoch"}
QAA_FOR_LEVEL = {level: qaa for qaa, level in QAA.items()}
#: the login method value of the online ID function (ID card, eID card, eAT); BundID also
#: knows e.g. ELSTER certificates and user name + password, which never count here
METHOD_EID = "eID"

PURPOSES = ("level", "widerspruch")
REQUEST_TTL = dt.timedelta(minutes=10)
#: clock skew we accept between the IdP and us (NotBefore / NotOnOrAfter)
CLOCK_SKEW_SECONDS = 30
ALLOWED_SIGNATURES = {SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512}
MAX_RESPONSE_CHARS = 200_000
#: entity ids of the local test IdP end like this; refused in production mode
TEST_IDP_METADATA_PATH = "/test-idp/metadata"
XMLSEC_BINARY = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
CANCEL_STATUS = (StatusAuthnFailed, StatusRequestDenied)


class EidConfigError(RuntimeError):
    """The eID configuration cannot be used (e.g. the test IdP in production mode)."""


class EidRejected(Exception):
    """The eID result is not accepted. ``reason`` is one of REASONS (app/eid.py texts)."""

    def __init__(self, reason: str, request_row: PendingRequest | None = None, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.request = request_row
        self.detail = detail


class EidCancelled(Exception):
    """The IdP answered with a status other than Success (the person cancelled)."""

    def __init__(self, request_row: PendingRequest | None):
        super().__init__("cancelled")
        self.request = request_row


@dataclass(frozen=True)
class PendingRequest:
    id: str
    account_id: str | None
    session_hash: str | None
    purpose: str
    level: str
    binding: str | None
    return_to: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True)
class EidProof:
    """An accepted eID result whose person check passed (``proof_for``)."""

    assertion_id: str
    request_id: str
    account_id: str
    issuer: str
    level: str
    method: str
    binding: str | None
    created_at: dt.datetime
    confirmed_at: dt.datetime


@dataclass(frozen=True)
class SpSetup:
    """pysaml2's SP configuration for one origin (building it is slow: cached)."""

    config: SPConfig
    entity_id: str
    acs_url: str
    idp_entity_id: str


# -- keys and configuration ---------------------------------------------------------------


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def ensure_keypair(directory: Path, stem: str, common_name: str) -> tuple[Path, Path]:
    """``<stem>-key.pem`` and ``<stem>-cert.pem`` in ``directory``: RSA 2048, self-signed,
    made once. A file lock keeps several workers from making two different pairs."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{stem}-key.pem", directory / f"{stem}-cert.pem"
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_path.exists() and cert_path.exists():
            return key_path, cert_path
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def sp_keypair(settings: Settings) -> tuple[Path, Path]:
    """The configured SP key and certificate, else a pair made once under the data dir."""
    if settings.eid_sp_key or settings.eid_sp_cert:
        if not (settings.eid_sp_key and settings.eid_sp_cert):
            raise EidConfigError("JCD_EID_SP_KEY and JCD_EID_SP_CERT go together")
        return Path(settings.eid_sp_key), Path(settings.eid_sp_cert)
    return ensure_keypair(settings.data_dir / "eid", "sp", "jobcenter.digital eID SP")


def attribute_converters() -> list[AttributeConverter]:
    """Only the BundID attributes are read (NameFormat uri); anything else is dropped."""
    converter = AttributeConverter(NAME_FORMAT_URI)
    converter.from_dict({"identifier": NAME_FORMAT_URI, "fro": dict(ATTRIBUTES)})
    return [converter]


def crypto_settings() -> dict[str, Any]:
    """Shared by SP and test IdP: xmlsec1, SHA-256, keys only from metadata."""
    return {
        "xmlsec_binary": XMLSEC_BINARY,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "only_use_keys_in_metadata": True,
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
    }


def current_origin() -> str:
    configured = current_app.config["SETTINGS"].public_origin
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.host}"


def sp_entity_id(origin: str) -> str:
    return f"{origin}/eid/saml/metadata"


def is_test_idp(entity_id: str) -> bool:
    return urlsplit(entity_id).path.rstrip("/").endswith(TEST_IDP_METADATA_PATH)


def idp_entity_ids(metadata_xml: str | bytes) -> list[str]:
    """The entityID of every EntityDescriptor in a metadata document."""
    root = ElementTree.fromstring(metadata_xml)
    tag = "{urn:oasis:names:tc:SAML:2.0:metadata}EntityDescriptor"
    found = [root] if root.tag == tag else list(root.iter(tag))
    return [e.get("entityID", "") for e in found]


def check_settings(settings: Settings) -> None:
    """At start: in production the IdP metadata must not name the local test IdP."""
    if not settings.production or not settings.eid_idp_metadata:
        return
    ids = idp_entity_ids(Path(settings.eid_idp_metadata).read_bytes())
    if not ids or any(is_test_idp(e) for e in ids):
        raise EidConfigError("production mode refuses the test identity provider")


def _sp_config(settings: Settings, origin: str, idp_metadata: str | None) -> SPConfig:
    key, cert = sp_keypair(settings)
    entity = sp_entity_id(origin)
    sp_service: dict[str, Any] = {
        "endpoints": {
            "assertion_consumer_service": [(f"{origin}/eid/saml/acs", BINDING_HTTP_POST)]
        },
        "authn_requests_signed": True,
        "want_assertions_signed": True,
        # the assertion carries the signature we rely on; a signed envelope is checked too
        "want_response_signed": False,
        "allow_unsolicited": False,
        "name_id_format": NAMEID_FORMAT_TRANSIENT,
        **crypto_settings(),
    }
    conf: dict[str, Any] = {
        "entityid": entity,
        "name": "jobcenter.digital",
        "key_file": str(key),
        "cert_file": str(cert),
        "service": {"sp": sp_service},
        **crypto_settings(),
    }
    if idp_metadata is not None:
        conf["metadata"] = {"inline": [idp_metadata]}
    config = SPConfig()
    config.load(conf)
    config.setattr("", "attribute_converters", attribute_converters())
    return config


#: without JCD_PUBLIC_ORIGIN the origin comes from the Host header: keep only a few
MAX_CACHED = 16


def _cache() -> dict[Any, Any]:
    cache = current_app.extensions.setdefault("eid", {})
    if len(cache) > MAX_CACHED:
        cache.clear()
    return cache


async def sp_metadata(origin: str | None = None) -> str:
    """Our signed SP metadata (entity id, ACS, signing certificate)."""
    origin = origin or current_origin()
    cache = _cache()
    key = ("metadata", origin)
    if key not in cache:
        settings = current_app.config["SETTINGS"]

        def build() -> str:
            config = _sp_config(settings, origin, None)
            return str(create_metadata_string(None, config=config, sign=True))

        cache[key] = await asyncio.to_thread(build)
    return cache[key]


async def _idp_metadata(settings: Settings, origin: str) -> str:
    if settings.eid_idp_metadata:
        return await asyncio.to_thread(Path(settings.eid_idp_metadata).read_text, "utf-8")
    if settings.production:
        raise EidConfigError("production mode needs JCD_EID_IDP_METADATA")
    from app.identity import testidp

    return await testidp.metadata(origin)


async def setup(origin: str | None = None) -> SpSetup:
    """The SP configuration with the IdP's metadata, cached per origin."""
    origin = origin or current_origin()
    cache = _cache()
    key = ("sp", origin)
    if key not in cache:
        settings = current_app.config["SETTINGS"]
        idp_xml = await _idp_metadata(settings, origin)
        ids = idp_entity_ids(idp_xml)
        if len(ids) != 1:
            raise EidConfigError("the IdP metadata must describe exactly one identity provider")
        if settings.production and is_test_idp(ids[0]):
            raise EidConfigError("production mode refuses the test identity provider")
        config = await asyncio.to_thread(_sp_config, settings, origin, idp_xml)
        cache[key] = SpSetup(
            config=config,
            entity_id=sp_entity_id(origin),
            acs_url=f"{origin}/eid/saml/acs",
            idp_entity_id=ids[0],
        )
    return cache[key]


# -- the request ---------------------------------------------------------------------------


def session_hash(token: str | None) -> str | None:
    """Which browser session started a request (never the session id itself)."""
    return hashlib.sha256(b"saml-request:" + token.encode()).hexdigest() if token else None


def pseudonym_hash(pseudonym: str) -> str:
    return hashlib.sha256(pseudonym.encode()).hexdigest()


def _authn_request_url(sp: SpSetup, request_id: str, level: str, relay_state: str) -> str:
    client = Saml2Client(config=sp.config)
    _, info = client.prepare_for_authenticate(
        entityid=sp.idp_entity_id,
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        message_id=request_id,
        force_authn="true",  # a fresh eID proof, never a single-sign-on session
        requested_authn_context=RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=QAA_FOR_LEVEL[level])],
            comparison="minimum",
        ),
    )
    return dict(info["headers"])["Location"]


async def begin(purpose: str, level: str, return_to: str, binding: str | None = None) -> Response:
    """Send the logged-in user to the IdP with a signed AuthnRequest (HTTP-Redirect).

    ``return_to`` is a local path (anything else becomes /konto); ``binding`` ties the proof
    to one object (the Widerspruch: the declaration hash), see ``proof_for``.
    """
    from app.start import same_site_path

    if purpose not in PURPOSES or level not in QAA_FOR_LEVEL:
        raise ValueError(f"unknown purpose or level: {purpose}, {level}")
    who, token = account_id(), g.session.token
    target = same_site_path(return_to) or "/konto"
    if not who or not token:
        return see_other(f"/anmelden?weiter={quote(target, safe='/')}")
    sp = await setup()
    request_id = "_" + secrets.token_hex(20)  # an NCName, unguessable
    relay_state = f"{request_id}~{g.get('lang', 'de')}"
    location = await asyncio.to_thread(_authn_request_url, sp, request_id, level, relay_state)
    now = utcnow()
    db = current_app.config["DB"]
    async with db.begin() as conn:
        await conn.execute(
            insert(saml_requests).values(
                id=request_id,
                account_id=who,
                session_hash=session_hash(token),
                purpose=purpose,
                level=level,
                binding=binding,
                return_to=target,
                created_at=now,
                expires_at=now + REQUEST_TTL,
                used_at=None,
            )
        )
    await audit.record(db, who, "eid_start", request_id, purpose=purpose, level=level)
    response = see_other(location)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the response (ACS) --------------------------------------------------------------------


async def _request_row(db: AsyncEngine, request_id: str | None) -> PendingRequest | None:
    if not request_id or len(request_id) > 64:
        return None
    async with db.connect() as conn:
        row = (
            await conn.execute(select(saml_requests).where(saml_requests.c.id == request_id))
        ).first()
    if row is None:
        return None
    values = {c.name: getattr(row, c.name) for c in saml_requests.c}
    for name in ("created_at", "expires_at", "used_at"):
        if values[name] is not None:
            values[name] = _aware(values[name])
    return PendingRequest(**values)


def _single(ava: dict[str, list[Any]], name: str) -> str | None:
    values = ava.get(name) or []
    if len(values) != 1 or not isinstance(values[0], str) or not values[0].strip():
        return None
    return values[0].strip()


@dataclass(frozen=True)
class _Facts:
    assertion_id: str
    issuer: str
    level: str
    method: str
    pseudonym_hash: str
    attributes: dict[str, str]


def _parse(sp: SpSetup, saml_response: str, row: PendingRequest) -> _Facts:
    """pysaml2 verifies; then the checks it leaves to us. Raises EidRejected/EidCancelled."""
    client = Saml2Client(config=sp.config)
    try:
        parsed = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={row.id: row.return_to}
        )
    except CANCEL_STATUS as exc:
        raise EidCancelled(row) from exc
    except StatusError as exc:
        raise EidRejected("idp_error", row, str(exc)) from exc
    except (ResponseLifetimeExceed, ToEarly) as exc:
        raise EidRejected("expired", row, str(exc)) from exc
    except (SigverError, IncorrectlySigned) as exc:
        raise EidRejected("signature", row, type(exc).__name__) from exc
    except UnsolicitedResponse as exc:
        raise EidRejected("unknown_request", row, str(exc)) from exc
    except Exception as exc:  # pysaml2 raises bare Exceptions for some checks
        reason = "audience" if "AudienceRestriction" in str(exc) else "invalid"
        raise EidRejected(reason, row, f"{type(exc).__name__}: {exc}") from exc
    if parsed is None or parsed.assertion is None or len(parsed.assertions) != 1:
        # pysaml2 returns without an assertion when e.g. Destination or IssueInstant is off
        raise EidRejected("invalid", row, "no verified assertion")
    assertion = parsed.assertion
    issuers = {parsed.issuer(), (assertion.issuer.text or "").strip() if assertion.issuer else ""}
    if issuers != {sp.idp_entity_id}:
        raise EidRejected("issuer", row, ", ".join(sorted(issuers)))
    signature = assertion.signature
    if signature is None:
        raise EidRejected("signature", row, "assertion not signed")
    if signature.signed_info.signature_method.algorithm not in ALLOWED_SIGNATURES:
        raise EidRejected("signature", row, "weak signature algorithm")
    conditions = assertion.conditions
    audiences = {
        (a.text or "").strip()
        for restriction in (conditions.audience_restriction if conditions else [])
        for a in restriction.audience
    }
    if conditions is None or sp.entity_id not in audiences:
        raise EidRejected("audience", row, ", ".join(sorted(audiences)))
    if not conditions.not_on_or_after:
        raise EidRejected("invalid", row, "no NotOnOrAfter")
    if parsed.in_response_to != row.id:
        raise EidRejected("unknown_request", row, "InResponseTo")
    ava = parsed.ava or {}
    trust, method, pseudonym = (_single(ava, n) for n in ("trust_level", "login_method", "bpk2"))
    if not trust or not method or not pseudonym:
        raise EidRejected("invalid", row, "trust level, login method or pseudonym missing")
    level = QAA.get(trust)
    if level is None or rank(level) < rank(row.level):
        raise EidRejected("level", row, trust)
    if method != METHOD_EID:
        raise EidRejected("method", row, method[:64])
    return _Facts(
        assertion_id=assertion.id,
        issuer=sp.idp_entity_id,
        level=level,
        method=method,
        pseudonym_hash=pseudonym_hash(pseudonym),
        attributes={n: v for n in PERSON_ATTRIBUTES if (v := _single(ava, n))},
    )


def _in_response_to(saml_response: str) -> str | None:
    """The request id named by the (not yet verified) response, to find the pending row."""
    try:
        xml = base64.b64decode(saml_response, validate=False)
        envelope = samlp.response_from_string(xml)
    except (binascii.Error, ValueError, SyntaxError, TypeError):
        return None
    except Exception:  # defusedxml refuses entities and the like
        return None
    return envelope.in_response_to if envelope is not None else None


async def accept(saml_response: str) -> PendingRequest:
    """Verify an IdP response and store the proof; the pending request is used up.

    Raises EidCancelled (status not Success) or EidRejected (nothing stored or changed).
    """
    if not saml_response or len(saml_response) > MAX_RESPONSE_CHARS:
        raise EidRejected("invalid", None, "no or oversized SAMLResponse")
    db = current_app.config["DB"]
    row = await _request_row(db, _in_response_to(saml_response))
    if row is None:
        raise EidRejected("unknown_request", None, "InResponseTo names no request of ours")
    now = utcnow()
    if row.used_at is not None:
        raise EidRejected("replay", row, "request already answered")
    if row.expires_at <= now:
        raise EidRejected("expired", row, "request expired")
    sp = await setup()
    facts = await asyncio.to_thread(_parse, sp, saml_response, row)
    try:
        async with db.begin() as conn:
            used = await conn.execute(
                update(saml_requests)
                .where(
                    and_(
                        saml_requests.c.id == row.id,
                        saml_requests.c.used_at.is_(None),
                        saml_requests.c.expires_at > now,
                    )
                )
                .values(used_at=now)
            )
            if used.rowcount != 1:
                raise EidRejected("replay", row, "request used meanwhile")
            await conn.execute(
                insert(eid_proofs).values(
                    assertion_id=facts.assertion_id,
                    request_id=row.id,
                    account_id=row.account_id,
                    issuer=facts.issuer,
                    level=facts.level,
                    method=facts.method,
                    pseudonym_hash=facts.pseudonym_hash,
                    binding=row.binding,
                    attributes=facts.attributes,
                    created_at=now,
                    confirmed_at=None,
                )
            )
    except IntegrityError as exc:  # the assertion id was accepted before: a replay
        raise EidRejected("replay", row, "assertion id seen before") from exc
    await audit.record(
        db,
        row.account_id or "-",
        "eid_accepted",
        row.id,
        assertion_id=facts.assertion_id,
        level=facts.level,
        issuer=facts.issuer,
    )
    return row


# -- binding to the session and the person (GET /eid/fertig/<id>) --------------------------


def _norm(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value or "")).casefold().split())


def _iso_date(value: Any) -> str:
    """Birth dates come as 1964-08-12 or 19640812; anything else stays as it is."""
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text[:10]


def same_person(profile: dict[str, Any], person: dict[str, str]) -> bool:
    """Names and birth date of the eID person against the account's profile.

    A profile without them proves nothing either way (the pseudonym is linked then). The
    first name of the profile may be one of several given names on the ID card.
    """
    wanted = {k: profile.get(k) for k in ("vorname", "nachname", "geburtsdatum")}
    if not all(wanted.values()):
        return True
    given = _norm(person.get("given_name"))
    return (
        bool(given)
        and (_norm(wanted["vorname"]) == given or _norm(wanted["vorname"]) in given.split())
        and _norm(wanted["nachname"]) == _norm(person.get("surname"))
        and _iso_date(wanted["geburtsdatum"]) == _iso_date(person.get("birth_date"))
    )


@dataclass(frozen=True)
class Finished:
    return_to: str
    purpose: str
    level: str


async def _proof_row(db: AsyncEngine, request_id: str) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(select(eid_proofs).where(eid_proofs.c.request_id == request_id))
        ).first()


async def finish(request_id: str) -> Finished | None:
    """Bind an accepted proof to this session and account holder, then raise the level.

    None when there is no such request or proof (404). Raises EidRejected("session"|"person").
    A second visit after success changes nothing and only says where to go.
    """
    db = current_app.config["DB"]
    row = await _request_row(db, request_id)
    proof = await _proof_row(db, request_id) if row else None
    if row is None or proof is None:
        return None
    who = account_id()
    if not who or who != row.account_id or who != proof.account_id:
        await audit.record(db, who or "-", "eid_rejected", request_id, reason="session")
        raise EidRejected("session", row)
    if proof.confirmed_at is not None:  # a second visit (the session id has changed since)
        return Finished(row.return_to, row.purpose, proof.level)
    if _aware(proof.created_at) + REQUEST_TTL <= utcnow():
        await audit.record(db, who, "eid_rejected", request_id, reason="expired")
        raise EidRejected("expired", row)
    if session_hash(g.session.token) != row.session_hash:
        await audit.record(db, who, "eid_rejected", request_id, reason="session")
        raise EidRejected("session", row)
    account = await account_repo.get(db, who)
    if account is None:
        raise EidRejected("session", row)
    await _bind_person(db, account, proof, row)
    now = utcnow()
    async with db.begin() as conn:
        confirmed = await conn.execute(
            update(eid_proofs)
            .where(
                and_(
                    eid_proofs.c.assertion_id == proof.assertion_id,
                    eid_proofs.c.confirmed_at.is_(None),
                )
            )
            .values(confirmed_at=now)
        )
    if confirmed.rowcount != 1:  # a parallel visit did it
        return Finished(row.return_to, row.purpose, proof.level)
    details = {"via": "eid", "request_id": row.id, "assertion_id": proof.assertion_id}
    if row.purpose == "level":
        await raise_level(proof.level, details)
    else:
        await audit.record(db, who, "eid_proof", row.id, purpose=row.purpose, level=proof.level)
    return Finished(row.return_to, row.purpose, proof.level)


async def _bind_person(
    db: AsyncEngine, account: account_repo.Account, proof: Any, row: PendingRequest
) -> None:
    """The eID person must be the account holder: same pseudonym once linked, else the
    same names and birth date; a pseudonym linked to another account is another person."""

    async def wrong(why: str) -> None:
        await audit.record(db, account.id, "eid_rejected", row.id, reason="person", why=why)
        raise EidRejected("person", row, why)

    if account.eid_pseudonym:
        if account.eid_pseudonym != proof.pseudonym_hash:
            await wrong("pseudonym differs from the linked one")
        return
    if not same_person(account.profile or {}, proof.attributes or {}):
        await wrong("names or birth date differ from the profile")
    try:
        async with db.begin() as conn:
            linked = await conn.execute(
                update(accounts)
                .where(and_(accounts.c.id == account.id, accounts.c.eid_pseudonym.is_(None)))
                .values(eid_pseudonym=proof.pseudonym_hash)
            )
    except IntegrityError:
        await wrong("pseudonym linked to another account")
        return
    if linked.rowcount != 1:  # linked meanwhile: compare with what is there now
        fresh = await account_repo.get(db, account.id)
        if fresh is None or fresh.eid_pseudonym != proof.pseudonym_hash:
            await wrong("pseudonym differs from the linked one")
        return
    await audit.record(db, account.id, "eid_linked", row.id)


async def proof_for(db: AsyncEngine, account_id: str, binding: str) -> EidProof | None:
    """The newest accepted eID proof for ``binding`` (e.g. a declaration hash) of this
    account whose person check passed, or None."""
    async with db.connect() as conn:
        row = (
            await conn.execute(
                select(eid_proofs)
                .where(
                    and_(
                        eid_proofs.c.account_id == account_id,
                        eid_proofs.c.binding == binding,
                        eid_proofs.c.confirmed_at.is_not(None),
                    )
                )
                .order_by(eid_proofs.c.created_at.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    return EidProof(
        assertion_id=row.assertion_id,
        request_id=row.request_id,
        account_id=row.account_id,
        issuer=row.issuer,
        level=row.level,
        method=row.method,
        binding=row.binding,
        created_at=_aware(row.created_at),
        confirmed_at=_aware(row.confirmed_at),
    )


async def record_rejection(reason: str, row: PendingRequest | None, detail: str = "") -> None:
    """Audit a refused eID result (who, which request, why)."""
    log.info("eID result refused: %s (%s) %s", reason, row.id if row else "-", detail[:300])
    await audit.record(
        current_app.config["DB"],
        (row.account_id if row else None) or "-",
        "eid_rejected",
        row.id if row else None,
        reason=reason,
        detail=detail[:300],
    )


async def purge(engine: AsyncEngine) -> int:
    """Delete requests that expired unanswered (``python -m app purge``); answered ones stay
    with their proof, which a submission may name."""
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(saml_requests).where(
                saml_requests.c.expires_at < utcnow(), saml_requests.c.used_at.is_(None)
            )
        )
    return result.rowcount or 0
