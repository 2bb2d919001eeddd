"""The report: parameters checked before anything runs, then a standalone HTML file."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from taskkit import InvalidArgumentError, NotFoundError, cli
from taskkit._report import check_parameters, run_report


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"colour": "red"}, "unknown report parameter(s) colour; allowed: database_url"),
        (
            {"date_from": "2025-13-01"},
            "date_from must be a date in the form YYYY-MM-DD, got '2025-13-01'",
        ),
        ({"date_to": "yesterday"}, "date_to must be a date in the form YYYY-MM-DD"),
        ({"date_from": "2025-10-01", "date_to": "2025-09-01"}, "must not be after date_to"),
        ({"project": "  "}, "project must be a project name"),
        ({"database_url": "mysql://u:hunter2@h/db"}, "unsupported database URL scheme 'mysql'"),
    ],
)
def test_bad_parameters_are_refused(values, message):
    with pytest.raises(InvalidArgumentError) as info:
        check_parameters(values)
    assert message in str(info.value)
    assert "hunter2" not in str(info.value)


def test_parameters_are_parsed():
    checked = check_parameters(
        {"date_from": "2025-06-01", "date_to": "2025-06-30", "project": "Apollo"}
    )
    assert checked.as_notebook_parameters() == {
        "database_url": None,
        "date_from": "2025-06-01",
        "date_to": "2025-06-30",
        "project": "Apollo",
    }


def test_an_out_path_that_is_a_file_is_refused(tmp_path):
    a_file = tmp_path / "report.html"
    a_file.write_text("x")
    with pytest.raises(InvalidArgumentError, match="exists and is not a directory"):
        run_report({}, out=a_file)


def test_an_out_path_that_cannot_be_created_is_refused():
    # /proc refuses new directories even to root, so this holds wherever the suite runs.
    with pytest.raises(InvalidArgumentError, match="'/proc/taskkit-reports' is not a writable"):
        run_report({}, out="/proc/taskkit-reports")


def test_an_out_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is not a writable directory"):
        run_report({}, out=tmp_path / "plain" / "reports")


def test_a_project_that_does_not_exist_is_refused_before_the_notebook_runs(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(NotFoundError, match=r"no project is named 'Nope'; projects: 'Apollo'"):
        run_report({"database_url": url, "project": "Nope"}, out=tmp_path / "out", seed=True)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_report_seeds_an_empty_database_and_writes_standalone_html(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    path, seeded = run_report({"database_url": url}, out=tmp_path / "out", seed=True)
    assert seeded is not None and seeded.tasks == 10_000
    html = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "out" and path.suffix == ".html"
    assert "<title>Task report: all projects, all dates</title>" in html
    assert "This report covers <strong>10,000 tasks</strong> created between" in html
    # Figures embedded: four, and the flow section's five (throughput, cycle times, ageing
    # work in progress, cumulative flow, forecast: the seed records when work started).
    assert len(re.findall(r'<img src="data:image/svg\+xml;base64,', html)) == 9
    assert "data:image/png" not in html  # no chart drawn twice
    assert "import taskkit" not in html  # code hidden
    assert "sqlite+aiosqlite:///" in html and "generated at" in html  # provenance
    # a second run reuses the data
    again, seeded_again = run_report(
        {"database_url": url, "project": "Apollo"}, out=tmp_path / "out"
    )
    assert seeded_again is None
    assert "<h1>Task report: project Apollo, all dates</h1>" in again.read_text(encoding="utf-8")


def test_cli_report_seeds_the_empty_default_database_and_says_so(tmp_path, monkeypatch):
    # The default database is data/taskkit.db of the project: here, a directory of the test's
    # own (no pyproject.toml above it, so the current directory is the project).
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": None}
    default = tmp_path / "data" / "taskkit.db"
    url = f"sqlite:///{default}"
    runner = CliRunner(env=env)
    bad = runner.invoke(cli, ["report", "--db", url, "--param", "date_from=soon"])
    assert bad.exit_code == 1 and "date_from must be a date" in bad.output
    malformed = runner.invoke(cli, ["report", "--param", "no-equals-sign"])
    assert malformed.exit_code == 2 and "expected NAME=VALUE" in malformed.output
    twice = runner.invoke(cli, ["report", "--db", url, "--param", f"database_url={url}"])
    assert twice.exit_code == 2
    good = runner.invoke(
        cli, ["report", "--out", str(tmp_path / "o"), "--param", "date_from=2025-06-01"]
    )
    assert good.exit_code == 0, good.output
    assert "the default database was empty: seeded 10,000 tasks" in good.output
    assert str(default) in good.output
    printed = Path(good.output.strip().splitlines()[-1])
    assert printed.is_file() and printed.parent == tmp_path / "o"
    assert "created between 01 Jun 2025" in printed.read_text(encoding="utf-8")


def test_a_missing_report_notebook_is_a_clear_error(tmp_path):
    from taskkit import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"report notebook .* is missing"):
        run_report({}, out=tmp_path, notebook=tmp_path / "nope.ipynb")


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(InvalidArgumentError, match="report format must be one of html, pdf"):
        run_report({}, out=tmp_path, to="docx")


# --- Values at the edges, refused or served in one line (issue 25 item 8) --------------------


@pytest.mark.parametrize("epoch", ["253402300800", "²", "abc", "-1", "1e10", "12.5", "0x10"])
def test_a_source_date_epoch_no_timestamp_holds_is_refused_in_one_line(tmp_path, epoch):
    """Before: 253402300800 and ² raised ValueError; abc, -1 and 1e10 were ignored, so the
    report silently stopped being reproducible."""
    runner = CliRunner(env={"SOURCE_DATE_EPOCH": epoch})
    missing = f"sqlite:///{tmp_path / 'none.db'}"  # refused before the database is looked at
    result = runner.invoke(cli, ["report", "--db", missing, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output == (
        "Error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC, from 0 "
        "to 253402300799 (9999-12-31 23:59:59), in digits as `date +%s` writes it; got "
        f"{epoch!r} (unset it, or leave it empty, to use the current time)\n"
    )
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_the_last_day_a_date_holds_is_a_date_to_like_any_other(tmp_path):
    """Before: `--param date_to=9999-12-31` raised OverflowError (the day after it)."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner(env={"SOURCE_DATE_EPOCH": "253402300799"})  # the last second it holds
    seeded = runner.invoke(cli, ["seed", "--tasks", "300", "--db", url, "--no-progress"])
    assert seeded.exit_code == 0, seeded.output
    args = ["report", "--db", url, "--out", str(tmp_path / "o"), "--param"]
    result = runner.invoke(cli, [*args, "date_to=9999-12-31"])
    assert result.exit_code == 0, result.output
    page = Path(result.output.strip().splitlines()[-1])
    assert page.name == "taskkit-report-99991231-235959-all-projects-first-to-9999-12-31.html"
    html = page.read_text(encoding="utf-8")
    assert "This report covers <strong>300 tasks</strong>" in html
    assert "<td>9999-12-31 23:59:59 UTC</td>" in html  # generated at


