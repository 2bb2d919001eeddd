"""The ``taskkit`` command line. Each command is a thin wrapper over the async API."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from taskkit._errors import TaskkitError
from taskkit._importers.options import ImportOptions  # light: no Arrow, pandas or models

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from taskkit._importers.load import PreparedImport
    from taskkit._importers.summary import LoadSummary
    from taskkit._seed import SeedSummary

# Each command imports what it uses: `taskkit --help` loads click, not pandas, SQLAlchemy,
# Alembic and pydantic (seconds of start-up on a small machine).

__all__ = ["cli", "main"]

T = TypeVar("T")

DB_OPTION = click.option(
    "--db",
    "url",
    metavar="URL",
    default=None,
    help="Database URL (default: $DATABASE_URL, else the project's data/taskkit.db).",
)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; turn taskkit's deliberate errors into a one-line message and exit 1."""
    from pydantic import ValidationError

    from taskkit._database.engine import redact
    from taskkit._run_sync import run_sync

    _imports_done()
    try:
        return run_sync(coro)  # also inside a running event loop (a notebook's cell)
    except (TaskkitError, ValidationError) as exc:
        raise click.ClickException(redact(str(exc))) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="taskkit", prog_name="taskkit")
def cli() -> None:
    """taskkit: seed, query, paginate and analyse task data with SQLModel.

    \f
    The click group behind the ``taskkit`` command (its commands: ``init``, ``info``, ``seed``,
    ``import``, ``report`` and the ``db`` group). Run it from Python with click's ``CliRunner``
    (``CliRunner().invoke(taskkit.cli, ["seed", "--tasks", "100"])``), in a notebook's cell
    too, or add it to a click application of your own. As on the command line, a failure is a
    one-line message and an exit status: 1 an error, 2 a wrong option or argument, 3 an import
    that skipped rows.
    """


@cli.command()
@DB_OPTION
def init(url: str | None) -> None:
    """Create the taskkit tables (through migrations), or upgrade them to the latest schema."""
    import taskkit._migrate as migrate

    async def go(engine: AsyncEngine) -> str:
        return await migrate.ensure_schema(engine)

    revision = _run(_db_call(url, go, writing="create taskkit's tables"))
    click.echo(f"tables ready in {_db_shown(url)} (revision {revision})")


@cli.command()
@DB_OPTION
def info(url: str | None) -> None:
    """Show which database taskkit uses and how many rows each of its tables holds."""
    from sqlalchemy import func, inspect
    from sqlmodel import SQLModel, select

    import taskkit._models  # noqa: F401  (registers every taskkit table)
    from taskkit._bulk_parts import TABLES

    async def go(engine: AsyncEngine) -> dict[str, int | None]:
        async with engine.connect() as conn:
            existing = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            counts: dict[str, int | None] = {}
            for name in TABLES:  # taskkit's tables (not a notebook's own), referenced first
                table = SQLModel.metadata.tables[name]
                if table.name in existing:
                    counts[table.name] = await conn.scalar(select(func.count()).select_from(table))
                else:
                    counts[table.name] = None
            return counts

    counts = _run(_db_call(url, go))
    click.echo(f"database: {_db_shown(url)}")
    width = max(map(len, counts))
    for name, count in counts.items():
        click.echo(f"  {name:{width}s}  {'(no table)' if count is None else f'{count:,} rows'}")


# ---------------------------------------------------------------------------------------------
# taskkit seed / import: data in (taskkit.seed, taskkit.load).
COUNT = click.IntRange(0)  # the upper bound (taskkit.seed.MAX_ROWS) is checked by seed()


def _choices(field: str) -> list[str]:
    """The values ``taskkit import`` offers for one of :class:`ImportOptions`' fields."""
    return [value for value in ImportOptions.CHOICES[field] if value is not None]


PROGRESS_OPTION = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (default: only on a terminal).",
)


