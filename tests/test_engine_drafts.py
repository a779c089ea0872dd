"""Drafts (versioned, owner-scoped) and submissions (immutable, idempotent)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest
from fixtures_flows import REPEAT_FLOW
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import drafts as draft_repo
from app.db import submissions as submission_repo
from app.db.tables import outbox, submissions
from app.flows import engine

OWNER = "owner-a"


async def _draft(db: AsyncEngine, owner: str = OWNER) -> draft_repo.Draft:
    answers: dict[str, Any] = {}
    engine.normalise(REPEAT_FLOW, answers)
    return await draft_repo.create(db, REPEAT_FLOW.id, owner, answers, 30)


async def test_versions_grow_by_one_per_save(db: AsyncEngine) -> None:
    draft = await _draft(db)
    assert draft.version == 1
    for expected in (2, 3, 4):
        draft.answers.setdefault("start", {})["name"] = f"v{expected}"
        draft = await draft_repo.save(db, draft, 30)
        assert draft.version == expected
    stored = await draft_repo.get(db, draft.id, OWNER)
    assert stored is not None
    assert stored.version == 4
    assert stored.answers["start"] == {"name": "v4"}
    assert stored.answers["kinder"] == draft.answers["kinder"]


async def test_stale_version_raises_version_conflict(db: AsyncEngine) -> None:
    draft = await _draft(db)
    tab_a = await draft_repo.get(db, draft.id, OWNER)
    tab_b = await draft_repo.get(db, draft.id, OWNER)
    assert tab_a is not None and tab_b is not None
    tab_a.answers["start"] = {"name": "A"}
    await draft_repo.save(db, tab_a, 30)
    tab_b.answers["start"] = {"name": "B"}
    with pytest.raises(draft_repo.VersionConflict):
        await draft_repo.save(db, tab_b, 30)
    stored = await draft_repo.get(db, draft.id, OWNER)
    assert stored is not None
    assert stored.answers["start"] == {"name": "A"} and stored.version == 2


async def test_concurrent_saves_of_one_version_one_wins(db: AsyncEngine) -> None:
    draft = await _draft(db)
    copies = [await draft_repo.get(db, draft.id, OWNER) for _ in range(2)]
    results = await asyncio.gather(
        *(draft_repo.save(db, c, 30) for c in copies if c), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Draft", "VersionConflict"]


async def test_submitted_draft_cannot_be_saved(db: AsyncEngine) -> None:
    draft = await _draft(db)
    await draft_repo.mark_submitted(db, draft.id)
    with pytest.raises(draft_repo.VersionConflict):
        await draft_repo.save(db, draft, 30)


async def test_drafts_belong_to_their_owner(db: AsyncEngine) -> None:
    draft = await _draft(db)
    assert await draft_repo.get(db, draft.id, "owner-b") is None
    assert await draft_repo.get(db, draft.id, None) is None
    assert await draft_repo.get(db, draft.id, "") is None
    assert await draft_repo.list_open(db, "owner-b") == []
    assert [d.id for d in await draft_repo.list_open(db, OWNER)] == [draft.id]
    assert await draft_repo.remove(db, draft.id, "owner-b") is False
    assert await draft_repo.get(db, draft.id, OWNER) is not None
    assert await draft_repo.remove(db, draft.id, OWNER) is True
    assert await draft_repo.get(db, draft.id, OWNER) is None


async def test_draft_ids_are_random_not_sequential(db: AsyncEngine) -> None:
    ids = [(await _draft(db)).id for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(len(i) >= 22 and not i.isdigit() for i in ids)
    assert len({i[:8] for i in ids}) == len(ids)  # not a counter with a common stem


async def test_expired_drafts_are_gone(db: AsyncEngine) -> None:
    answers: dict[str, Any] = {}
    expired = await draft_repo.create(db, REPEAT_FLOW.id, OWNER, answers, -1)
    kept = await _draft(db)
    assert await draft_repo.get(db, expired.id, OWNER) is None
    assert [d.id for d in await draft_repo.list_open(db, OWNER)] == [kept.id]
    assert await draft_repo.purge_expired(db) == 1


# -- submissions ----------------------------------------------------------------------------


async def _submit(
    db: AsyncEngine, draft_id: str, reference: str, document: dict[str, Any] | None = None
) -> tuple[Any, bool]:
    return await submission_repo.create(
        db,
        flow_id=REPEAT_FLOW.id,
        draft_id=draft_id,
        owner_key=OWNER,
        reference=reference,
        document=document or {"flow": "repeat", "answers": {"start": {"name": "Ä"}}},
        kundennummer="123D456789",
        lang="de",
        pdf=b"%PDF-1.7 test",
    )


async def _count(db: AsyncEngine, table: Any) -> int:
    async with db.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_two_submits_of_one_draft_make_one_submission(db: AsyncEngine) -> None:
    draft = await _draft(db)
    first, created = await _submit(db, draft.id, "T-2026-AAAA-AAAA")
    again, created_again = await _submit(db, draft.id, "T-2026-BBBB-BBBB")
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.reference == "T-2026-AAAA-AAAA"
    assert await _count(db, submissions) == 1
    assert await _count(db, outbox) == 1


async def test_concurrent_submits_make_one_submission(db: AsyncEngine) -> None:
    draft = await _draft(db)
    results = await asyncio.gather(
        *(_submit(db, draft.id, f"T-2026-{n:04d}-AAAA") for n in range(5))
    )
    assert sorted(created for _, created in results) == [False] * 4 + [True]
    assert len({s.id for s, _ in results}) == 1
    assert await _count(db, submissions) == 1
    assert await _count(db, outbox) == 1


async def test_canonical_json_and_hash(db: AsyncEngine) -> None:
    draft = await _draft(db)
    document = {"flow": "repeat", "answers": {"z": 1, "a": {"ö": "ß", "b": [3, 1]}}}
    submission, _ = await _submit(db, draft.id, "T-2026-CCCC-CCCC", document)
    assert submission.canonical_json == (
        '{"answers":{"a":{"b":[3,1],"ö":"ß"},"z":1},"flow":"repeat"}'
    )
    async with db.connect() as conn:
        row = (await conn.execute(select(submissions))).one()
    assert row.canonical_json == submission.canonical_json
    assert hashlib.sha256(row.canonical_json.encode()).hexdigest() == row.sha256
    assert json.loads(row.canonical_json) == document
    assert submission.document == document


async def test_submissions_belong_to_their_owner(db: AsyncEngine) -> None:
    draft = await _draft(db)
    submission, _ = await _submit(db, draft.id, "T-2026-DDDD-DDDD")
    assert await submission_repo.get(db, submission.id, "owner-b") is None
    assert await submission_repo.get(db, submission.id, None) is None
    assert await submission_repo.pdf(db, submission.id, "owner-b") is None
    assert await submission_repo.pdf(db, submission.id, OWNER) == b"%PDF-1.7 test"
    assert await submission_repo.list_for_owner(db, "owner-b") == []
    found = await submission_repo.for_index_key(db, REPEAT_FLOW.id, "123D456789")
    assert [s.id for s in found] == [submission.id]


def test_reference_numbers_are_readable() -> None:
    refs = {submission_repo.new_reference("VM", 2026) for _ in range(50)}
    assert len(refs) == 50
    for ref in refs:
        prefix, year, a, b = ref.split("-")
        assert (prefix, year, len(a), len(b)) == ("VM", "2026", 4, 4)
        assert not set(a + b) & set("ILOU")
