"""Fixtures of the a11y suite; the server, Chromium and contexts come from the root conftest."""

from __future__ import annotations

import pytest

from .checks import Audit


@pytest.fixture
def lang() -> str:
    """The language variant (``?lang=``); override with ``parametrize("lang", …)``."""
    return "de"


@pytest.fixture
def audit(request: pytest.FixtureRequest, lang: str, viewport: tuple[int, int]) -> Audit:
    return Audit(test=request.node.nodeid, variant=lang, viewport=viewport)