@cli.command()
@click.option("--tasks", type=COUNT, default=10_000, show_default=True, help="Tasks to create.")
@click.option("--projects", type=COUNT, default=20, show_default=True, help="Projects (0: none).")
@click.option("--workers", type=COUNT, default=50, show_default=True, help="Workers (0: none).")
@click.option(
    "--seed", "seed_value", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
    help="Random seed: the same arguments give the same rows.",
)  # fmt: skip
@click.option("--reset", is_flag=True, help="Replace the data the database holds.")
@PROGRESS_OPTION
@DB_OPTION
def seed(
    tasks: int,
    projects: int,
    workers: int,
    seed_value: int,
    reset: bool,
    progress: bool | None,
    url: str | None,
) -> None:
    """Fill the database with deterministic, realistic synthetic task data.

    All of it is written in one transaction: interrupted, the database stays as it was. A
    database that already holds data is refused unless --reset is given.
    """
    import taskkit._migrate as migrate
    from taskkit._seed import seed as seed_database

    async def go(engine: AsyncEngine) -> SeedSummary:
        await migrate.ensure_schema(engine)
        return await seed_database(
            engine,
            tasks=tasks,
            projects=projects,
            workers=workers,
            seed=seed_value,
            reset=reset,
            progress=progress,
        )

    summary = _run(_db_call(url, go, writing="seed"))
    click.echo(f"{summary} into {_db_shown(url)}")
    _DONE.append(True)


