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

Index("ix_submissions_flow_created", submissions.c.flow_id, submissions.c.created_at)
UniqueConstraint(documents.c.storage_key)
