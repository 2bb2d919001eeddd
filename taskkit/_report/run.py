"""Run the report: prepare the database, execute the notebook, write the HTML (or PDF) file."""

import asyncio
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from taskkit._checks import one_of
from taskkit._database.engine import connect, database_url
from taskkit._errors import ConfigurationError, InvalidArgumentError
from taskkit._optional import require_installed
from taskkit._report.data import check_project
from taskkit._report.database import prepare_database
from taskkit._report.parameters import ReportParameters, check_parameters
from taskkit._seed import SeedSummary

__all__ = ["FORMATS", "NOTEBOOK", "find_notebook", "report_stem", "run_report"]

HERE = Path(__file__).resolve().parent
#: The report notebook inside an installed wheel (copied there at build time).
NOTEBOOK = HERE / "03-report.ipynb"
#: The same notebook in a checkout, where it is edited and tested.
CHECKOUT_NOTEBOOK = HERE.parent.parent / "notebooks" / "03-report.ipynb"
FORMATS = ("html", "pdf")


def find_notebook() -> Path:
    """The report notebook: the wheel's copy, else the checkout's ``notebooks/``.

    Raises:
        ConfigurationError: neither is there.
    """
    for path in (NOTEBOOK, CHECKOUT_NOTEBOOK):
        if path.is_file():
            return path
    raise ConfigurationError(
        f"the report notebook is missing (looked for {str(NOTEBOOK)!r} and "
        f"{str(CHECKOUT_NOTEBOOK)!r}); reinstall taskkit"
    )


