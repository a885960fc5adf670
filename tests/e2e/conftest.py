"""The browser harness: the real server in a subprocess (SQLite, demo data) and Debian's
Chromium driven by Playwright at phone size.

The server is `livebase serve` on a free port with its own data directory, migrated with
`livebase migrate` and loaded with `livebase demo`, exactly as `make run` does. We never
download a browser: Playwright drives /usr/bin/chromium (apt package `chromium`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import SCREENSHOTS
from tests.live_server import READY_TIMEOUT_S as LIVE_READY_TIMEOUT_S
from tests.live_server import _livebase, wait_ready
from tests.live_server import free_port as _free_port

CHROMIUM = os.environ.get("LIVEBASE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
# An iPhone 12–14 class screen in CSS pixels: the size pages are designed for first.
PHONE = {"width": 390, "height": 844}
# Start-up takes 1–3 s on an idle machine and 40 s was seen at a load of 9 on two cores
# (a helper's e2e run while four others worked): the bound of tests/live_server.py.
READY_TIMEOUT_S = LIVE_READY_TIMEOUT_S
# Each browser step waits at most this long for its condition.
STEP_TIMEOUT_MS = 10_000
DEMO_PASSWORD = "livebase-demo"


@dataclass
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(data_dir),
        LIVEBASE_DATABASE_URL=f"sqlite:///{data_dir / 'livebase.db'}",
        LIVEBASE_PUBLIC_URL=url,
        LIVEBASE_LOG_LEVEL="WARNING",
        LIVEBASE_LOG_JSON="1",
    )
    for step in (["migrate"], ["demo"]):
        subprocess.run([*_livebase(), *step], env=env, check=True, capture_output=True, timeout=120)
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_ready(url, proc, timeout=READY_TIMEOUT_S)
        except RuntimeError as exc:
            log.flush()
            tail = (data_dir / "serve.log").read_text("utf-8", "replace")[-3000:]
            raise RuntimeError(f"{exc}\n--- serve log ---\n{tail}") from exc
        yield Server(url, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk "
            "(never `playwright install`)"
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


class Phone:
    """Opens phone-sized pages, each in its own browser context (its own cookies)."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self._browser = browser
        self.url = server.url
        self._contexts: list[BrowserContext] = []

    def open(self, lang: str = "zh") -> Page:
        context = self._browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN" if lang == "zh" else "en-US",
            base_url=self.url,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        self._contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def phone(chromium: Browser, server: Server) -> Iterator[Phone]:
    p = Phone(chromium, server)
    try:
        yield p
    finally:
        p.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot at phone size, kept by CI under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # From the top: a page scrolled to an anchor would draw the sticky header mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    form = page.get_by_test_id("login-form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert page.get_by_test_id("me").is_visible(), f"{username} is not signed in"


def register(
    page: Page, username: str, display_name: str, password: str = "e2e-password-1"
) -> None:
    page.goto("/register")
    form = page.get_by_test_id("register-form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="display_name"]').fill(display_name)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
