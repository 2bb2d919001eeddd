"""The report as a deliverable: right tables, self-contained, reproducible, named, recorded.

One small database (2,000 tasks) serves every test; most share one report run.
"""

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import taskkit
from taskkit._report import run_report
from tests.browser import browser_page

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "reports" / "screenshots"  # ignored by git: the tests' artifacts
EPOCH = "1767225600"  # 2026-01-01 00:00:00 UTC


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    # A long directory name: the provenance must show the path whole, never cut.
    where = tmp_path_factory.mktemp("a-directory-name-long-enough-to-be-cut-by-a-table-cell")
    url = f"sqlite:///{where / 'report.db'}"

    async def build() -> None:
        engine = taskkit.connect(url)
        await taskkit.ensure_schema(engine)
        await taskkit.seed(engine, tasks=2_000, progress=False)
        await engine.dispose()

    asyncio.run(build())
    return url


PARAMS = {"project": "Apollo", "date_from": "2025-03-05", "date_to": "2025-10-20"}
COMMAND = "taskkit report --param project=Apollo"


@pytest.fixture(scope="module")
def page(database, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        path, _ = run_report({"database_url": database, **PARAMS}, out=out, command=COMMAND)
    return path


def test_title_and_heading_name_the_scope(page):
    html = page.read_text(encoding="utf-8")
    scope = "project Apollo, tasks created 05 Mar 2025 to 20 Oct 2025"
    assert f"<title>Task report: {scope}</title>" in html
    assert f"<h1>Task report: {scope}</h1>" in html
    # Named by SOURCE_DATE_EPOCH and the scope.
    assert (
        page.name == "taskkit-report-20260101-000000-project-Apollo-2025-03-05-to-2025-10-20.html"
    )


def test_tables_use_words_and_formatted_numbers(page):
    html = page.read_text(encoding="utf-8")
    assert "in_progress" not in html and "done_share" not in html
    assert "<th>in progress</th>" in html and "done share" in html
    assert re.search(r"<td>\d{1,3}%</td>", html)  # shares as percentages
    assert re.search(r"<td>\d+\.\d days</td>", html)  # days with one decimal
    assert not re.search(r"<td>\d+\.\d{2,}</td>", html)  # no raw floats such as 0.946


def test_weekly_chart_covers_the_range_the_heading_states(page):
    """Before, the heading gave the first and last task's days while the chart said "whole
    weeks only, 10 Mar 2025 to 19 Oct 2025": now both cover the same days, and the partial
    weeks at either end are shaded and said."""
    html = page.read_text(encoding="utf-8")
    assert "created between 05 Mar 2025 and 20 Oct 2025 (UTC)" in html
    # 2025-03-05 is a Wednesday, 2025-10-20 a Monday: their weeks are partial.
    assert "the chart covers 05 Mar 2025 to 20 Oct 2025" in html
    assert "2 weeks the data covers only in part are left out (shaded): where the range" in html


def test_provenance_records_how_to_make_the_report_again(page, database):
    html = page.read_text(encoding="utf-8")
    provenance = html[html.index('class="dataframe provenance"') :]
    db_path = database.removeprefix("sqlite:///")
    assert f"<td>{COMMAND}</td>" in provenance
    assert f"<td>sqlite+aiosqlite:///{db_path}</td>" in provenance  # whole, not cut
    for item in ("date_from</th>", "date_to</th>", "project</th>", "schema revision</th>"):
        assert item in provenance
    assert "<td>2025-03-05</td>" in provenance and "<td>Apollo</td>" in provenance
    assert re.search(r"<td>2,000 tasks, 20 projects, 50 workers, [\d,]+ assignments</td>", html)
    assert re.search(r"<td>sha256:[0-9a-f]{64}</td>", provenance)
    assert re.search(r"<td>SQLite 3\.[\d.]+ \(driver aiosqlite\)</td>", provenance)
    for package in ("taskkit", "pandas", "sqlalchemy", "python"):
        assert f"<th>{package}</th>" in provenance
    assert "<td>2026-01-01 00:00:00 UTC</td>" in provenance


def test_code_is_hidden_by_default_and_shown_on_request(page, database, tmp_path):
    assert "import taskkit" not in page.read_text(encoding="utf-8")
    assert "notebook behind" not in page.read_text(encoding="utf-8")  # notebook-only cell
    shown, _ = run_report({"database_url": database, **PARAMS}, out=tmp_path, show_code=True)
    html = shown.read_text(encoding="utf-8")
    assert "import taskkit" in html and "project = &#x27;Apollo&#x27;" in html


def test_two_runs_with_source_date_epoch_are_byte_identical(page, database, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    again, _ = run_report({"database_url": database, **PARAMS}, out=tmp_path, command=COMMAND)
    assert again.read_bytes() == page.read_bytes()


def test_reports_made_in_the_same_second_never_overwrite_each_other(
    database, tmp_path, monkeypatch
):
    """Issue 25 item 4: the scope is in the name; a different report under a taken name gets
    the next number; the same report again (same bytes) is the same file."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    apollo, _ = run_report({"database_url": database, "project": "Apollo"}, out=tmp_path)
    everything, _ = run_report({"database_url": database}, out=tmp_path)
    assert apollo.name == "taskkit-report-20260101-000000-project-Apollo.html"
    assert everything.name == "taskkit-report-20260101-000000-all-projects.html"
    first = apollo.read_bytes()
    assert b"project Apollo" in first and b"project Apollo" not in everything.read_bytes()
    again, _ = run_report({"database_url": database, "project": "Apollo"}, out=tmp_path)
    assert again == apollo and apollo.read_bytes() == first
    with_code, _ = run_report(
        {"database_url": database, "project": "Apollo"}, out=tmp_path, show_code=True
    )
    assert with_code.name == "taskkit-report-20260101-000000-project-Apollo-2.html"
    assert apollo.read_bytes() == first  # never overwritten
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [apollo.name, everything.name, with_code.name]
    )


@pytest.mark.parametrize(
    ("values", "stem"),
    [
        ({}, "taskkit-report-20260101-000000-all-projects"),
        ({"project": "R&D / Ops"}, "taskkit-report-20260101-000000-project-R_D_Ops"),
        ({"project": "..", "date_to": "2025-06-30"}, "-project-_-first-to-2025-06-30"),
        ({"project": "Café", "date_from": "2025-06-01"}, "-project-Café-2025-06-01-to-last"),
    ],
)
def test_report_names_hold_the_scope_as_safe_file_name_characters(values, stem):
    from datetime import UTC, datetime

    from taskkit._report import check_parameters
    from taskkit._report.run import report_stem

    at = datetime(2026, 1, 1, tzinfo=UTC)
    name = report_stem(check_parameters(values), at)
    assert name.endswith(stem) and "/" not in name and ".." not in name


def test_without_source_date_epoch_only_the_generation_time_differs(page, database, tmp_path):
    other, _ = run_report({"database_url": database, **PARAMS}, out=tmp_path, command=COMMAND)
    before = page.read_text(encoding="utf-8").splitlines()
    after = other.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and "2026-01-01 00:00:00 UTC" in changed[0][0]


def test_an_empty_selection_is_stated_once(database, tmp_path):
    path, _ = run_report(
        {"database_url": database, "date_from": "2030-01-01"}, out=tmp_path, command=COMMAND
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("No task matches this selection") == 1
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["Provenance"]
    assert "<img" not in html


@pytest.mark.browser
def test_the_page_makes_no_network_request_and_reads_at_desktop_and_phone_width(page):
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html
    assert not re.findall(r"""(?:src|href)=["']?(?!data:)[a-z]+:""", html)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        with browser_page(width=width) as tab:
            requests: list[str] = []
            tab.on("request", lambda r, seen=requests: seen.append(r.url))
            tab.goto(page.as_uri())
            tab.wait_for_load_state("networkidle")
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            assert tab.title().startswith("Task report: project Apollo")
            # Nothing wider than the screen, and nothing that needs scrolling sideways.
            wide = tab.evaluate(
                "[...document.querySelectorAll('main > *')].filter("
                "e => e.getBoundingClientRect().right > window.innerWidth + 1).length"
            )
            assert wide == 0
            tab.screenshot(path=str(SCREENSHOTS / f"report-{width}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_charts_and_tables_fit_the_screen_and_a_phone_gets_charts_drawn_for_it(page, width):
    """Before, at 390 px every chart was cut at the right edge (a 32rem minimum width, in a
    box that scrolled sideways) with no hint that it scrolls."""
    with browser_page(width=width) as tab:
        tab.goto(page.as_uri())
        tab.wait_for_load_state("load")
        scrolls = tab.evaluate(
            "[...document.querySelectorAll('.output')]"
            ".filter(e => e.scrollWidth > e.clientWidth + 1)"
            ".map(e => e.innerText.slice(0, 60) || e.innerHTML.slice(0, 60))"
        )
        assert scrolls == []
        charts = tab.evaluate(
            "[...document.querySelectorAll('picture')].map(p => {"
            " const img = p.querySelector('img'), src = p.querySelector('source');"
            " return {phone: img.currentSrc === src.srcset, shown: img.clientWidth,"
            "  drawn: img.naturalWidth, text: img.alt,"
            "  vector: img.currentSrc.startsWith('data:image/svg+xml')}; })"
        )
        # Weekly, cycle time, workers (one project: no chart), and the flow section's five
        # (throughput, cycle-time scatter, ageing work in progress, cumulative flow, forecast:
        # the seed records starts): every chart has a phone rendering.
        figures = tab.evaluate("document.querySelectorAll('.output img').length")
        assert len(charts) == figures == 8, charts
        for chart in charts:
            assert chart["phone"] is (width == 390), chart["text"]
            assert chart["shown"] <= width
            # Drawn as vectors (sharp at any size and pixel density), and shown neither below
            # a third of its size, so that its text stays legible, nor blown up past half again.
            assert chart["vector"], chart
            assert chart["drawn"] / 3 <= chart["shown"] <= 1.5 * chart["drawn"], chart


def poppler(tool: str) -> str:
    """A poppler-utils program (reads the PDF back), or skip (fail when CI=true)."""
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but poppler-utils is not installed (.ci/run installs it)")
        pytest.skip("reading PDFs back needs poppler-utils: apt-get install poppler-utils")
    return found


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(
        [poppler("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True
    ).stdout
    return text.split("\f")[:-1]


def pdf_size(path: Path) -> str:
    info = subprocess.run([poppler("pdfinfo"), str(path)], capture_output=True, text=True)
    return re.search(r"Page size:.*\((\w+)\)", info.stdout).group(1)  # type: ignore[union-attr]


SECTIONS = (
    "Status and priority",
    "Work created and finished per week",
    "How long work takes",
    "Kinds of work and labels",
    "Projects",
    "Who carries the open work",
    "Flow: how work moves",
    "Provenance",
)


@pytest.mark.browser
def test_pdf_pages_are_numbered_and_no_page_ends_on_a_heading(database, tmp_path, monkeypatch):
    """Before: six Letter pages without page numbers, with "Projects" and "Who carries the
    open work" alone at the bottom of a page."""
    from tests.browser import chromium_path

    chromium_path()  # skip (or fail in CI) without chromium
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_PAPER", raising=False)
    path, _ = run_report({"database_url": database}, out=tmp_path, to="pdf")
    assert path.suffix == ".pdf" and path.read_bytes().startswith(b"%PDF-")
    assert path.stat().st_size > 20_000  # figures included
    assert pdf_size(path) == "A4"  # a German locale prints on A4
    pages = pdf_pages(path)
    for number, page in enumerate(pages, 1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[-1] == f"page {number} of {len(pages)}"
        if len(lines) == 1:
            continue  # a page of charts only (the flow section's), no text but its number
        assert lines[-2] not in SECTIONS, f"page {number} ends on the heading {lines[-2]!r}"
    headings = [line.strip() for page in pages for line in page.splitlines()]
    found = [h for h in headings if h in SECTIONS]
    assert found == sorted(found, key=SECTIONS.index)  # each once, in order
    assert set(SECTIONS) - set(found) <= {"Kinds of work and labels"}  # data without kinds
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / "report.pdf")


@pytest.mark.browser
def test_pdf_paper_follows_the_locale_or_the_option(database, tmp_path, monkeypatch):
    from tests.browser import chromium_path

    chromium_path()
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LC_PAPER", "en_US.UTF-8")
    values = {"database_url": database, "project": "Apollo"}
    letter, _ = run_report(values, out=tmp_path / "a", to="pdf")
    assert pdf_size(letter) == "letter"
    a4, _ = run_report(values, out=tmp_path / "b", to="pdf", paper="a4")
    assert pdf_size(a4) == "A4"


def _table(rows: int) -> dict:
    body = "".join(f"<tr><td>{i}</td></tr>" for i in range(rows))
    html = f"<table><thead><tr><th>n</th></tr></thead><tbody>{body}</tbody></table>"
    return {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}}


def _shown(*outputs: dict) -> dict:
    return {"cell_type": "code", "source": "", "metadata": {}, "outputs": list(outputs)}


def _markdown(text: str) -> dict:
    return {"output_type": "display_data", "data": {"text/markdown": text}, "metadata": {}}


def test_a_long_table_may_run_on_to_the_next_printed_page_and_a_short_one_moves_whole():
    """Every table was kept whole in print: a 20-row table that did not fit under a chart
    started the next page and left half of this one empty. A long table now runs on, its
    heading and introduction kept with it; a short one still moves whole."""
    from taskkit._report.page import render_page

    page = render_page(
        [
            _shown(_markdown("## Projects"), _markdown("Each project's tasks."), _table(20)),
            _shown(_table(20)),  # a long table with no heading of its own
            _shown(_markdown("## Kinds"), _markdown("Each kind."), _table(4)),
        ],
        title="t",
        show_code=False,
    )
    blocks = re.findall(r'<div class="(keep long|long|keep)">\s*(.{0,60})', page)
    assert [(cls, text[:26]) for cls, text in blocks] == [
        ("keep long", '<div class="output"><h2>Pr'),
        ("long", '<div class="output"><table'),
        ("keep", '<div class="output"><h2>Ki'),
    ]
    css = (Path(taskkit.__file__).parent / "_report" / "page.css").read_text()
    assert ".long, .long table { break-inside: auto; }" in css
