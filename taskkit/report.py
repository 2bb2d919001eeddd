"""The reproducible report: check its parameters, gather its data, run its notebook to HTML.

``notebooks/03-report.ipynb`` is the report. Its ``parameters`` cell names what a reader may
change; :func:`run_report` checks those values *before* anything runs (unknown names, bad
dates, a project that does not exist, an output directory that cannot be written), makes
sure the database has data (seeding the default dataset into an empty one), executes the
notebook with papermill and writes a standalone HTML file, code hidden, figures embedded.
The notebook itself calls :func:`report_data`, so the numbers it shows come from the data.
"""

import asyncio
import os
import platform
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from taskkit.db import DEFAULT_DATABASE_PATH, connect, database_url, ping, redact
from taskkit.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from taskkit.frames import to_dataframe
from taskkit.migrate import ensure_schema
from taskkit.models import Project, Task
from taskkit.query import (
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    worker_load,
)
from taskkit.seed import SeedSummary, seed

__all__ = [
    "PARAMETERS",
    "ReportData",
    "ReportParameters",
    "check_parameters",
    "report_data",
    "run_report",
]

PROJECT_ROOT = DEFAULT_DATABASE_PATH.parent.parent
NOTEBOOK = PROJECT_ROOT / "notebooks" / "03-report.ipynb"
DEFAULT_OUT = PROJECT_ROOT / "reports"

#: The report's parameters, with their meaning (the notebook's ``parameters`` cell).
PARAMETERS = {
    "database_url": "the database to report on (default: DATABASE_URL or data/taskkit.db)",
    "date_from": "first day of tasks to include, YYYY-MM-DD (default: the first task)",
    "date_to": "last day of tasks to include, YYYY-MM-DD (default: the last task)",
    "project": "a project name: report on that project only (default: all projects)",
}
PACKAGES = ("taskkit", "sqlmodel", "sqlalchemy", "pandas", "pyarrow", "matplotlib")


@dataclass(frozen=True)
class ReportParameters:
    """Checked report parameters."""

    database_url: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    project: str | None = None

    def as_notebook_parameters(self) -> dict[str, Any]:
        return {
            "database_url": self.database_url,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "project": self.project,
        }