@cli.command("import")
@click.argument("source", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--from",
    "format_",
    type=click.Choice(_choices("format")),
    default=None,
    help="The export's format (default: detected from the header or JSON shape).",
)
@click.option(
    "--map",
    "columns",
    multiple=True,
    metavar="COLUMN=FIELD",
    help='A source column for a taskkit field, e.g. --map "Summary=title".',
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="VALUE=STATUS",
    help='e.g. --status "Blocked=in_progress" (pending, in_progress, completed).',
)
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    metavar="VALUE=PRIORITY",
    help='e.g. --priority "Blocker=high" (low, medium, high).',
)
@click.option(
    "--resolution",
    "resolutions",
    multiple=True,
    metavar="VALUE=RESOLUTION",
    help="How a completed task ended, for a resolution or status the format does not know, "
    'e.g. --resolution "Ready for Release=done" (done, wont_do, duplicate, cancelled).',
)
@click.option(
    "--workers-separator",
    metavar="TEXT",
    default=None,
    help="What separates worker names in one cell (default: the format's).",
)
@click.option(
    "--mapping",
    "mapping_file",
    metavar="FILE.toml",
    type=click.Path(exists=True, dir_okay=False),
    help="Column, status and priority mappings in a TOML file (see docs/importing.md).",
)
@click.option(
    "--on-error",
    type=click.Choice(_choices("on_error")),
    default="raise",
    show_default=True,
    help="raise: any bad row stores nothing; skip: store the good rows, list the bad ones "
    "(exit status 3 when rows were skipped).",
)
@click.option(
    "--dayfirst",
    "date_order",
    flag_value="dayfirst",
    default=None,
    help="Read dates like 06-09-2024 as 6 September.",
)
@click.option(
    "--monthfirst",
    "date_order",
    flag_value="monthfirst",
    help="Read dates like 06-09-2024 as June 9.",
)
@click.option(
    "--tz",
    default="UTC",
    show_default=True,
    metavar="ZONE",
    help="The zone of times written without an offset, e.g. Europe/Berlin.",
)
@click.option(
    "--long-titles",
    type=click.Choice(_choices("long_titles")),
    default="refuse",
    show_default=True,
    help="Titles over 512 characters: refuse the rows or cut them.",
)
@click.option(
    "--open-completed",
    type=click.Choice(_choices("open_completed")),
    default="refuse",
    show_default=True,
    help="A completed date or a resolution on a task whose status is open: refuse, or drop them.",
)
@click.option(
    "--archived",
    type=click.Choice(_choices("archived")),
    default="cancelled",
    show_default=True,
    help="Trello: an archived card outside a done list becomes a completed task resolved "
    "cancelled (archived undone) or done (boards where archiving finishes a card), or is "
    "left out (skip). Archived cards in a done list are completed as that list says.",
)
@PROGRESS_OPTION
@DB_OPTION
def import_(
    source: str,
    format_: str | None,
    columns: tuple[str, ...],
    statuses: tuple[str, ...],
    priorities: tuple[str, ...],
    resolutions: tuple[str, ...],
    workers_separator: str | None,
    mapping_file: str | None,
    on_error: Literal["raise", "skip"],  # click.Choice gives only these: ImportOptions' own
    date_order: Literal["dayfirst", "monthfirst"] | None,
    tz: str,
    long_titles: Literal["refuse", "truncate"],
    open_completed: Literal["refuse", "drop"],
    archived: Literal["cancelled", "done", "skip"],
    progress: bool | None,
    url: str | None,
) -> None:
    """Load tasks from a tracker export (Jira, GitHub, Asana, Linear, Plane, Trello: CSV or
    JSON as the tracker writes it) or a CSV with taskkit's columns.

    The format is detected and named in the summary. Tasks that carry a tracker key already
    in the database are updated, not duplicated. Values nobody mapped are refused, grouped
    with their rows; columns nobody mapped are ignored and listed. Everything goes in one
    transaction. Example: data/example_tasks.csv.
    """  # fmt: skip
    from pathlib import Path

    from taskkit._importers import readahead
    from taskkit._importers.source import regular_file

    try:  # a FIFO would block the first open: look before anything opens it
        regular_file(Path(source))
    except TaskkitError as exc:
        raise click.ClickException(str(exc)) from None
    readahead.start(source)  # Arrow parses the file while pandas and SQLAlchemy are imported

    import functools

    from taskkit._importers.load import prepare_import, run_import
    from taskkit._importers.mapping import ImportMapping

    @functools.cache  # read and checked once, whichever way the rows are stored
    def prepare() -> PreparedImport:
        mapping = ImportMapping.build(
            columns=columns, status=statuses, priority=priorities, resolution=resolutions,
            separator=workers_separator, file=mapping_file,
        )  # fmt: skip
        options = ImportOptions(
            format=format_, on_error=on_error, date_order=date_order, tz=tz,
            long_titles=long_titles, open_completed=open_completed, archived=archived,
        )  # fmt: skip
        return prepare_import(source, mapping=mapping, options=options)

    summary, shown = _import_into_new_file(source, url, prepare, progress)
    if summary is None:

        async def go(engine: AsyncEngine) -> LoadSummary:
            database = _ImportDatabase(engine)
            return await run_import(
                engine, source, prepare, progress=progress,
                before=database.look, accepted=database.make_ready,
            )  # fmt: skip

        summary = _run(_db_call(url, go, writing="import", look_first=False))
        shown = _db_shown(url)
    click.echo(f"{summary}\ninto {shown}")
    _DONE.append(True)
    if summary.skipped:
        raise SystemExit(3)  # rows were skipped: a script can tell


def _import_into_new_file(
    source: str,
    url: str | None,
    prepare: Callable[[], PreparedImport],
    progress: bool | None,
) -> tuple[LoadSummary | None, str]:
    """``taskkit import`` into a SQLite file that does not exist yet, without SQLAlchemy
    (``taskkit._new_sqlite_file``: loading it was half of a small import's start-up).
    ``(None, "")`` when the engine is the one to use: another database, or a file that
    appeared meanwhile (the source was read and checked by then: ``prepare`` keeps what it
    prepared)."""
    from pathlib import Path

    from pydantic import ValidationError

    from taskkit._database.sqlite_file import default_database_path, plain_sqlite_path
    from taskkit._importers.load import may_need_the_writer, store_in_new_sqlite_file
    from taskkit._sqlite_child.client import SQLiteChild

    written_as = plain_sqlite_path(url)
    if written_as is None:
        return None, ""
    path = Path(written_as)
    default = path == default_database_path()
    if path.exists() or not (default or path.parent.is_dir()):
        return None, ""  # the engine's own checks and messages for a missing directory
    if may_need_the_writer(source):
        SQLiteChild.prestart()  # its start overlaps the reading
    _imports_done()
    try:
        prepared = prepare()
        try:
            if default:  # data/, as create_sqlite_file makes it
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None, ""  # the engine says why it cannot
        summary = store_in_new_sqlite_file(path, prepared, progress=progress)
    except (TaskkitError, ValidationError) as exc:
        raise click.ClickException(str(exc)) from None
    return summary, f"sqlite+aiosqlite:///{written_as}"


