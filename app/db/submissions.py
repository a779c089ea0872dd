"""Submissions: immutable records. There is deliberately no update function here."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import outbox, submissions

# Crockford base32 without I, L, O, U: easy to read aloud on the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class Submission:
    id: str
    reference: str
    flow_id: str
    draft_id: str
    owner_key: str
    kundennummer: str | None
    canonical_json: str
    sha256: str
    lang: str
    created_at: datetime
    #: identity proofs bound to this submission (eID assertion, passkey signature) or None
    proofs: dict[str, Any] | None = None

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.canonical_json)


def canonical_json(document: Any) -> str:
    """Stable bytes for hashing: sorted keys, no insignificant white space, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_reference(prefix: str, year: int) -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{year}-{code[:4]}-{code[4:]}"


def _row(row: Any) -> Submission:
    return Submission(
        row.id,
        row.reference,
        row.flow_id,
        row.draft_id,
        row.owner_key,
        row.kundennummer,
        row.canonical_json,
        row.sha256,
        row.lang,
        row.created_at,
        row.proofs,
    )


_COLUMNS = [c for c in submissions.c if c.name != "pdf"]


async def by_draft(engine: AsyncEngine, draft_id: str) -> Submission | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(*_COLUMNS).where(submissions.c.draft_id == draft_id))
        ).first()
    return _row(row) if row else None


async def create(
    engine: AsyncEngine,
    *,
    flow_id: str,
    draft_id: str,
    owner_key: str,
    reference: str,
    document: dict[str, Any],
    kundennummer: str | None,
    lang: str,
    pdf: bytes,
    proofs: dict[str, Any] | None = None,
) -> tuple[Submission, bool]:
    """Insert once per draft. Returns (submission, created); a repeat returns the first one."""
    body = canonical_json(document)
    digest = hashlib.sha256(body.encode()).hexdigest()
    submission_id = secrets.token_urlsafe(16)
    now = utcnow()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(submissions).values(
                    id=submission_id,
                    reference=reference,
                    flow_id=flow_id,
                    draft_id=draft_id,
                    owner_key=owner_key,
                    kundennummer=kundennummer,
                    canonical_json=body,
                    sha256=digest,
                    lang=lang,
                    pdf=pdf,
                    created_at=now,
                    proofs=proofs,
                )
            )
            await conn.execute(
                insert(outbox).values(
                    submission_id=submission_id,
                    channel="e-akte",
                    payload={"reference": reference, "flow": flow_id, "sha256": digest},
                    created_at=now,
                    attempts=0,
                )
            )
    except IntegrityError:
        existing = await by_draft(engine, draft_id)
        if existing is None:
            raise
        return existing, False
    return Submission(
        submission_id,
        reference,
        flow_id,
        draft_id,
        owner_key,
        kundennummer,
        body,
        digest,
        lang,
        now,
        proofs,
    ), True


async def get(engine: AsyncEngine, submission_id: str, owner_key: str | None) -> Submission | None:
    if not owner_key:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(*_COLUMNS).where(
                    submissions.c.id == submission_id, submissions.c.owner_key == owner_key
                )
            )
        ).first()
    return _row(row) if row else None


async def pdf(engine: AsyncEngine, submission_id: str, owner_key: str | None) -> bytes | None:
    if not owner_key:
        return None
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(submissions.c.pdf).where(
                    submissions.c.id == submission_id, submissions.c.owner_key == owner_key
                )
            )
        ).scalar()


async def list_for_owner(engine: AsyncEngine, owner_key: str | None) -> list[Submission]:
    if not owner_key:
        return []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(*_COLUMNS)
                .where(submissions.c.owner_key == owner_key)
                .order_by(submissions.c.created_at.desc())
            )
        ).all()
    return [_row(r) for r in rows]


async def for_index_key(engine: AsyncEngine, flow_id: str, key: str) -> list[Submission]:
    """Earlier submissions of one customer for one service (e.g. absences this year)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(*_COLUMNS).where(
                    submissions.c.flow_id == flow_id, submissions.c.kundennummer == key
                )
            )
        ).all()
    return [_row(r) for r in rows]