# --- The page and the PDF (issue 28) ---------------------------------------------------------


def test_a_heading_and_its_introduction_stay_with_the_chart_or_table_they_introduce():
    """Before, only CSS kept headings on the page of their content, which Chromium's print did
    not honour: "Projects" and "Who carries the open work" ended pages of the PDF."""
    from taskkit._report.page import render_page

    def shown(data: dict[str, str]) -> dict[str, object]:
        return {"output_type": "display_data", "data": data, "metadata": {}}

    cell = {
        "cell_type": "code",
        "source": "",
        "metadata": {},
        "outputs": [
            shown({"text/markdown": "## Projects"}),
            shown({"text/markdown": "Some tasks have no project."}),
            shown({"text/html": "<table><tr><td>1</td></tr></table>"}),
            shown({"text/markdown": "A sentence after the table."}),
            shown({"text/markdown": "## Provenance"}),
            shown({"text/markdown": "What this was computed from."}),
        ],
    }
    keeps = blocks_kept_together(render_page([cell], title="t", show_code=False))
    assert keeps == [
        ["h2: Projects", "p: Some tasks have no project.", "td: 1"],
        ["h2: Provenance", "p: What this was computed from."],
    ]


def blocks_kept_together(page: str) -> list[list[str]]:
    """The elements inside each ``div.keep`` of ``page``, as ``tag: text``."""
    from html.parser import HTMLParser

    class Keeps(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0  # divs open inside the current keep (0: outside any)
            self.keeps: list[list[str]] = []
            self.tag = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "div" and ("class", "keep") in attrs:
                self.keeps.append([])
                self.depth = 1
            elif tag == "div" and self.depth:
                self.depth += 1
            self.tag = tag

        def handle_endtag(self, tag: str) -> None:
            if tag == "div" and self.depth:
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth and data.strip():
                self.keeps[-1].append(f"{self.tag}: {data.strip()}")

    parser = Keeps()
    parser.feed(page)
    return parser.keeps


@pytest.mark.parametrize(
    ("env", "paper", "said"),
    [
        ({"LANG": "en_US.UTF-8"}, "letter", "US Letter paper (from LANG=en_US.UTF-8"),
        ({"LANG": "de_DE.UTF-8"}, "a4", "A4 paper (from LANG=de_DE.UTF-8"),
        ({"LANG": "de_DE.UTF-8", "LC_PAPER": "es_MX.UTF-8"}, "letter", "from LC_PAPER=es_MX"),
        ({"LC_ALL": "fr_CA.UTF-8", "LC_PAPER": "de_DE"}, "letter", "from LC_ALL=fr_CA.UTF-8"),
        ({"LANG": "en_GB"}, "a4", "A4 paper (from LANG=en_GB"),
        ({"LANG": "C.UTF-8"}, "a4", "A4 paper (LANG=C.UTF-8 names no country"),
        ({}, "a4", "A4 paper (no locale set names no country"),
    ],
)
def test_the_pdf_paper_follows_the_locale_and_says_why(env, paper, said):
    from taskkit._report.pdf import choose_paper

    chosen, why = choose_paper(None, env)
    assert chosen == paper and said in why
    assert choose_paper("a4", {"LANG": "en_US.UTF-8"}) == ("a4", "A4 paper (as asked)")


def test_a_paper_is_for_the_pdf_only_and_must_be_a_known_one(tmp_path):
    with pytest.raises(InvalidArgumentError, match="paper is for the PDF format only"):
        run_report({}, out=tmp_path, paper="a4")
    with pytest.raises(InvalidArgumentError, match="paper must be one of a4, letter; got 'a5'"):
        run_report({}, out=tmp_path, to="pdf", paper="a5")
    result = CliRunner().invoke(cli, ["report", "--paper", "a5"])
    assert result.exit_code == 2 and "'a5' is not one of 'a4', 'letter'" in result.output


@pytest.mark.slow
def test_a_report_run_in_process_imports_no_kernel_machinery(tmp_path):
    """Before, checking that the report's extra was installed imported nbclient, and with it
    jsonschema and its grammars: over a second of CPU in every `taskkit report` (2.2x to 2.6x
    its import floor where the target was 2x), for a kernel the in-process run never starts."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'r.db'}"
    code = (
        "import sys; from taskkit._report import run_report; "
        f"run_report({{'database_url': {url!r}}}, out={str(tmp_path / 'o')!r}, seed=True); "
        "print(sorted(m for m in ('nbclient', 'jsonschema', 'ipykernel') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_stored_report_notebook_shows_its_charts_where_jupyterlab_does_not_trust_it():
    """JupyterLab draws no SVG from a notebook it does not trust (one opened with its outputs
    stored): run in a Jupyter kernel (as notebooks/rerun.py runs it), each chart carries a PNG
    as well, which `taskkit report`'s own run leaves out (above)."""
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "03-report.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    charts = [
        output["data"]
        for cell in cells
        for output in cell.get("outputs", [])
        if "image/svg+xml" in output.get("data", {})
    ]
    assert len(charts) == 9
    assert all(chart["image/png"] and chart["text/plain"] for chart in charts)