# ---------------------------------------------------------------------------------------------
# taskkit report: the main job (taskkit.report).


def _command_line() -> str | None:
    """The command as typed (program name shortened to ``taskkit``), for the provenance;
    ``None`` when the CLI is driven from elsewhere (a test runner): the report then records
    an equivalent command."""
    import shlex
    import sys
    from pathlib import Path

    if Path(sys.argv[0]).name not in ("taskkit", "__main__.py", "taskkit.exe"):
        return None
    return shlex.join(["taskkit", *sys.argv[1:]])


def _parameters(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--param")
        values[name.strip()] = value
    return values


@cli.command()
@click.option(
    "--param", "pairs", multiple=True, metavar="NAME=VALUE",
    help="A report parameter: date_from=YYYY-MM-DD, date_to=YYYY-MM-DD, project=NAME.",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False), default=None,
    help="Directory for the report (default: reports/ in the current directory).",
)  # fmt: skip
@click.option(
    "--seed", "fill", is_flag=True,
    help="Fill an empty database (or a new SQLite file) with the synthetic dataset first.",
)  # fmt: skip
@click.option(
    "--format", "to", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
    help="html: one self-contained page; pdf: printed by headless Chromium (needs chromium).",
)  # fmt: skip
@click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default=None,
    help="The PDF's paper (default: as the locale says, LC_PAPER or LANG; else A4).",
)  # fmt: skip
@click.option("--show-code", is_flag=True, help="Keep the notebook's code in the report.")
@DB_OPTION
def report(
    pairs: tuple[str, ...],
    out: str | None,
    fill: bool,
    to: str,
    paper: str | None,
    show_code: bool,
    url: str | None,
) -> None:
    """Write the task report as a standalone HTML (or PDF) file and print its path.

    The default database is filled with the synthetic dataset when it is empty (and says
    so); any other database is only read, unless --seed is given for an empty one. A
    database holding tables that are not taskkit's is never written to. Parameters are checked
    before anything runs. The report records where its numbers come from (database, package
    versions, time), so a reader can reproduce it.
    """
    from pydantic import ValidationError

    from taskkit._database.engine import redact
    from taskkit._report import run_report
    from taskkit._report.pdf import choose_paper
    from taskkit._run_sync import off_running_loop

    _imports_done()
    values: dict[str, Any] = _parameters(pairs)
    if url is not None:
        if "database_url" in values:
            raise click.UsageError("give the database once: --db or --param database_url")
        values["database_url"] = url
    command = _command_line()
    try:
        path, seeded = off_running_loop(  # a notebook's cell: the report runs its own loops
            lambda: run_report(
                values,
                out=out,
                seed=fill,
                show_code=show_code,
                to=to,
                command=command,
                paper=paper,
            )
        )
    except (TaskkitError, ValidationError) as exc:
        raise click.ClickException(redact(str(exc))) from None
    if seeded is not None:
        which = "--seed" if fill else "the default database was empty"
        click.echo(f"{which}: {seeded} into {_db_shown(url)}")
    if to == "pdf":
        click.echo(f"printed on {choose_paper(paper)[1]}")
    click.echo(str(path))


# ---------------------------------------------------------------------------------------------
# taskkit db ...: schema migrations (taskkit._migrate).


