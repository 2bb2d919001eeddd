"""The report as a deliverable: right tables, self-contained, reproducible, named, recorded.

One small database (2,000 tasks) serves every test; most share one report run.
"""

import asyncio
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import taskkit
from taskkit._report import run_report
from taskkit._report.data import whole_weeks
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
    assert "in_progress" not in html and "completed_share" not in html
    assert "<th>in progress</th>" in html and "completed share" in html
    assert re.search(r"<td>\d{1,3}%</td>", html)  # shares as percentages
    assert re.search(r"<td>\d+\.\d days</td>", html)  # days with one decimal
    assert not re.search(r"<td>\d+\.\d{2,}</td>", html)  # no raw floats such as 0.946


def test_weekly_chart_covers_whole_weeks_only(page):
    html = page.read_text(encoding="utf-8")
    # 2025-03-05 is a Wednesday, 2025-10-20 a Monday: the whole weeks run 10 Mar to 19 Oct.
    assert "Whole weeks only (Monday to Sunday, UTC), 10 Mar 2025 to 19 Oct 2025" in html


def test_whole_weeks_drops_partial_weeks_at_both_ends():
    weeks = pd.DataFrame(
        {"created": [1, 2, 3, 4]},
        index=pd.to_datetime(["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24"]),
    )
    kept = whole_weeks(weeks, date(2025, 3, 5), date(2025, 3, 29))
    assert list(kept["created"]) == [2, 3]
    assert list(whole_weeks(weeks, date(2025, 3, 3), date(2025, 3, 30))["created"]) == [1, 2, 3, 4]


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
            # Nothing wider than the screen but the figures, which scroll in their own box.
            wide = tab.evaluate(
                "[...document.querySelectorAll('main > *')].filter("
                "e => e.getBoundingClientRect().right > window.innerWidth + 1).length"
            )
            assert wide == 0
            tab.screenshot(path=str(SCREENSHOTS / f"report-{width}.png"), full_page=True)


@pytest.mark.browser
def test_pdf_format_prints_the_report(database, tmp_path):
    from tests.browser import chromium_path

    chromium_path()  # skip (or fail in CI) without chromium
    path, _ = run_report({"database_url": database, "project": "Apollo"}, out=tmp_path, to="pdf")
    assert path.suffix == ".pdf" and path.read_bytes().startswith(b"%PDF-")
    assert path.stat().st_size > 20_000  # figures included
