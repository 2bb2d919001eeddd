"""Run the report: prepare the database, execute the notebook, write the HTML file."""

import asyncio
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taskkit.db import connect, database_url
from taskkit.errors import ConfigurationError, InvalidArgumentError
from taskkit.report.data import check_project
from taskkit.report.database import prepare_database
from taskkit.report.parameters import ReportParameters, check_parameters
from taskkit.seed import SeedSummary

__all__ = ["DEFAULT_OUT", "NOTEBOOK", "run_report"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOK = PROJECT_ROOT / "notebooks" / "03-report.ipynb"
DEFAULT_OUT = PROJECT_ROOT / "reports"
TEMPLATES = Path(__file__).resolve().parent / "templates"


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


def run_report(
    values: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    seed: bool = False,
    notebook: Path = NOTEBOOK,
) -> tuple[Path, SeedSummary | None]:
    """Check the parameters, prepare the database, run the report notebook, write HTML.

    Args:
        values: report parameters by name (see :data:`PARAMETERS`); ``database_url`` defaults
            to ``DATABASE_URL`` or the SQLite file under ``data/``.
        out: the directory for the HTML file (created if needed; default ``reports/``).
        seed: fill an empty database (or create a missing SQLite file) with the synthetic
            dataset first. The default database is filled when empty without asking; any
            other database is only read unless ``seed`` is true, and one that holds tables
            that are not taskkit's is never written to.
        notebook: the report notebook.

    Returns:
        The path of the HTML file, and what was seeded (``None`` when the database had data).

    Raises:
        InvalidArgumentError: a bad parameter or output directory; nothing has run.
        NotFoundError: the project parameter names no project, or the database has no
            tasks (or the SQLite file does not exist) and ``seed`` is false; nothing has run.
        DatabaseNotEmptyError: the database holds tables that are not taskkit's and would
            need writing; nothing was written.
        ConfigurationError: the report notebook is not there (an installed copy without the
            repository).
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    if not notebook.is_file():
        # The notebook lives in the repository (notebooks/), not in an installed wheel.
        raise ConfigurationError(
            f"the report notebook {str(notebook)!r} is missing; run taskkit report from a "
            "checkout of the taskkit repository (uv run taskkit report)"
        )
    parameters = check_parameters(dict(values or {}))
    target = _writable_directory(Path(out) if out is not None else DEFAULT_OUT)
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
    executed = papermill.execute_notebook(
        str(notebook),
        None,
        parameters=parameters.as_notebook_parameters(),
        cwd=str(notebook.parent),
        progress_bar=False,
        kernel_name="python3",
        # The kernel talks to us over loopback only; its "TCP without encryption" warning
        # would be the only line a user sees besides the report's path.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="taskkit",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    html, _ = exporter.from_notebook_node(nbformat.from_dict(executed))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = target / f"taskkit-report-{stamp}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # never a half-written report
    return path, seeded
