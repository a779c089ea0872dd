"""The schema, as SQLAlchemy Core tables. Portable SQL only (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _ts(name: str, nullable: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    _ts("applied_at"),
)

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the cookie value: a database leak does not hand out live sessions
    Column("id_hash", String(64), primary_key=True),
    Column("data", JSON, nullable=False),
    _ts("created_at"),
    _ts("last_seen_at"),
    _ts("expires_at"),
    # the logged-in account, so "log out everywhere" can end every session of it
    Column("account_id", String(32), nullable=True, index=True),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("flow_id", String(64), nullable=False),
    Column("owner_key", String(64), nullable=False, index=True),
    Column("answers", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # open | submitted
    _ts("created_at"),
    _ts("updated_at"),
    _ts("expires_at"),
    CheckConstraint("version >= 1", name="ck_drafts_version"),
    CheckConstraint("status IN ('open', 'submitted')", name="ck_drafts_status"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_key", String(64), nullable=False, index=True),
    Column("draft_id", String(32), ForeignKey("drafts.id", ondelete="SET NULL"), nullable=True),
    Column("storage_key", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    _ts("created_at"),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("flow_id", String(64), nullable=False),
    # one draft makes at most one submission: the idempotency guarantee lives in the schema
    Column("draft_id", String(32), nullable=False, unique=True),
    Column("owner_key", String(64), nullable=False, index=True),
    Column("kundennummer", String(16), nullable=True, index=True),
    Column("canonical_json", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("pdf", LargeBinary, nullable=True),
    _ts("created_at"),
    # identity proofs bound to this submission (Widerspruch: eID + passkey), immutable
    Column("proofs", JSON, nullable=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(32), ForeignKey("submissions.id"), nullable=False),
    Column("channel", String(32), nullable=False),  # e-akte | team-mailbox | citizen-mail
    Column("payload", JSON, nullable=False),
    _ts("created_at"),
    _ts("delivered_at", nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("page", String(300), nullable=True),
    Column("message", Text, nullable=False),
    Column("email", String(254), nullable=True),
    Column("wants_answer", Boolean, nullable=False, default=False),
    Column("lang", String(8), nullable=False),
    _ts("created_at"),
    _ts("answered_at", nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _ts("at"),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_id", String(64), nullable=True),
    Column("details", JSON, nullable=False),
)

# -- identity (SECURITY.md) ------------------------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),  # random, never sequential
    Column("email", String(254), nullable=False, unique=True),  # lower-cased
    Column("password_hash", String(200), nullable=True),  # argon2id; None = passkey only
    _ts("email_confirmed_at", nullable=True),
    # the lasting level: basis (e-mail confirmed) or pin_brief (Kundennummer linked).
    # eID levels live in the session: an objection needs a fresh proof anyway.
    Column("level", String(20), nullable=False, default="basis"),
    # owner key of drafts, documents and submissions (the session takes it at login)
    Column("owner_key", String(64), nullable=False, unique=True),
    Column("kundennummer", String(16), nullable=True, unique=True),
    Column("eid_pseudonym", String(200), nullable=True, unique=True),  # bPK2, linked on first use
    Column("totp_secret", String(64), nullable=True),
    # the last TOTP time step accepted: a code counts once, in any session
    Column("totp_last_step", BigInteger, nullable=True),
    Column("profile", JSON, nullable=False),  # names, birth date, address, phone (Stammdaten)
    Column("demo", Boolean, nullable=False, default=False),
    _ts("created_at"),
    CheckConstraint(
        "level IN ('basis', 'pin_brief', 'eid_substanziell', 'eid_hoch')", name="ck_accounts_level"
    ),
)

#: one-time tokens sent by e-mail (confirm address, reset password); only the hash is kept
email_tokens = Table(
    "email_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),  # confirm | reset
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
)

#: rate limits: one row per attempt, counted in a sliding window
rate_events = Table(
    "rate_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", String(32), nullable=False),  # login | register | reset | pin | totp …
    Column("key", String(128), nullable=False),  # hashed e-mail, IP, account id
    _ts("at"),
    Index("ix_rate_events_bucket_key_at", "bucket", "key", "at"),
)

#: passkeys (WebAuthn credentials)
credentials = Table(
    "credentials",
    metadata,
    Column("id", String(400), primary_key=True),  # credential id, base64url
    Column("account_id", String(32), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("transports", JSON, nullable=False),
    Column("aaguid", String(40), nullable=True),
    _ts("created_at"),
    _ts("last_used_at", nullable=True),
)
Index("ix_credentials_account", credentials.c.account_id)

#: WebAuthn challenges: server-side, expiring, single use (UPDATE … WHERE used_at IS NULL)
webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=True),  # None for passwordless login
    Column("session_hash", String(64), nullable=True),  # which browser session asked
    Column("purpose", String(16), nullable=False),  # register | login | second | confirm
    Column("challenge", LargeBinary, nullable=False),
    Column("binding", String(64), nullable=True),  # confirm: the object it is bound to (draft id)
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
)

#: SAML AuthnRequests we sent: InResponseTo must name one of these, once
saml_requests = Table(
    "saml_requests",
    metadata,
    Column("id", String(64), primary_key=True),  # the AuthnRequest ID
    Column("account_id", String(32), nullable=True),
    Column("session_hash", String(64), nullable=True),
    Column("purpose", String(32), nullable=False),  # level | widerspruch
    Column("level", String(20), nullable=False),  # level asked for
    Column("binding", String(64), nullable=True),  # e.g. the pending declaration's hash
    Column("return_to", String(300), nullable=False),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
)

#: eID results accepted: each assertion id once (replay protection) and what it proved
eid_proofs = Table(
    "eid_proofs",
    metadata,
    Column("assertion_id", String(128), primary_key=True),
    Column("request_id", String(64), ForeignKey("saml_requests.id"), nullable=False, unique=True),
    Column("account_id", String(32), nullable=True),
    Column("issuer", String(300), nullable=False),
    Column("level", String(20), nullable=False),  # eid_substanziell | eid_hoch
    Column("method", String(64), nullable=False),  # login method attribute (eID)
    Column("pseudonym_hash", String(64), nullable=False),
    Column("binding", String(64), nullable=True),
    Column("attributes", JSON, nullable=False),
    _ts("created_at"),
    # set by /eid/fertig once the session and the person check passed (app/identity/saml.py)
    _ts("confirmed_at", nullable=True),
)

#: Jobcenter data the app may show: customers (Kundennummer), household, office
customers = Table(
    "customers",
    metadata,
    Column("kundennummer", String(16), primary_key=True),
    Column("bg_nummer", String(20), nullable=True),
    Column("office", String(100), nullable=False),  # Jobcenter name
    Column("land", String(2), nullable=False),  # Bundesland code for holidays (NW, BY …)
    Column("person", JSON, nullable=False),  # vorname, nachname, geburtsdatum, address
    Column("household", JSON, nullable=False),  # list of {vorname, nachname, geburtsdatum, …}
    Column("demo", Boolean, nullable=False, default=False),
)

#: Bescheide (decisions) of a customer, as the Jobcenter sent them
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "kundennummer",
        String(16),
        ForeignKey("customers.kundennummer", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("title", String(200), nullable=False),
    Column("leistungsart", String(32), nullable=False),
    Column("decided_on", String(10), nullable=False),  # ISO date of the Bescheid
    Column("posted_on", String(10), nullable=False),  # ISO date it was posted
    Column("reference", String(40), nullable=False),  # Aktenzeichen / BG number
    Column("appeal_notice_ok", Boolean, nullable=False, default=True),  # Rechtsbehelfsbelehrung
    Column("pdf", LargeBinary, nullable=True),
    _ts("created_at"),
)

#: PIN letters: a one-time code posted to the customer's address (level pin_brief)
pin_letters = Table(
    "pin_letters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "kundennummer",
        String(16),
        ForeignKey("customers.kundennummer", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("code_hash", String(200), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    Column("used_by", String(32), nullable=True),
)

Index("ix_submissions_flow_created", submissions.c.flow_id, submissions.c.created_at)
UniqueConstraint(documents.c.storage_key)
