"""Headless Chromium driven over the DevTools protocol, with the standard library only.

Headless ``--window-size`` will not go below 500 px, so a phone is emulated with
``Emulation.setDeviceMetricsOverride``. The protocol runs over ``--remote-debugging-pipe``:
the browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4,
so no port is opened and no websocket client is needed. A development tool, not in the image.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "chromium"
TIMEOUT_S = 60
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
# What the width test and the preview read once a page has loaded: the layout's width and
# height, and the smallest font any visible text in a table is drawn at.
_MEASURE = """(() => {
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.closest('table') || !el.getClientRects().length) continue;
    sizes.push(parseFloat(getComputedStyle(el).fontSize));
  }
  const root = document.documentElement;
  return JSON.stringify({width: root.scrollWidth, height: root.scrollHeight,
                         minFont: Math.min(...sizes)});
})()"""


class BrowserError(RuntimeError):
    """The browser failed or answered a command with an error."""


@dataclass(frozen=True, slots=True)
class Layout:
    """A page as laid out at one viewport width, in CSS pixels."""

    width: int
    height: int
    min_table_font_px: float


def available() -> str | None:
    """The chromium executable, or None when it is not installed."""
    return shutil.which(CHROMIUM)


class Page:
    """One tab of a running browser, attached over the pipe (flattened session)."""

    def __init__(self, writer: Any, reader: Any) -> None:
        self._writer = writer
        self._reader = reader
        self._next_id = 0
        self._buffer = b""
        self._session: str | None = None
        self._seen: list[str] = []  # events read while waiting for a reply, for wait_for

    def attach(self) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
        self._session = attached["sessionId"]
        self.send("Page.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, skipping the events that come first."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session is not None:
            message["sessionId"] = self._session
        self._writer.write(json.dumps(message).encode() + b"\0")
        self._writer.flush()
        while True:
            reply = self._read()
            if "method" in reply:
                self._seen.append(reply["method"])
            elif reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def close_browser(self) -> None:
        self._session = None  # Browser.* goes to the browser, not the tab
        self.send("Browser.close")

    def wait_for(self, event: str) -> None:
        """Return once ``event`` has arrived, even if it came before the last reply."""
        while event not in self._seen:
            self._seen.append(self._read().get("method", ""))
        self._seen.clear()

    def open(self, url: str, *, width: int, height: int, mobile: bool) -> Layout:
        """Load ``url`` at ``width`` CSS pixels (scale 2, as a phone's screen) and measure it."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=2,
            mobile=mobile,
        )
        self._seen.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        value = self.send("Runtime.evaluate", expression=_MEASURE, returnByValue=True)
        measured = json.loads(value["result"]["value"])
        return Layout(int(measured["width"]), int(measured["height"]), float(measured["minFont"]))

    def screenshot(self, path: Path, layout: Layout) -> None:
        """The whole page as a PNG, at the width it was opened with."""
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": layout.width, "height": layout.height, "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._reader], [], [], TIMEOUT_S)
            if not ready:
                raise BrowserError(f"no answer from the browser in {TIMEOUT_S} s")
            chunk = os.read(self._reader.fileno(), 1 << 16)
            if not chunk:
                raise BrowserError("the browser closed the DevTools pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message


@contextmanager
def page(executable: str | None = None) -> Iterator[Page]:
    """A fresh headless browser (its own throwaway profile) with one attached tab."""
    browser = executable or available()
    if browser is None:
        raise BrowserError("chromium is not installed (apt-get install chromium)")
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    # Lift the child's ends above 4, so that putting them on 3 and 4 cannot close either.
    to_browser_r, from_browser_w = (_above_4(fd) for fd in (to_browser_r, from_browser_w))

    def onto_3_and_4() -> None:  # in the child, before exec; dup2 leaves both inheritable
        os.dup2(to_browser_r, 3)
        os.dup2(from_browser_w, 4)

    with tempfile.TemporaryDirectory(prefix="txsummary-chromium-") as profile:
        process = subprocess.Popen(
            [browser, *FLAGS, f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # our other descriptors are non-inheritable (PEP 446)
            preexec_fn=onto_3_and_4,  # noqa: PLW1509 - dup2 only, and no threads yet
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        writer = os.fdopen(to_browser_w, "wb")
        reader = os.fdopen(from_browser_r, "rb")
        try:
            tab = Page(writer, reader)
            tab.attach()
            yield tab
            tab.close_browser()
            process.wait(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT_S)
            writer.close()
            reader.close()


def _above_4(fd: int) -> int:
    lifted = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return lifted