async def _db_call(
    url: str | None,
    work: Callable[[AsyncEngine], Awaitable[T]],
    *,
    writing: str | None = None,
    look_first: bool = True,
) -> T:
    """Connect (a clear error if the server is down), run ``work``, dispose of the engine.

    ``writing`` (what the command does, for messages): the database must be taskkit's or
    empty. Without it the command only reads, and a missing SQLite file is an error rather
    than a new file. ``look_first=False``: ``work`` pings and checks the database itself
    (the import does, so that a new SQLite file is created only for an accepted file).
    """
    from taskkit._database.access import require_existing_database, require_taskkit_database
    from taskkit._database.engine import connect, create_sqlite_file, ping

    if writing is None:
        require_existing_database(url)
    engine = connect(url)
    try:
        if look_first:
            if writing is not None:
                create_sqlite_file(engine)  # a command that writes may start a new file
            await ping(engine)
            if writing is not None:
                await require_taskkit_database(engine, doing=writing)
        return await work(engine)
    finally:
        await engine.dispose()


class _ImportDatabase:
    """The database of ``taskkit import``: looked at while the file is read, made ready (a new
    SQLite file created, tables made) only once the file was accepted."""

    def __init__(self, engine: AsyncEngine) -> None:
        from pathlib import Path

        from taskkit._database.engine import is_memory_sqlite

        self.engine = engine
        self.ready = False
        url = engine.url
        self.new_file = (
            url.get_backend_name() == "sqlite"
            and not is_memory_sqlite(url)
            and not Path(url.database or "").exists()
        )

    async def look(self) -> None:
        """An existing database: reachable, taskkit's, and at head (upgraded if older): its
        errors come first. Nothing is opened for a SQLite file that does not exist yet."""
        if self.new_file:
            return
        from taskkit._database.access import require_taskkit_database
        from taskkit._database.engine import ping

        await ping(self.engine)
        contents = await require_taskkit_database(self.engine, doing="import")
        if not contents.empty:
            import taskkit._migrate as migrate

            await migrate.ensure_schema(self.engine)
            self.ready = True

    async def make_ready(self) -> None:
        """Create the tables of a new or empty database (the file, for SQLite)."""
        if self.ready:
            return
        import taskkit._migrate as migrate
        from taskkit._database.access import require_taskkit_database
        from taskkit._database.engine import create_sqlite_file, ping

        create_sqlite_file(self.engine)
        await ping(self.engine)
        await require_taskkit_database(self.engine, doing="import")
        await migrate.ensure_schema(self.engine)


async def _existing(url: str | None) -> None:
    from taskkit._database.access import require_existing_database

    require_existing_database(url)


def _db_shown(url: str | None) -> str:
    from taskkit._database.engine import database_url, redact

    try:
        return redact(database_url(url))
    except TaskkitError as exc:
        raise click.ClickException(redact(str(exc))) from None


def _db_head() -> str:
    import taskkit._migrate as migrate

    return next(r.id for r in migrate.schema_history() if r.is_head)


@cli.group()
def db() -> None:
    """Migrate the database schema with the Alembic revisions taskkit ships.

    Every command runs in one transaction: if a revision fails, nothing is changed.
    """


