"""The report as PDF: the HTML page printed by headless Chromium (Debian: ``chromium``).

Pages are numbered (``page 2 of 6`` in the bottom margin, from the page's CSS), a heading is
kept on the page of what it introduces, and the paper is A4 or US Letter: as asked, else as the
locale says (``LC_ALL``, ``LC_PAPER``, ``LANG``: the countries whose locales print on Letter in
glibc's locale data), else A4, the international standard (ISO 216).
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from taskkit._checks import one_of
from taskkit._errors import ConfigurationError

__all__ = ["PAPERS", "choose_paper", "print_pdf"]

#: The paper sizes a PDF report is printed on, by the name ``--paper`` takes.
PAPERS = {"a4": "A4", "letter": "letter"}
# Countries whose glibc locales print on Letter (their LC_PAPER copies en_US): the United
# States, Canada, the Philippines, Mexico and the Spanish-speaking countries of the Americas
# that use it. Every other locale prints on A4.
LETTER_COUNTRIES = frozenset("US CA PH MX BO CL CO CR GT NI PA PR SV VE".split())
_TERRITORY = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?:[.@]|$)")


def choose_paper(paper: str | None, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The paper to print on (a key of :data:`PAPERS`) and why, in words.

    Args:
        paper: ``"a4"`` or ``"letter"``; ``None`` to follow the locale.
        env: the environment to read the locale from (default: ``os.environ``).

    Raises:
        InvalidArgumentError: ``paper`` is not one of :data:`PAPERS`.
    """
    if paper is not None:
        one_of("paper", paper, tuple(PAPERS))
        return paper, f"{PAPERS[paper]} paper (as asked)"
    env = os.environ if env is None else env
    name, value = next(
        ((n, env[n]) for n in ("LC_ALL", "LC_PAPER", "LANG") if env.get(n)), ("LANG", "")
    )
    match = _TERRITORY.match(value)
    other = "--paper letter for US Letter"
    if match is None:
        shown = f"{name}={value}" if value else "no locale set"
        return "a4", f"A4 paper ({shown} names no country; {other})"
    if match.group(1).upper() in LETTER_COUNTRIES:
        return "letter", f"US Letter paper (from {name}={value}; --paper a4 for A4)"
    return "a4", f"A4 paper (from {name}={value}; {other})"


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


def print_pdf(html: str, *, paper: str = "a4", timeout: float = 120) -> bytes:
    """``html`` printed to PDF by headless Chromium on ``paper`` (a key of :data:`PAPERS`).

    Raises:
        ConfigurationError: no Chromium on PATH, or it failed; the message says what to do.
    """
    one_of("paper", paper, tuple(PAPERS))
    # Chromium prints on the page size the CSS asks for (its own default is Letter).
    html = html.replace("</head>", f"<style>@page {{ size: {PAPERS[paper]}; }}</style>\n</head>", 1)
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
