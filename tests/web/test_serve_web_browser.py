"""serve-web in a real headless browser: Debian's ``chromium-headless-shell`` driven by playwright (the system browser
through ``executable_path``; nothing is downloaded). The page shows the machines, keys switch screens, an action asks
for confirmation, and a viewer's page offers no action.

What the page shows is read from what the browser received on the console's websocket (the terminal's output with
its escape sequences taken out): xterm.js draws on a canvas, so the text is not in the DOM. Waits have deadlines only;
nothing is timed. Skipped, saying why, only when the browser is not installed (``make sysdeps`` installs it).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import TOKENS, ServedWeb

CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell")
BROWSER = shutil.which("chromium-headless-shell") or next((p for p in CANDIDATES if Path(p).is_file()), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="chromium-headless-shell is not installed (Debian: apt-get install chromium-headless-shell)"
)
# We run as root on a closed network: no sandbox, no GPU, no calls home.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-sync",
]
DEADLINE_MS = 45_000
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Screen:
    """The console's output as the page received it, for text to wait for."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.chunks: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.chunks.append(payload)

    def mark(self) -> int:
        return len(self.chunks)

    def text(self, since: int = 0) -> str:
        return ESCAPES.sub(b"", b"".join(self.chunks[since:])).decode("utf-8", "replace")

    def wait_for(self, *needles: str, since: int = 0) -> str:
        """Pump playwright's events until every needle has been drawn since ``since``; fail after the deadline."""
        for _ in range(DEADLINE_MS // 100):
            text = self.text(since)
            if all(needle in text for needle in needles):
                return text
            self.page.wait_for_timeout(100)
        missing = [n for n in needles if n not in self.text(since)]
        raise AssertionError(f"never drawn: {missing}; last output: {self.text(since)[-600:]!r}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=BROWSER, args=BROWSER_ARGS)
        yield launched
        launched.close()


def open_console(browser: Any, served: ServedWeb, token: str) -> tuple[Any, Screen]:
    """A new browser page: the login, then the console up and focused."""
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    screen = Screen(page)
    page.goto(served.url + "/")
    assert page.url.endswith("/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("body.-first-byte", timeout=DEADLINE_MS)
    assert token not in page.url and token not in page.content()
    page.focus("textarea.xterm-helper-textarea")  # where xterm.js takes the keyboard
    return page, screen


def machine_ids(served: ServedWeb) -> list[str]:
    snapshot = httpx.get(served.cluster.url + "/v1/snapshot", timeout=10).json()
    return [machine["id"] for machine in snapshot["machines"]]


def test_an_operator_sees_the_machines_switches_screens_and_confirms_an_action(browser, serve_web, tmp_path):
    served = serve_web()
    page, screen = open_console(browser, served, TOKENS["operator"])
    screen.wait_for(*machine_ids(served)[:6], "Active alerts")
    shown = screen.wait_for("Pause/Resume", "Reroute", "(operator)")  # the footer offers actions; --max-role operator
    assert "(supervisor)" not in shown  # the simulator grants supervisor; the session's role caps it

    mark = screen.mark()
    page.keyboard.press("2")  # Jobs
    screen.wait_for("Due", "Done", since=mark)
    mark = screen.mark()
    page.keyboard.press("1")  # back to the dashboard
    screen.wait_for("Active alerts", since=mark)

    mark = screen.mark()
    page.keyboard.press("p")  # pause the machine under the cursor: it asks first, with a reason
    screen.wait_for("Reason (required)", "Cancel", since=mark)
    page.screenshot(path=str(tmp_path / "confirm.png"))
    mark = screen.mark()
    page.keyboard.press("Escape")  # nothing is sent
    screen.wait_for("Active alerts", since=mark)
    page.close()


def test_a_viewers_page_offers_no_action(browser, serve_web):
    served = serve_web()
    page, screen = open_console(browser, served, TOKENS["viewer"])
    shown = screen.wait_for(*machine_ids(served)[:6], "READ-ONLY", "Active alerts", "(viewer)")
    for action in ("Pause/Resume", "Reroute", "Cancel job", "Ack", "Shelve", "Ready"):
        assert action not in shown, action

    mark = screen.mark()
    for key in ("p", "r", "x", "a", "s", "c", "n"):  # the action keys do nothing at all
        page.keyboard.press(key)
    page.keyboard.press("2")  # then something that does: the Jobs screen is drawn after them, in order
    after = screen.wait_for("Due", "Done", since=mark)
    assert "Reason" not in after and "Pause/Resume" not in after and "Cancel job" not in after
    page.close()


def test_a_wrong_token_stays_on_the_login_page(browser, serve_web):
    served = serve_web()
    page = browser.new_page()
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.goto(served.url + "/")
    page.fill("#token", "not-the-token-0000")
    page.click("button[type=submit]")
    page.wait_for_selector("text=That token is not known.", timeout=DEADLINE_MS)
    assert page.url.endswith("/login") and "not-the-token" not in page.url
    assert "not-the-token" not in page.content()
    assert not sockets
    page.close()