def _day(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidArgumentError(
            f"{name} must be a date in the form YYYY-MM-DD, got {value!r}"
        ) from None


def check_parameters(values: dict[str, Any]) -> ReportParameters:
    """Check report parameters given by name (from ``--param NAME=VALUE`` or a notebook).

    Raises:
        InvalidArgumentError: an unknown name, a date that is not YYYY-MM-DD, ``date_from``
            after ``date_to``, a project name that is blank.
    """
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        allowed = "; ".join(f"{k}: {v}" for k, v in PARAMETERS.items())
        raise InvalidArgumentError(
            f"unknown report parameter(s) {', '.join(unknown)}; allowed: {allowed}"
        )
    start = _day("date_from", values.get("date_from"))
    end = _day("date_to", values.get("date_to"))
    if start and end and start > end:
        raise InvalidArgumentError(f"date_from ({start}) must not be after date_to ({end})")
    project = values.get("project")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise InvalidArgumentError(f"project must be a project name, got {project!r}")
    url = values.get("database_url")
    if url is not None:
        database_url(url)  # a clear error for a bad URL, password hidden
    return ReportParameters(database_url=url or None, date_from=start, date_to=end, project=project)


async def _check_project(engine: AsyncEngine, name: str | None) -> None:
    if name is None:
        return
    async with engine.connect() as conn:
        query = select(col(Project.name)).order_by(col(Project.name))
        names = list((await conn.execute(query)).scalars())
    if name not in names:
        shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
        raise NotFoundError(f"no project is named {name!r}; projects: {shown or 'none'}")


@dataclass
class ReportData:
    """What the report shows, as DataFrames and numbers computed from the data."""

    parameters: ReportParameters
    tasks: int
    open_tasks: int
    completed: int
    first_created: pd.Timestamp | None
    last_created: pd.Timestamp | None
    status_priority: pd.DataFrame
    weekly: pd.DataFrame
    cycle_days: pd.Series
    projects: pd.DataFrame
    workers: pd.DataFrame
    provenance: dict[str, str] = field(default_factory=dict)


async def report_data(engine: AsyncEngine, parameters: ReportParameters) -> ReportData:
    """Gather everything the report shows, inside the database where it can (aggregates).

    Raises:
        NotFoundError: the project parameter names no project.
    """
    await _check_project(engine, parameters.project)
    end = parameters.date_to
    tasks = select_tasks(
        project=parameters.project,
        created_from=parameters.date_from,
        # date_to is inclusive for readers: everything created before the next midnight.
        created_to=None if end is None else date.fromordinal(end.toordinal() + 1),
        order_by="id",
    )
    by_status = await to_dataframe(engine, status_priority_counts(tasks))
    weekly = await to_dataframe(engine, tasks_per_week(tasks))
    projects = await to_dataframe(engine, project_progress(tasks))
    workers = await to_dataframe(engine, worker_load(tasks))
    ids = tasks.subquery()
    times = await to_dataframe(
        engine, select(ids.c.created_at, ids.c.completed_at).where(ids.c.completed_at.is_not(None))
    )
    span = await to_dataframe(
        engine,
        select(func.min(ids.c.created_at).label("first"), func.max(ids.c.created_at).label("last")),
    )
    counts = by_status.groupby("status", observed=False)["tasks"].sum()
    total = int(counts.sum())
    cycle = (times["completed_at"] - times["created_at"]).dt.total_seconds() / 86_400
    return ReportData(
        parameters=parameters,
        tasks=total,
        open_tasks=int(counts["pending"] + counts["in_progress"]),
        completed=int(counts["completed"]),
        first_created=span["first"].iloc[0] if total else None,
        last_created=span["last"].iloc[0] if total else None,
        status_priority=by_status,
        weekly=weekly,
        cycle_days=cycle.rename("cycle time (days)"),
        projects=projects[projects["tasks"] > 0].reset_index(drop=True),
        workers=workers[workers["tasks"] > 0].reset_index(drop=True),
        provenance=provenance(engine),
    )


def provenance(engine: AsyncEngine) -> dict[str, str]:
    """Where the numbers come from: database, software versions, when."""
    shown = {"database": redact(engine.url.render_as_string(hide_password=True))}
    shown["dialect"] = f"{engine.dialect.name} (driver {engine.dialect.driver})"
    shown["generated at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    shown["python"] = platform.python_version()
    shown.update({name: version(name) for name in PACKAGES})
    return shown


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


async def _prepare(parameters: ReportParameters) -> SeedSummary | None:
    """Create the schema if needed and seed an empty database; check the project exists."""
    engine = connect(parameters.database_url)
    try:
        await ping(engine)
        await ensure_schema(engine)
        async with engine.connect() as conn:
            empty = not await conn.scalar(select(func.count()).select_from(Task))
        summary = await seed(engine, progress=False) if empty else None
        await _check_project(engine, parameters.project)
        return summary
    finally:
        await engine.dispose()


def _quiet_shutdown_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdown(AsyncKernelManager):
        """jupyter_client interrupts the kernel (SIGINT to its process group) before asking it
        to shut down; a kernel still finishing a message then logs "[IPKernelApp] ERROR |
        KeyboardInterrupt caught in kernel" after a successful report. When the notebook has
        run, there is nothing to interrupt: shut down without the signal."""

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return QuietShutdown


def run_report(
    values: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    notebook: Path = NOTEBOOK,
) -> tuple[Path, SeedSummary | None]:
    """Check the parameters, prepare the database, run the report notebook, write HTML.

    Args:
        values: report parameters by name (see :data:`PARAMETERS`); ``database_url`` defaults
            to ``DATABASE_URL`` or the SQLite file under ``data/``.
        out: the directory for the HTML file (created if needed; default ``reports/``).
        notebook: the report notebook.

    Returns:
        The path of the HTML file, and what was seeded (``None`` when the database had data).

    Raises:
        InvalidArgumentError: a bad parameter or output directory; nothing has run.
        NotFoundError: the project parameter names no project; nothing has run.
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
    url = database_url(parameters.database_url)
    parameters = ReportParameters(
        database_url=url,
        date_from=parameters.date_from,
        date_to=parameters.date_to,
        project=parameters.project,
    )
    seeded = asyncio.run(_prepare(parameters))
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
        kernel_manager_class=_quiet_shutdown_kernel_manager(),
    )
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    html, _ = exporter.from_notebook_node(nbformat.from_dict(executed))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = target / f"taskkit-report-{stamp}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # never a half-written report
    return path, seeded
