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


# -- accounts for the pages behind the login (a11y/test_identity.py) ------------------------

DEMO_ACCOUNT = ("erika.mustermann@example.org", "Mustermann-Demo-2026")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jobcenter.digital a11y suite")
    group.addoption(
        "--a11y-user",
        default=DEMO_ACCOUNT[0],
        help="e-mail of the account for the logged-in pages: level pin_brief, with decisions, "
        "no second factor (default: the demo account of Erika Mustermann)",
    )
    group.addoption("--a11y-password", default=DEMO_ACCOUNT[1], help="password of --a11y-user")
    group.addoption(
        "--a11y-demo",
        action="store_true",
        help="the server at --base-url runs with --demo: also check the demo-only states "
        "(/dev/mail, a freshly registered account); always on without --base-url",
    )


def demo_mode(config: pytest.Config) -> bool:
    return not config.getoption("--base-url") or bool(config.getoption("--a11y-demo"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "demo_only: needs a server in demo mode (/dev/mail); left out with --base-url"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a deployed instance the demo-only checks are deselected (they cannot run)."""
    if demo_mode(config):
        return
    deselected = [item for item in items if item.get_closest_marker("demo_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("demo_only")]


@pytest.fixture(scope="session")
def a11y_account(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(e-mail, password) of the account for the logged-in pages."""
    config = request.config
    return config.getoption("--a11y-user"), config.getoption("--a11y-password")
