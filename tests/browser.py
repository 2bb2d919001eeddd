"""Headless Chromium for the report's tests: Debian's ``chromium`` driven by Playwright.

No browser is downloaded: Playwright launches ``/usr/bin/chromium``. Without it the browser
tests skip with the reason, except in CI (``CI=true``), where ``.ci/run`` installs it and a
missing browser is a failure.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
