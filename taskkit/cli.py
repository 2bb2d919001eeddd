"""The ``taskkit`` command line. Each command is a thin wrapper over the async API."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import func, inspect
from sqlmodel import SQLModel, select

from taskkit import __version__
from taskkit.db import connect, create_db_and_tables, database_url, ping, redact
from taskkit.errors import TaskkitError
from taskkit.models import Project, Task, TaskWorkerLink, Worker

__all__ = ["main"]

T = TypeVar("T")

DB_OPTION = click.option(
    "--db",
    "url",
    metavar="URL",
    default=None,
    help="Database URL (default: $DATABASE_URL, else data/taskkit.db).",
)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; turn taskkit's deliberate errors into a one-line message and exit 1."""
    try:
        return asyncio.run(coro)
    except (TaskkitError, ValidationError) as exc:
        raise click.ClickException(redact(str(exc))) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="taskkit")
def cli() -> None:
    """taskkit: seed, query, paginate and analyse task data with SQLModel."""


@cli.command()
@DB_OPTION
def init(url: str | None) -> None:
    """Create the taskkit tables in the database if they do not exist."""

    async def go() -> None:
        engine = connect(url)
        try:
            await ping(engine)
            await create_db_and_tables(engine)
        finally:
            await engine.dispose()

    _run(go())
    click.echo(f"tables ready in {redact(database_url(url))}")


@cli.command()
@DB_OPTION
def info(url: str | None) -> None:
    """Show which database taskkit uses and how many rows each table holds."""

    async def go() -> dict[str, int | None]:
        engine = connect(url)
        try:
            await ping(engine)
            async with engine.connect() as conn:
                existing = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
                counts: dict[str, int | None] = {}
                for model in (Project, Worker, Task, TaskWorkerLink):
                    table = SQLModel.metadata.tables[model.__tablename__]  # type: ignore[index]
                    if table.name in existing:
                        counts[table.name] = await conn.scalar(
                            select(func.count()).select_from(table)
                        )
                    else:
                        counts[table.name] = None
                return counts
        finally:
            await engine.dispose()

    counts = _run(go())
    click.echo(f"database: {redact(database_url(url))}")
    for name, count in counts.items():
        click.echo(f"  {name:15s} {'(no table)' if count is None else f'{count:,} rows'}")


def main() -> None:
    """Entry point of the ``taskkit`` console script."""
    cli()
