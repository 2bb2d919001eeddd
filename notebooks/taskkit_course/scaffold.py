"""Scaffolding for the lessons: the parts of a cell that are not the lesson.

Nothing here hides SQLModel or SQLAlchemy code a lesson teaches; it prints, runs commands,
and keeps throwaway state out of the way.
"""

import gc
import hashlib
import inspect
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

__all__ = [
    "alembic_tools",
    "leftovers_collected",
    "mypy",
    "required_fields",
    "run_pytest",
    "scratch_base",
    "show",
    "source_lines",
    "taskkit_cli",
    "workdir",
]


def workdir(name: str) -> Path:
    """An empty scratch directory for lesson ``name``: the same path on every run in this
    kernel (emptied first, so running the cell again starts afresh), another path in another
    kernel (two kernels never share one)."""
    path = Path(tempfile.gettempdir()) / f"taskkit-course-{os.getpid()}" / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def show(error: BaseException) -> None:
    """Print an expected error: its type and the first line of its message.

    SQLAlchemy appends the SQL and its parameters to its messages; the first line is the part
    that says what went wrong.
    """
    print(type(error).__name__, str(error).strip().splitlines()[0])


def scratch_base(*mixins: type) -> type[SQLModel]:
    """A SQLModel base with its own registry (and so its own ``MetaData``).

    A table can be defined once per ``MetaData``: on the shared ``SQLModel.metadata`` a cell
    that defines a table fails when it runs a second time. Tables on a scratch base never touch
    taskkit's models, and each call makes a new base, so a cell can define them again and
    again. ``mixins`` go before ``SQLModel`` (``scratch_base(AsyncAttrs)``).
    """

    class Scratch(*mixins, SQLModel, registry=registry()):  # type: ignore[misc]
        pass

    return Scratch


@contextmanager
def leftovers_collected() -> Iterator[None]:
    """Collect, without a warning, what a ``MissingGreenlet`` error leaves behind.

    SQLAlchemy starts a coroutine for the implicit query, then fails before awaiting it; Python
    warns about it whenever it is garbage-collected, often cells later. When the failure came
    while a connection was being handed out, the pool also logs a traceback as it drops that
    connection; that log is held back here too (the error itself is what the lesson shows).
    """
    pool_log = logging.getLogger("sqlalchemy.pool")
    level = pool_log.level
    pool_log.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        try:
            yield
        finally:
            gc.collect()
            pool_log.setLevel(level)


def required_fields(*models: type[SQLModel]) -> pd.DataFrame:
    """Field by model: 'required', 'optional (= default)', or '' where the model lacks it.

    Built from pydantic's ``model_fields``, so it cannot drift from the code.
    """

    def describe(info: Any) -> str:
        if info.is_required():
            return "required"
        if info.default_factory is not None:
            return "optional (made when built)"
        default = info.default.value if isinstance(info.default, Enum) else info.default
        return f"optional (= {default!r})"

    names = list(dict.fromkeys(name for model in models for name in model.model_fields))
    return pd.DataFrame(
        {
            model.__name__: [
                describe(model.model_fields[n]) if n in model.model_fields else "" for n in names
            ]
            for model in models
        },
        index=names,
    )


def source_lines(obj: Any, start: str, end: str | None = None) -> None:
    """Print the source of ``obj`` from the first line that starts with ``start`` (after
    indentation) to the first line after it that starts with ``end`` (or to the end)."""
    lines = inspect.getsource(obj).splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(start))
    last = len(lines) - 1
    if end is not None:
        last = next(i for i in range(first + 1, len(lines)) if lines[i].strip().startswith(end))
    indent = len(lines[first]) - len(lines[first].lstrip())
    print("\n".join(line[indent:] for line in lines[first : last + 1]))


def run_pytest(directory: Path, *args: str) -> list[str]:
    """Run pytest in ``directory`` as a user would; print its exit code and summary line
    (without the timing), and return its output lines."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        # pytest writes its summary differently on a CI machine (CI set): read it as a user would.
        env={k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER")},
    )
    lines = done.stdout.splitlines()
    print(f"exit {done.returncode}:", re.sub(r" in [\d.]+s", "", lines[-1] if lines else ""))
    return lines


def alembic_tools(app: Path) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., Any]]:
    """Three helpers for an Alembic app in directory ``app``:

    * ``alembic(*args, keep="", tail=1)`` runs ``alembic ARGS`` there and prints what a
      terminal would show that matters: the command, its exit code, the output lines that
      contain ``keep``, and on failure the last ``tail`` lines (a traceback's last line is the
      error). Paths are shown relative to ``app``. Returns the finished process.
    * ``write(relative, source)`` writes a file of the app (dedented), as an editor would.
    * ``sql(query)`` runs one query on the app's ``app.db`` with plain sqlite3.
    """

    def alembic(*args: str, keep: str = "", tail: int = 1) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", *args], cwd=app, capture_output=True, text=True
        )
        lines = (done.stdout + done.stderr).replace(str(app) + "/", "").splitlines()
        print(f"$ alembic {' '.join(args)}   (exit {done.returncode})")
        shown = [line for line in lines if keep and keep in line]
        if keep in ("Generating", "Detected"):  # listed in directory or set order: sorted
            shown.sort()
        if done.returncode:
            shown += [line for line in lines[-tail:] if line not in shown]
        for line in shown:
            print("  ", line.strip())
        return done

    def write(relative: str, source: str) -> None:
        (app / relative).write_text(textwrap.dedent(source).lstrip())

    def sql(query: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(app / "app.db")) as conn, conn:
            return conn.execute(query).fetchall()

    return alembic, write, sql


def mypy(path: Path) -> None:
    """Type-check ``path`` with mypy, as a terminal would; print what it says.

    The cache lives in the temporary directory, one per Python environment: the first run
    reads SQLAlchemy's and SQLModel's types (half a minute), later ones take a second or two.
    """
    digest = hashlib.sha1(sys.prefix.encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"taskkit-course-mypy-{digest}"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-color-output", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
    )
    print(done.stdout.strip())


def taskkit_cli(*args: str, cwd: Path) -> None:
    """Run ``taskkit ARGS`` in ``cwd``; print the command, its exit code and its output."""
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", *args], cwd=cwd, capture_output=True, text=True
    )
    print(f"$ taskkit {' '.join(args)}   (exit {done.returncode})")
    print(done.stdout.strip() or done.stderr.strip())