def _writable_directory(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"--out {str(out)!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".taskkit-", delete=True):
            pass
    except OSError as exc:
        raise InvalidArgumentError(
            f"--out {str(out)!r} is not a writable directory: {exc.strerror or exc}"
        ) from None
    return out


async def _prepare(url: str, project: str | None, *, may_seed: bool) -> SeedSummary | None:
    """Check the database (seeding it only when allowed), then that the project exists."""
    seeded = await prepare_database(url, may_seed=may_seed)
    engine = connect(url)
    try:
        await check_project(engine, project)
    finally:
        await engine.dispose()
    return seeded


def _slug(text: str) -> str:
    """``text`` as a piece of a file name: letters (any script), digits, ``.``, ``_`` and
    ``-`` kept, any other run of characters one ``_``, at most 60 characters."""
    return re.sub(r"[^\w.-]+", "_", text).strip("._")[:60] or "_"


def report_stem(parameters: ReportParameters, at: datetime) -> str:
    """The report's file name without suffix: the time, then the scope (project and dates),
    so that reports of different scopes made in the same second have different names:
    ``taskkit-report-20260101-000000-project-Apollo-2025-03-05-to-2025-10-20``."""
    scope = [f"project-{_slug(parameters.project)}" if parameters.project else "all-projects"]
    if parameters.date_from or parameters.date_to:
        scope.append(f"{parameters.date_from or 'first'}-to-{parameters.date_to or 'last'}")
    return f"taskkit-report-{at:%Y%m%d-%H%M%S}-{'-'.join(scope)}"


def _write_new(target: Path, stem: str, suffix: str, content: bytes) -> Path:
    """Write ``content`` under a name no other file has, and return its path: ``stem`` +
    ``suffix``, else ``stem-2`` + ``suffix``, ``-3``... A file that holds exactly ``content``
    already is this same report: its path is returned and nothing is written. Never
    overwrites, never leaves a half-written report (the file appears whole, by a hard link)."""
    tmp = target / f".{stem}.{os.getpid()}.tmp"
    tmp.write_bytes(content)
    try:
        number = 1
        while True:
            path = target / f"{stem}{'' if number == 1 else f'-{number}'}{suffix}"
            try:
                os.link(tmp, path)  # fails if the name is taken, even by a report made now
                return path
            except FileExistsError:
                if path.is_file() and path.read_bytes() == content:
                    return path
            number += 1
    finally:
        tmp.unlink(missing_ok=True)


# What running the report imports (the notebook in-process or in a kernel, its charts and page).
REPORT_MODULES = ("IPython", "nbclient", "ipykernel", "mistune", "matplotlib")


def run_report(
    values: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    seed: bool = False,
    show_code: bool = False,
    to: str = "html",
    command: str | None = None,
    notebook: Path | None = None,
    paper: str | None = None,
) -> tuple[Path, SeedSummary | None]:
    """Check the parameters, prepare the database, run the report notebook, write the page.

    It starts event loops of its own (the preparation, the notebook, Chromium for a PDF): call
    it where none is running, or through ``_run_sync.off_running_loop``, as ``taskkit
    report`` does.

    Args:
        values: report parameters by name (see :data:`PARAMETERS`); ``database_url`` defaults
            to ``DATABASE_URL`` or the default database.
        out: the directory for the report (created if needed; default ``reports/`` in the
            current directory).
        seed: fill an empty database (or create a missing SQLite file) with the synthetic
            dataset first. The default database is filled when empty without asking; any
            other database is only read unless ``seed`` is true, and one that holds tables
            that are not taskkit's is never written to.
        show_code: keep the notebook's code in the page.
        to: ``html`` (one self-contained file) or ``pdf`` (printed by headless Chromium).
        command: the command line that asked for the report, recorded in its provenance
            (default: an equivalent ``taskkit report`` command).
        notebook: the report notebook (default: :func:`find_notebook`).
        paper: the PDF's paper, ``a4`` or ``letter`` (default: as the locale says, else A4;
            see :func:`taskkit._report.pdf.choose_paper`). Pages are numbered.

    Returns:
        The path of the report, and what was seeded (``None`` when nothing was written).
        The file is named by its time and scope (:func:`report_stem`); an existing file is
        never overwritten: a different report of the same name gets the next free number
        (``-2``, ``-3``...), and the same report (same bytes) is not written twice. With
        ``SOURCE_DATE_EPOCH`` set, the report's time (and file name) come from it, and two runs
        on the same data write the same bytes.

    Raises:
        InvalidArgumentError: a bad parameter, format, paper, output directory or
            ``SOURCE_DATE_EPOCH``; nothing has run.
        NotFoundError: the project parameter names no project, or the database has no
            tasks (or the SQLite file does not exist) and ``seed`` is false; nothing has run.
        DatabaseNotEmptyError: the database holds tables that are not taskkit's and would
            need writing; nothing was written.
        ConfigurationError: the report notebook is missing, or ``pdf`` without Chromium.
        MissingExtraError: the ``report`` extra is not installed.
    """
    import json

    for module in REPORT_MODULES:  # before anything runs: one line naming the extra
        # Looked for, not imported: the kernel's modules (nbclient, ipykernel) are imported
        # only when the notebook runs in a kernel, and nbclient alone costs over a second.
        require_installed(module, extra="report", feature="the report")
    from taskkit._report.execute import execute_notebook
    from taskkit._report.page import render_page
    from taskkit._report.present import title
    from taskkit._report.provenance import generated_at

    one_of("report format", to, FORMATS)
    from taskkit._report.pdf import choose_paper

    if paper is not None and to != "pdf":
        raise InvalidArgumentError(
            f"paper is for the PDF format only (--format pdf); got paper={paper!r} with "
            f"format {to!r}"
        )
    paper, _ = choose_paper(paper)
    generated_at()  # a SOURCE_DATE_EPOCH that cannot be used is refused before anything runs
    source = notebook or find_notebook()
    if not source.is_file():
        raise ConfigurationError(f"the report notebook {str(source)!r} is missing")
    parameters = check_parameters(dict(values or {}))
    target = _writable_directory(Path(out) if out is not None else Path.cwd() / "reports")
    # The default database (no URL given, no DATABASE_URL) is the user's taskkit scratch
    # space: filled when empty. Anything the user pointed at is theirs: filled only on request.
    default = parameters.database_url is None and not os.environ.get("DATABASE_URL")
    url = database_url(parameters.database_url)
    parameters = ReportParameters(
        database_url=url,
        date_from=parameters.date_from,
        date_to=parameters.date_to,
        project=parameters.project,
    )
    seeded = asyncio.run(_prepare(url, parameters.project, may_seed=seed or default))
    executed = execute_notebook(
        json.loads(source.read_text(encoding="utf-8")),
        {**parameters.as_notebook_parameters(), "command": command},
    )
    html = render_page(executed["cells"], title=title(parameters), show_code=show_code)
    stem = report_stem(parameters, generated_at())
    if to == "pdf":
        from taskkit._report.pdf import print_pdf

        return _write_new(target, stem, ".pdf", print_pdf(html, paper=paper)), seeded
    return _write_new(target, stem, ".html", html.encode("utf-8")), seeded
