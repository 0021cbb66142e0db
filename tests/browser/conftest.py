"""Browser tests: Playwright drives Debian's Chromium, headless, against the app served for real.

The app (``bridge.app:create_app``) runs under uvicorn in a thread on the run's PostgreSQL, its
public URL the server's own ``http://127.0.0.1:<port>``. Chromium is the machine's
(``/usr/bin/chromium``, Debian's package, which ``make browser`` and ``.ci/run`` install): a run
without it fails and says how to get it, it is never skipped. Screenshots of the main pages go
to ``artifacts/screenshots/`` (kept by CI as the run's artifacts).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.conftest import PASSWORD, ROLES, accounts_db, users  # noqa: F401 - fixtures
from tests.servers import bound_socket, serve_in_thread

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@dataclass(frozen=True)
class LiveApp:
    """The served app: its base URL (``http://127.0.0.1:<port>``) and runtime."""

    url: str
    runtime: object


def chromium_path() -> str:
    """The machine's Chromium; fails (never skips) with how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("the browser tests need Debian's Chromium: run `make browser` (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an event loop running in the main thread while
    it is open, and every later test that runs its own loop (``asyncio.run``, pytest-asyncio:
    tests/sandbox, tests/e2e) would fail with "cannot be called from a running event loop".
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live_app(runtime, users) -> Iterator[LiveApp]:  # noqa: F811 - fixtures
    """The one app served by uvicorn with users of every role (password :data:`PASSWORD`)."""
    from bridge.app import create_app
    from tests.fakes.agent import FakeVoiceAgent

    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    served = replace(runtime, settings=runtime.settings.model_copy(update={"public_url": url}))
    with serve_in_thread(create_app(runtime=served, agent=FakeVoiceAgent()), sock=sock):
        yield LiveApp(url=url, runtime=served)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page; 15 s for any wait (a loaded CI machine)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def log_in(page: Page, app: LiveApp, username: str, *, next_path: str = "/console") -> None:
    """Log in through the console's form and wait for the page it lands on."""
    page.goto(f"{app.url}/console/login?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["PASSWORD", "ROLES", "LiveApp", "log_in", "screenshot"]
