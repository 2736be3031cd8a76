"""Just enough of the Chrome DevTools Protocol to ask headless Chromium whether videos play.

Chromium runs with ``--remote-debugging-pipe``: it reads JSON commands (each ending in a NUL
byte) on file descriptor 3 and writes replies on 4. No websocket library, no network port.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

#: Flags for a quiet, reproducible headless run (no sandbox: CI containers run as root).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--remote-debugging-pipe",
)

#: Loads video, waits for its first frame (or an error) and reports videoWidth, videoHeight,
#: duration and the error code. PROBE_VIDEOS runs it on every <video> of the page (what a
#: reader sees) and on a fresh <video> for every mp4 embedded in the page as a data: URI
#: (pytest-html shows one video at a time; the others sit in the report's JSON).
PROBE_VIDEOS = r"""
(async () => {
  const probe = (video) => new Promise((resolve) => {
    const timer = setTimeout(() => finish("timeout"), 15000);
    function finish(status) {
      clearTimeout(timer);
      resolve({
        status,
        videoWidth: video.videoWidth,
        videoHeight: video.videoHeight,
        duration: video.duration,
        error: video.error ? video.error.code : null,
      });
    }
    if (video.readyState >= 2) return finish("loaded");
    video.addEventListener("loadeddata", () => finish("loaded"));
    video.addEventListener("error", () => finish("error"));
    const source = video.querySelector("source");
    if (source) source.addEventListener("error", () => finish("error"));
    video.load();
  });
  const shown = [];
  for (const video of document.querySelectorAll("video")) {
    const source = video.querySelector("source");
    if (video.getAttribute("src") || (source && source.getAttribute("src"))) {
      shown.push(await probe(video));
    }
  }
  const uris = [...new Set(
    document.documentElement.innerHTML.match(/data:video\/mp4;base64,[A-Za-z0-9+\/=]+/g) || []
  )];
  const embedded = [];
  for (const uri of uris) {
    const video = document.createElement("video");
    video.muted = true;
    video.src = uri;
    document.body.appendChild(video);
    embedded.push(await probe(video));
    video.remove();
  }
  return {shown, embedded};
})()
"""


def chromium_executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class DevToolsError(RuntimeError):
    pass


def evaluate_in_page(url: str, expression: str, timeout: float = 60.0) -> Any:
    """Open ``url`` in headless Chromium, wait for its load event, and evaluate ``expression``
    (a promise is awaited); return its value."""
    executable = chromium_executable()
    if executable is None:
        raise DevToolsError("chromium is not installed")
    command_read, command_write = os.pipe()
    reply_read, reply_write = os.pipe()
    profile = tempfile.mkdtemp(prefix="gymrec-chromium-")

    def hand_over_pipes() -> None:  # in the child: the pipes become fds 3 and 4
        commands = fcntl.fcntl(command_read, fcntl.F_DUPFD, 10)
        replies = fcntl.fcntl(reply_write, fcntl.F_DUPFD, 10)
        os.dup2(commands, 3)
        os.dup2(replies, 4)

    process = subprocess.Popen(
        [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        preexec_fn=hand_over_pipes,
        close_fds=False,
        start_new_session=True,  # its own process group: renderer processes go with it
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(command_read)
    os.close(reply_write)
    commands = os.fdopen(command_write, "wb", buffering=0)
    replies = os.fdopen(reply_read, "rb", buffering=0)
    session = _Session(commands, replies, time.monotonic() + timeout)
    try:
        page = session.first_page()
        session_id = session.send("Target.attachToTarget", {"targetId": page, "flatten": True})[
            "sessionId"
        ]
        session.send("Page.enable", session_id=session_id)
        session.send("Page.navigate", {"url": url}, session_id=session_id)
        session.wait_for_event("Page.loadEventFired")
        result = session.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session_id=session_id,
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"the page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")
    finally:
        commands.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        replies.close()
        shutil.rmtree(profile, ignore_errors=True)


class _Session:
    def __init__(self, commands: Any, replies: Any, deadline: float) -> None:
        self._commands = commands
        self._replies = replies
        self._deadline = deadline
        self._buffer = b""
        self._ids = itertools.count(1)
        self._events: list[str] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        self._commands.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next_message()
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def first_page(self) -> str:
        while time.monotonic() < self._deadline:
            targets = self.send("Target.getTargets")["targetInfos"]
            pages = [target["targetId"] for target in targets if target["type"] == "page"]
            if pages:
                return str(pages[0])
            time.sleep(0.05)
        raise DevToolsError("chromium opened no page")

    def wait_for_event(self, method: str) -> None:
        while method not in self._events:
            self._next_message()

    def _next_message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = self._deadline - time.monotonic()
            readable, _, _ = select.select([self._replies], [], [], max(remaining, 0))
            if not readable:
                raise DevToolsError("chromium did not answer in time")
            chunk = self._replies.read(1 << 16)
            if not chunk:
                raise DevToolsError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._events.append(str(message["method"]))
        return message


def page_url(path: Path) -> str:
    return path.resolve().as_uri()