@db.command("upgrade")
@click.argument("revision", default="head")
@DB_OPTION
def db_upgrade(revision: str, url: str | None) -> None:
    """Upgrade the database to REVISION (default: head); an empty database gets every table.

    A database whose tables were made outside migrations is refused: see `taskkit db check`.
    """
    import taskkit._migrate as migrate

    async def go(engine: AsyncEngine) -> tuple[str | None, str | None]:
        return await migrate.schema_revision(engine), await migrate.upgrade_schema(engine, revision)

    before, after = _run(_db_call(url, go, writing=f"upgrade to {revision}"))
    shown = _db_shown(url)
    if before == after:
        click.echo(f"{shown} is already at {after or 'base'}")
    else:
        click.echo(f"upgraded {shown} from {before or 'base'} to {after}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@DB_OPTION
def db_downgrade(revision: str, yes: bool, url: str | None) -> None:
    """Downgrade the database to REVISION (`base` removes every taskkit table).

    What the later revisions added is dropped with its data, so you are asked to confirm
    (--yes skips the question). A relative step needs `--`: `taskkit db downgrade -- -1`.
    """
    import taskkit._migrate as migrate

    shown = _db_shown(url)
    _run(_existing(url))  # nothing to downgrade in a file that is not there: do not create it
    if not yes:
        click.confirm(
            f"Downgrade {shown} to {revision}? Tables and columns added after it are dropped "
            "with their data",
            abort=True,
        )

    async def go(engine: AsyncEngine) -> tuple[str | None, str | None]:
        before = await migrate.schema_revision(engine)
        return before, await migrate.downgrade_schema(engine, revision)

    before, after = _run(_db_call(url, go, writing=f"downgrade to {revision}"))
    click.echo(f"downgraded {shown} from {before} to {after or 'base'}")


@db.command("current")
@DB_OPTION
def db_current(url: str | None) -> None:
    """Show the revision the database is at."""
    import taskkit._migrate as migrate

    revision = _run(_db_call(url, migrate.schema_revision))
    head = _db_head()
    if revision is None:
        state = "none (no revision recorded: empty, at base, or created outside migrations)"
    elif revision == head:
        state = f"{revision} (head)"
    else:
        state = f"{revision} (head is {head}: run `taskkit db upgrade`)"
    click.echo(f"{_db_shown(url)}: {state}")


@db.command("history")
def db_history() -> None:
    """List the revisions taskkit ships, oldest first."""
    import taskkit._migrate as migrate

    for revision in migrate.schema_history():
        head = "  (head)" if revision.is_head else ""
        click.echo(f"{revision.id}  {revision.message}{head}")


@db.command("check")
@DB_OPTION
def db_check(url: str | None) -> None:
    """Exit 1 unless the database is at head and its schema matches the models.

    Differences (drift) are listed: tables, columns and their types and nullability, indexes,
    unique constraints, foreign keys and CHECK constraints.
    """
    import taskkit._migrate as migrate

    _run(_db_call(url, migrate.check_schema))
    click.echo(f"{_db_shown(url)} is at head ({_db_head()}) and matches the models")


@db.command("stamp")
@click.argument("revision")
@DB_OPTION
def db_stamp(revision: str, url: str | None) -> None:
    """Record REVISION as the database's revision without running any migration.

    For a database whose tables were created outside migrations: `taskkit db stamp head`
    checks first that its schema matches the models and refuses if not. Any other revision is
    recorded as you say, unchecked.
    """
    import taskkit._migrate as migrate

    async def go(engine: AsyncEngine) -> None:
        await migrate.stamp_schema(engine, revision)

    _run(_db_call(url, go, writing=f"stamp {revision}"))
    click.echo(f"stamped {_db_shown(url)} at {revision}")


# Set by a data command (import, seed) once it has closed what it opened and printed its
# summary: the process may then end without Python's teardown, which frees every object of
# pandas, SQLAlchemy and Arrow one by one (0.15 to 0.4 s, a third of a small import; mypy
# ends the same way). Only the console script acts on it: an in-process invoke (a test
# runner's) never ends its process.
_DONE: list[bool] = []
# Set by main() while the garbage collector waits for the command's imports (see there).
_GC_WAITING: list[bool] = []


def main() -> None:
    """Entry point of the ``taskkit`` console script."""
    # A command's imports (pandas, SQLAlchemy, the pydantic models) leave about a million
    # long-lived objects, which the cyclic garbage collector walks again at every full
    # collection: a fifth of a small import went into that. It waits until they are imported
    # and then leaves them out of every later collection (gc.freeze), as Python's documentation
    # advises for long-lived objects made at start-up. Only the console script does this:
    # an in-process invoke (a test runner's) keeps its collector as it is.
    gc.disable()
    _GC_WAITING.append(True)
    try:
        cli()
    except SystemExit as exc:
        if _DONE:
            _end_now(exc.code)
        raise


def _imports_done() -> None:
    """Called by a command once it has imported what it uses: see main()."""
    if _GC_WAITING:
        _GC_WAITING.clear()
        gc.freeze()
        gc.enable()


def _end_now(code: object) -> None:
    import os
    import sys

    child = sys.modules.get("taskkit._sqlite_child.client")
    if child is not None:
        child.SQLiteChild.stop_all()  # what its atexit hook would do
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
