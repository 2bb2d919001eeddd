"""Where a report's numbers come from, recorded so that it can be made again.

The exact command, every parameter, the database (password hidden, never shortened), its
schema revision and row counts, a fingerprint of the data read, the software versions and the
time. ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) fixes the time, so that two
runs on the same data give the same bytes.
"""

import hashlib
import os
import platform
import shlex
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from taskkit._database.engine import redact
from taskkit._database.messages import shown_url
from taskkit._errors import InvalidArgumentError
from taskkit._migrate import connection_revision
from taskkit._models import Project, Task, TaskWorkerLink, Worker
from taskkit._report.parameters import ReportParameters

__all__ = ["LAST_EPOCH", "equivalent_command", "fingerprint", "generated_at", "provenance"]

PACKAGES = ("taskkit", "pandas", "sqlalchemy", "sqlmodel", "pyarrow", "matplotlib")


#: The largest SOURCE_DATE_EPOCH a report can show: 9999-12-31 23:59:59 UTC.
LAST_EPOCH = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def generated_at() -> datetime:
    """``SOURCE_DATE_EPOCH`` as a UTC time when it is set (and not empty), else now.

    Raises:
        InvalidArgumentError: ``SOURCE_DATE_EPOCH`` is not a whole number of seconds from 0 to
            253402300799 (9999-12-31 23:59:59 UTC), written in ASCII digits as ``date +%s``
            writes it. The reproducible-builds specification asks a build to fail on such a
            value rather than ignore it: the output would silently stop being reproducible.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    epoch = raw.strip()
    if not epoch:
        return datetime.now(UTC)
    if epoch.isascii() and epoch.isdigit() and int(epoch) <= LAST_EPOCH:
        return datetime.fromtimestamp(int(epoch), UTC)
    raise InvalidArgumentError(
        "SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC, from 0 to "
        f"{LAST_EPOCH} (9999-12-31 23:59:59), in digits as `date +%s` writes it; got {raw!r} "
        "(unset it, or leave it empty, to use the current time)"
    )


def equivalent_command(parameters: ReportParameters, database: str | None) -> str:
    """A ``taskkit report`` command line that makes the same report."""
    words = ["taskkit", "report"]
    if database:
        words += ["--db", database]
    for name, value in parameters.as_notebook_parameters().items():
        if name != "database_url" and value is not None:
            words += ["--param", f"{name}={value}"]
    return shlex.join(words)


def fingerprint(frames: list[Any]) -> str:
    """A SHA-256 over the values of the frames (and series) the report was computed from."""
    digest = hashlib.sha256()
    for frame in frames:
        names = list(frame.columns) if isinstance(frame, pd.DataFrame) else [frame.name]
        digest.update(repr(names).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


async def _database_facts(conn: AsyncConnection) -> dict[str, str]:
    if conn.dialect.name == "sqlite":
        server = "SQLite " + str(await conn.scalar(text("SELECT sqlite_version()")))
    else:
        server = "PostgreSQL " + str(await conn.scalar(text("SHOW server_version")))
    rows = {}
    for label, model in (
        ("tasks", Task),
        ("projects", Project),
        ("workers", Worker),
        ("assignments", TaskWorkerLink),
    ):
        rows[label] = await conn.scalar(select(func.count()).select_from(model))
    counts = ", ".join(f"{n:,} {label}" for label, n in rows.items())
    return {"server": f"{server} (driver {conn.dialect.driver})", "rows": counts}


async def provenance(
    conn: AsyncConnection,
    parameters: ReportParameters,
    *,
    command: str | None,
    tasks: int,
    data: str,
) -> dict[str, str]:
    """What the report was computed from, item by item (see the module's description), read
    on ``conn``, in the transaction the report's data was read in."""
    database = shown_url(conn.engine.url)
    facts = await _database_facts(conn)
    shown = {
        "command": redact(command) if command else equivalent_command(parameters, database),
        "database": database,
        "date_from": str(parameters.date_from or "(first task)"),
        "date_to": str(parameters.date_to or "(last task)"),
        "project": parameters.project if parameters.project is not None else "(all projects)",
        "schema revision": str(await connection_revision(conn)),
        "rows in the database": facts["rows"],
        "tasks in this report": f"{tasks:,}",
        "data fingerprint": data,
        "database server": facts["server"],
        "python": platform.python_version(),
    }
    shown.update({name: version(name) for name in PACKAGES})
    shown["generated at"] = generated_at().strftime("%Y-%m-%d %H:%M:%S UTC")
    return shown
