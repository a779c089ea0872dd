"""The media index (sign-language and explainer videos), read once from app/i18n/media.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

INDEX = Path(__file__).parent / "i18n" / "media.json"


@cache
def _index() -> dict[str, dict[str, Any]]:
    if not INDEX.exists():
        return {}
    return {entry["id"]: entry for entry in json.loads(INDEX.read_text(encoding="utf-8"))}


def video(video_id: str) -> dict[str, Any] | None:
    return _index().get(video_id)


def videos(kind: str) -> list[dict[str, Any]]:
    return [v for v in _index().values() if v["kind"] == kind]
