"""Shared fixtures for the browser suites (e2e/, a11y/): a server, one Chromium, fresh contexts.

* ``--base-url URL`` runs the browser tests against a deployed instance (staging);
  without it every xdist worker starts its own server (``python -m app serve --demo``,
  ``JCD_ENV=test``) on a free port with a temporary data directory.
* Chromium is Debian's ``/usr/bin/chromium``, launched once per worker; every test gets a
  new browser context (no shared cookies) with service workers blocked.
* ``--a11y-report DIR`` is where the a11y suite writes report.md / report.json.

Playwright's sync API is used; tests are plain (sync) functions.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
#: Playwright timeouts (ms): generous because two workers share two cores with the servers.
ACTION_TIMEOUT_MS = 20_000
EXPECT_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_S = 60
ARTIFACTS = ROOT / "test-results"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jobcenter.digital browser tests")
    group.addoption(
        "--base-url",
        default=None,
        help="run the browser suites against this server (e.g. https://staging.example) "
        "instead of starting one per worker",
    )
    group.addoption(
        "--a11y-report",
        default="a11y-report",
        help="directory for the a11y report (report.md, report.json); default: a11y-report/",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: needs the server and Chromium")


# -- the server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200 and b'"ok"' in response.read()
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The server under test: ``--base-url`` or a fresh local one (one per xdist worker)."""
    given = request.config.getoption("--base-url")
    if given:
        yield given.rstrip("/")
        return
    data_dir = tmp_path_factory.mktemp("server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    env = dict(os.environ, JCD_ENV="test", PYTHONUNBUFFERED="1")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--demo",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            # waiting on the process doubles as the poll interval and notices a crash
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.1)
                pytest.fail(f"server exited with {code}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server not healthy after {SERVER_START_TIMEOUT_S}s:\n"
                    f"{log_path.read_text(errors='replace')}"
                )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    """One headless Chromium per worker."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    instance = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def viewport() -> tuple[int, int]:
    """Override with ``@pytest.mark.parametrize("viewport", [(320, 640)])``."""
    return (1280, 800)


@pytest.fixture
def new_context(
    browser: Any, base_url: str, viewport: tuple[int, int], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Factory for fresh browser contexts; all are closed after the test.

    Defaults: ``service_workers="block"``, ``locale="de-DE"``, the test's viewport, the
    server's base URL. Keyword arguments override (e.g. ``forced_colors="active"``,
    ``service_workers="allow"`` for the tests of the service worker).
    """
    contexts: list[Any] = []

    def make(**overrides: Any) -> Any:
        size = overrides.pop("viewport", viewport)
        options: dict[str, Any] = {
            "base_url": base_url,
            "service_workers": "block",
            "locale": "de-DE",
            "timezone_id": "Europe/Berlin",
            "viewport": {"width": size[0], "height": size[1]},
            "accept_downloads": True,
        }
        options.update(overrides)
        context = browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    failed = getattr(request.node, "rep_call", None)
    for number, context in enumerate(contexts):
        if failed is not None and failed.failed:
            _save_failure_screenshots(context, request.node.nodeid, number)
        with contextlib.suppress(Exception):
            context.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def _save_failure_screenshots(context: Any, nodeid: str, number: int) -> None:
    """A screenshot of every open page of a failed test, under test-results/."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]
    for index, open_page in enumerate(context.pages):
        with contextlib.suppress(Exception):
            ARTIFACTS.mkdir(exist_ok=True)
            open_page.screenshot(
                path=str(ARTIFACTS / f"{name}-{number}-{index}.png"), full_page=True, timeout=5_000
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# -- the a11y report (merged on the xdist controller) ----------------------------------------


def _report_dir(config: pytest.Config) -> Path:
    return Path(config.invocation_params.dir, config.getoption("--a11y-report")).resolve()


def _run_id(config: pytest.Config) -> str:
    """One id per pytest run, shared with the xdist workers: concurrent runs in the same
    directory (two developers, an editor plugin) never merge each other's report parts."""
    worker = getattr(config, "workerinput", None)
    if worker is not None and "a11y_run" in worker:
        return str(worker["a11y_run"])
    if not hasattr(config, "_a11y_run"):
        config._a11y_run = f"{os.getpid()}-{time.time_ns()}"  # type: ignore[attr-defined]
    return str(config._a11y_run)  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist (controller): hand the run id to each worker."""
    node.workerinput["a11y_run"] = _run_id(node.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from a11y import report

    config = session.config
    directory = _report_dir(config)
    run = _run_id(config)
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        report.write_part(directory, run, worker["workerid"])
        return
    rows = report.merge(directory, run)
    if not rows:
        return
    from a11y.checks import TAGS, axe_version

    path = report.write(
        directory,
        rows,
        {
            "base_url": config.getoption("--base-url") or "local test server (one per worker)",
            "exitstatus": int(exitstatus),
            "tags": TAGS,
            "axe_version": axe_version(),
        },
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        failed = sum(1 for r in rows if not r["passed"])
        reporter.write_line(f"a11y report: {path} ({len(rows)} page states, {failed} failed)")
