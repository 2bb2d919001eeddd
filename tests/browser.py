"""Headless Chromium for the browser tests (and ``benchmarks/explore_browser.py``): Debian's
``chromium`` driven by Playwright, and JupyterLab on loopback for the explore grid.

No browser is downloaded: Playwright launches ``/usr/bin/chromium``. Without it the browser
tests skip with the reason, except in CI (``CI=true``), where ``.ci/run`` installs it and a
missing browser is a failure.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from taskkit._report.pdf import FLAGS

# Without these Chromium keeps trying to reach its own hosts at every start (PITFALLS.md): the
# flags the report's PDF printing uses, less the ones Playwright sets itself.
CHROMIUM_ARGS = [f for f in FLAGS if f not in ("--headless", "--no-pdf-header-footer")]


def chromium_path() -> str:
    """Debian's chromium, or skip (fail when CI=true) when it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("browser tests need Debian's chromium: apt-get install chromium")
    return path


@contextmanager
def browser_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh Chromium page (own profile) of the given viewport size."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


@contextmanager
def jupyterlab(root: Path, notebook: str) -> Iterator[str]:
    """JupyterLab serving ``root`` on a free loopback port, with a token, its own config and
    home under ``root``, and no traffic of its own (news, update checks). Yields the URL that
    opens ``notebook``; its log is ``root / "lab.log"``. Stopped at the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = os.urandom(12).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config"), "HOME": str(root)}
    log_path = root / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={port}", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", "--allow-root",
                "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(
                            "JupyterLab did not start: " + log_path.read_text()[-2000:]
                        ) from None
                    time.sleep(0.5)
            yield f"{base}/lab/tree/{notebook}?token={token}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


# Milliseconds from the next click inside ``root`` until ``root`` loses its busy class: the
# grid drops it in the same task that draws the rows of the kernel's answer.
_MEASURE_CLICK = """(root) => {
    window.__tkShown = null;
    let start = null;
    root.addEventListener('click', () => { start = performance.now(); },
                          {capture: true, once: true});
    new MutationObserver((records, obs) => {
        if (start !== null && !root.classList.contains('tk-is-busy')) {
            obs.disconnect();
            window.__tkShown = performance.now() - start;
        }
    }).observe(root, {attributes: true, attributeFilter: ['class']});
}"""


def timed_click(page: Any, grid: Any, target: Any) -> float:
    """Click ``target`` (a Playwright locator inside the explore ``grid``); milliseconds from
    the click until the new rows are drawn (the kernel sets the rows before ``busy``)."""
    page.evaluate(_MEASURE_CLICK, grid.element_handle())
    target.click()
    page.wait_for_function("() => window.__tkShown !== null")
    return float(page.evaluate("() => window.__tkShown"))
