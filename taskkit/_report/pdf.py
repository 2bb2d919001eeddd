"""The report as PDF: the HTML page printed by headless Chromium (Debian: ``chromium``)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from taskkit._errors import ConfigurationError

__all__ = ["print_pdf"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# A fresh profile and no background traffic: the page itself makes no request either.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def print_pdf(html: str, *, timeout: float = 120) -> bytes:
    """``html`` printed to PDF by headless Chromium.

    Raises:
        ConfigurationError: no Chromium on PATH, or it failed; the message says what to do.
    """
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        raise ConfigurationError(
            "--format pdf prints the report with headless Chromium, which is not installed "
            "(Debian/Ubuntu: apt-get install chromium); --format html needs nothing"
        )
    with tempfile.TemporaryDirectory(prefix="taskkit-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        done = subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigurationError(f"Chromium could not print the report to PDF: {last}")
        return pdf.read_bytes()
