"""The exercise checks of the course.

A lesson ends a section with an exercise cell (starter code holding ``...``) and a check cell
that calls one of these functions with the learner's answer. Every check:

* returns a :class:`Verdict`, shown as one line: ``✓`` and what was verified, ``✗`` and what
  is wrong (in the check's words, never a library's traceback: an error raised by the answer
  is reported as its type and first line, with a hint where the cause is a known one), or
  "not attempted yet" while the starter ``...`` is still there;
* builds its own state (a scratch SQLite database, an Alembic app, a FastAPI app) and removes
  it, so it runs in any order, any number of times, without the lesson's cells before it:
  the ``solutions`` notebook and ``tests/test_exercises.py`` call it with answers directly.

``EXERCISES`` maps each exercise id (the lessons tag their cells ``exercise-<id>``) to its
check.
"""

import ast
import contextlib
import functools
import inspect
import io
import numbers
import re
import shutil
import sqlite3
import tempfile
import textwrap
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EXERCISES",
    "PASSED",
    "Verdict",
    "check_alembic_downgrade",
    "check_alembic_prediction",
    "check_assign_by_hand",
    "check_b_reads",
    "check_batch_index",
    "check_database_url",
    "check_head_id",
    "check_project_update",
    "check_read_project",
    "check_recent_high",
    "check_tasks_labelled",
    "check_total_after_requests",
    "lesson_app",
]

PASSED, FAILED, WAITING = "✓", "✗", "…"


@dataclass(frozen=True)
class Verdict:
    """What a check found: ``passed`` is True, False, or None (not attempted yet)."""

    exercise: str
    passed: bool | None
    message: str

    def __repr__(self) -> str:
        if self.passed is None:
            return (
                f"{WAITING} Exercise {self.exercise} not attempted yet: {self.message} above, "
                "then run this cell again."
            )
        mark = PASSED if self.passed else FAILED
        return f"{mark} Exercise {self.exercise}: {self.message}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Wrong(Exception):
    """Raised inside a check: the answer is wrong, and the message says how."""


class NotYet(Exception):
    """Raised inside a check: the starter ``...`` is still there."""


def _verdict(exercise: str, run: Callable[[], str]) -> Verdict:
    try:
        return Verdict(exercise, True, run())
    except NotYet as e:
        return Verdict(exercise, None, str(e))
    except Wrong as e:
        return Verdict(exercise, False, str(e))


def check(exercise: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a check function (sync or async) return a :class:`Verdict` for ``exercise``."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Verdict:
                try:
                    return Verdict(exercise, True, await function(*args, **kwargs))
                except NotYet as e:
                    return Verdict(exercise, None, str(e))
                except Wrong as e:
                    return Verdict(exercise, False, str(e))

            run_async.exercise = exercise  # type: ignore[attr-defined]
            return run_async

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Verdict:
            return _verdict(exercise, lambda: function(*args, **kwargs))

        run.exercise = exercise  # type: ignore[attr-defined]
        return run

    return decorate


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _has_placeholder(value: Any) -> bool:
    if value is Ellipsis:
        return True
    if isinstance(value, str):
        return value.strip() == "..."
    if isinstance(value, dict):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(_has_placeholder(v) for v in value)
    return False


def _require_attempt(what: str, *answers: Any) -> None:
    if any(_has_placeholder(a) for a in answers):
        raise NotYet(what)


def _function_tree(function: Callable[..., Any]) -> ast.AST:
    """The parsed source of ``function`` (defined in a file or in a notebook cell)."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        raise Wrong(f"{getattr(function, '__name__', function)!r} must be a function") from None
    return ast.parse(textwrap.dedent(source))


def _require_function(function: Any, name: str) -> None:
    """NotYet while ``function``'s body is the starter ``...``; Wrong if it is no function."""
    if not callable(function) or isinstance(function, type):
        raise Wrong(f"{name} must be a function (def {name}(...): ...)")
    definition = _function_tree(function).body[0]
    body = [
        node
        for node in definition.body  # type: ignore[attr-defined]
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        or node.value.value is Ellipsis
    ]
    if all(
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and node.value.value is Ellipsis
        for node in body
    ) or any(
        isinstance(node, ast.Return)
        and isinstance(node.value, ast.Constant)
        and node.value.value is Ellipsis
        for node in body
    ):
        raise NotYet(f"write the body of {name}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _raised(what: str, error: BaseException, hints: dict[str, str] | None = None) -> Wrong:
    """A Wrong that reports an error the answer raised, with a hint for a known cause."""
    message = f"{what} raised {_first_line(error)}"
    for fragment, hint in (hints or {}).items():
        if fragment in f"{type(error).__name__}: {error}":
            return Wrong(f"{message}; {hint}")
    return Wrong(message)


def _as_list(value: Any) -> list[Any] | None:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else None


def _number(value: Any) -> int | float | None:
    """``value`` as a number when it is one (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return value  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Scratch databases: each check gets its own copy of a small seeded SQLite file.

_TEMPLATES: dict[tuple[int, int, int], Path] = {}


async def _template(tasks: int, projects: int, workers: int) -> Path:
    key = (tasks, projects, workers)
    if key not in _TEMPLATES or not _TEMPLATES[key].exists():
        import taskkit

        folder = Path(tempfile.mkdtemp(prefix="taskkit-check-template-"))
        path = folder / "template.db"
        engine = taskkit.connect(f"sqlite:///{path}")
        try:
            await taskkit.ensure_schema(engine)
            await taskkit.seed(
                engine, tasks=tasks, projects=projects, workers=workers, seed=0, progress=False
            )
        finally:
            await engine.dispose()  # the last connection to close folds the WAL into the file
        _TEMPLATES[key] = path
    return _TEMPLATES[key]


def _copy(template: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="taskkit-check-"))
    for suffix in ("", "-wal"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", folder / f"check.db{suffix}")
    return folder


@contextlib.asynccontextmanager
async def scratch_database(
    tasks: int = 300, projects: int = 3, workers: int = 5
) -> AsyncIterator[Any]:
    """A taskkit engine on a fresh, seeded SQLite file of its own, removed afterwards."""
    import taskkit

    folder = _copy(await _template(tasks, projects, workers))
    engine = taskkit.connect(f"sqlite:///{folder / 'check.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def _served(app: Any, **seeded: int) -> AsyncIterator[Any]:
    """An httpx client of FastAPI ``app``, served in process, whose ``taskkit.get_session``
    opens sessions on a scratch database (``seeded``: scratch_database's counts); the app's
    dependency overrides are as before afterwards."""
    import httpx

    import taskkit

    saved = dict(app.dependency_overrides)
    try:
        async with scratch_database(**seeded) as engine:

            async def session_override() -> AsyncIterator[Any]:
                async with taskkit.session(engine) as session:
                    yield session

            app.dependency_overrides[taskkit.get_session] = session_override
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://check") as client:
                yield client
    finally:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(saved)


# ---------------------------------------------------------------------------------------------
# 02a: models


@check("02a-1")
def check_project_update(model: Any) -> str:
    """``MyProjectUpdate``: one optional field ``name``, 1 to 100 characters when given, and
    unknown keys refused."""
    from pydantic import BaseModel, ValidationError

    if not isinstance(model, type) or not issubclass(model, BaseModel):
        raise Wrong(f"MyProjectUpdate must be a model class, got {model!r}")
    if not model.model_fields:
        raise NotYet("give MyProjectUpdate its field")
    fields = list(model.model_fields)
    if fields != ["name"]:
        raise Wrong(f"MyProjectUpdate has one field, name; it has {fields}")

    def validate(data: dict[str, Any]) -> tuple[Any, str]:
        try:
            return model.model_validate(data), ""
        except ValidationError as e:
            return None, e.errors()[0]["msg"]
        except Exception as e:
            raise _raised(f"MyProjectUpdate.model_validate({data!r})", e) from None

    empty, why = validate({})
    if empty is None:
        raise Wrong(f"name must be optional: an empty PATCH body {{}} was refused ({why})")
    if (dumped := empty.model_dump(exclude_unset=True)) != {}:
        raise Wrong(f"an empty body must dump to {{}} with exclude_unset=True, got {dumped}")
    for length in (1, 100):
        name = "x" * length
        given, why = validate({"name": name})
        if given is None:
            raise Wrong(
                f"a name of {length} character{'s' * (length > 1)} must be accepted "
                f"(1 to 100 are allowed); it was refused: {why}"
            )
        if given.model_dump(exclude_unset=True) != {"name": name}:
            raise Wrong(f"a given name must be kept; got {given.model_dump(exclude_unset=True)}")
    for length in (0, 101):
        if validate({"name": "x" * length})[0] is not None:
            raise Wrong(f"a name of {length} characters must be refused (1 to 100 are allowed)")
    if validate({"nmae": "Zeta"})[0] is not None:
        raise Wrong(
            "an unknown key must be refused: {'nmae': 'Zeta'} was accepted as an empty update "
            "and the name was lost (pydantic ignores unknown keys unless told: "
            "model_config = ConfigDict(extra='forbid'))"
        )
    return "MyProjectUpdate: name optional, 1 to 100 characters when given, unknown keys refused"


# ---------------------------------------------------------------------------------------------
# 02b: engine and session

HANDED_URL = "postgres://bob:pw@db.example.com:5433/app?sslmode=verify-full&channel_binding=prefer"


@check("02b-1")
def check_database_url(predicted_url: Any) -> str:
    """The exact URL ``taskkit.database_url(HANDED_URL)`` returns (a string or a URL)."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    import taskkit

    _require_attempt("fill in predicted_url", predicted_url)
    actual = make_url(taskkit.database_url(HANDED_URL))
    if isinstance(predicted_url, URL):
        given = predicted_url
    elif isinstance(predicted_url, str):
        try:
            given = make_url(predicted_url.strip())
        except ArgumentError:
            raise Wrong(f"{predicted_url!r} is not a URL SQLAlchemy can read") from None
    else:
        raise Wrong(f"predicted_url is a string (or a sqlalchemy URL), got {predicted_url!r}")
    wrong = []
    for part in ("drivername", "username", "password", "host", "port", "database"):
        if getattr(given, part) != getattr(actual, part):
            wrong.append(f"{part} {getattr(given, part)!r} should be {getattr(actual, part)!r}")
    if dict(given.query) != dict(actual.query):
        wrong.append(f"the query {dict(given.query)} should be {dict(actual.query)}")
    if wrong:
        hint = ""
        if given.password != actual.password:
            hint = " (database_url keeps the password: it returns what the engine needs)"
        raise Wrong("; ".join(wrong) + hint)
    return f"database_url gives {actual.render_as_string(hide_password=False)}"


# ---------------------------------------------------------------------------------------------
# 02c: relationships

_LAZY_HINT = {
    "raise_on_sql": "task.workers is not loaded: load it in the query that fetches the task "
    "(.options(selectinload(Task.workers))) before you append",
    "MissingGreenlet": "an attribute was loaded implicitly: load it in the query "
    "(selectinload) first",
}


@check("02c-1")
async def check_assign_by_hand(assign_by_hand: Any) -> str:
    """``assign_by_hand(session, task_id, worker_id)``: through ``Task.workers``, idempotent,
    committed."""
    from sqlalchemy import event
    from sqlalchemy import inspect as inspect_state
    from sqlmodel import select

    import taskkit
    from taskkit import Task, TaskWorkerLink

    _require_function(assign_by_hand, "assign_by_hand")
    seen = {"link_rows": False, "through_collection": False}

    def before_flush(session: Any, *_: Any) -> None:
        for obj in session.new:
            seen["link_rows"] |= isinstance(obj, TaskWorkerLink)
        for obj in session.new | session.dirty:
            if isinstance(obj, Task) and inspect_state(obj).attrs.workers.history.added:
                seen["through_collection"] = True

    async with scratch_database() as engine:
        async with taskkit.session(engine) as session:
            await taskkit.create_worker(session, {"id": "w-new", "name": "Noor Quinn"})
        pair = (TaskWorkerLink.task_id == 3) & (TaskWorkerLink.worker_id == "w-new")
        for call in ("the first call", "the second call"):
            async with taskkit.session(engine) as session:
                event.listen(session.sync_session, "before_flush", before_flush)
                try:
                    await assign_by_hand(session, 3, "w-new")
                except Exception as e:
                    hints = dict(_LAZY_HINT)
                    if call == "the second call":
                        hints["UNIQUE"] = (
                            "the worker was appended again: append only when it is not in "
                            "task.workers yet"
                        )
                    raise _raised(f"assign_by_hand(session, 3, 'w-new'), {call},", e) from None
            async with taskkit.session(engine) as session:
                links = (await session.exec(select(TaskWorkerLink).where(pair))).all()
            if not links:
                raise Wrong(
                    f"after {call} task 3 has no link to 'w-new': commit the session "
                    "(the session you were given; the check reads with another one)"
                )
    if seen["link_rows"]:
        raise Wrong(
            "the link was added as a TaskWorkerLink row (taskkit.assign does that too); "
            "the exercise is to append the worker to task.workers"
        )
    if not seen["through_collection"]:
        raise Wrong(
            "the link was not made through task.workers: append the worker to the task's "
            "collection and let the session write the link"
        )
    return "assign_by_hand links task 3 and 'w-new' through task.workers; a second call is a no-op"


# Labels the check's tasks carry: "ui" gets the first label id, so a hard-coded id shows.
_LABELLED = [["ui"], ["bug", "ui"], ["bug"], ["docs"], ["bug", "docs"], []]


@check("02c-2")
async def check_tasks_labelled(tasks_labelled: Any) -> str:
    """``tasks_labelled(name)``: a statement for the tasks that carry the label ``name``."""
    from sqlalchemy.sql import Select

    import taskkit
    from taskkit import Task

    _require_function(tasks_labelled, "tasks_labelled")
    async with scratch_database(tasks=40) as engine:
        made = {}
        async with taskkit.session(engine) as session:
            for i, labels in enumerate(_LABELLED):
                task = await taskkit.create_task(
                    session, {"title": f"Labelled {i}", "labels": labels}
                )
                made[task.id] = labels
        for name in ("bug", "docs"):
            want = sorted(i for i, labels in made.items() if name in labels)
            try:
                statement = tasks_labelled(name)
            except Exception as e:
                raise _raised(f"tasks_labelled({name!r})", e) from None
            if not isinstance(statement, Select):
                raise Wrong(
                    f"tasks_labelled({name!r}) must return a statement (select(Task)...), "
                    f"got {type(statement).__name__}"
                )
            try:
                # SQLAlchemy warns of a cartesian product: kept as a hint, not shown on its own.
                with warnings.catch_warnings(record=True) as warned:
                    warnings.simplefilter("always")
                    async with taskkit.session(engine) as session:
                        rows = (await session.exec(statement)).all()
            except Exception as e:
                raise _raised(f"running tasks_labelled({name!r})", e) from None
            cartesian = any("cartesian product" in str(w.message) for w in warned)
            if rows and not isinstance(rows[0], Task):
                raise Wrong(
                    f"the statement must return Task objects (select(Task)...), "
                    f"it returned {type(rows[0]).__name__} values"
                )
            got = [task.id for task in rows]
            if len(got) != len(set(got)):
                twice = sorted({i for i in got if got.count(i) > 1})
                raise Wrong(f"tasks {twice} came more than once for {name!r}")
            if sorted(got) != want:
                hint = ""
                if cartesian:
                    hint = (
                        ": Label is read beside Task without a join (SQLAlchemy warns of a "
                        "cartesian product), so every task is paired with the label; join "
                        "through Task.labels, or use Task.labels.any(...)"
                    )
                elif set(got) != set(want):
                    hint = " (is a label id written into the statement? look the label up by name)"
                raise Wrong(
                    f"tasks_labelled({name!r}) returned {len(got)} tasks, "
                    f"{sorted(got)[:8]}{'...' if len(got) > 8 else ''}; the tasks that carry "
                    f"{name!r} are {want}{hint}"
                )
    return "tasks_labelled finds exactly the tasks that carry a label, once each"


# ---------------------------------------------------------------------------------------------
# 02d: queries

# Column methods a type checker does not see on a model attribute (it reads `Task.created_at`
# as a datetime): wrap the attribute in col() first.
_COLUMN_METHODS = {
    "desc", "asc", "in_", "not_in", "is_", "is_not", "like", "ilike", "not_like",
    "startswith", "endswith", "contains", "between", "nulls_last", "nulls_first",
}  # fmt: skip
_MODELS = {"Task", "Project", "Worker", "Label", "StatusChange"}


def _untyped_column_uses(tree: ast.AST) -> list[str]:
    """``Task.created_at.desc()`` and ``desc(Task.created_at)``: uses mypy refuses."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target = None
        if isinstance(func, ast.Attribute) and func.attr in _COLUMN_METHODS:
            target = func.value
        elif isinstance(func, ast.Name) and func.id in ("desc", "asc") and node.args:
            target = node.args[0]
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id in _MODELS
        ):
            found.append(ast.unparse(node))
    return found


def _order_by(statement: Any) -> list[str]:
    """The ORDER BY terms of ``statement`` as SQLite receives them (``task.id DESC``)."""
    from sqlalchemy.dialects import sqlite

    sql = str(statement.compile(dialect=sqlite.dialect()))
    if "ORDER BY" not in sql:
        return []
    clause = sql.rsplit("ORDER BY", 1)[1].split(" LIMIT ")[0]
    return [" ".join(term.split()) for term in clause.split(",")]


@check("02d-1")
async def check_recent_high(recent_high: Any) -> str:
    """``recent_high()``: the 5 newest pending high-priority tasks, newest first, ties broken
    by the larger id, written with ``col()`` so that it type-checks."""
    from sqlalchemy.sql import Select

    import taskkit
    from taskkit import Task

    _require_function(recent_high, "recent_high")
    if untyped := _untyped_column_uses(_function_tree(recent_high)):
        raise Wrong(
            f"{untyped[0]} runs, but does not type-check: mypy reads a model attribute as its "
            "Python type (a datetime has no .desc()); wrap it: col(Task.created_at).desc()"
        )
    try:
        statement = recent_high()
    except Exception as e:
        raise _raised("recent_high()", e) from None
    if not isinstance(statement, Select):
        raise Wrong(f"recent_high() must return a select(...) statement, got {statement!r}")
    order = _order_by(statement)
    if not order or not order[0].startswith("task.created_at"):
        by = f"by {', '.join(order)}" if order else "in no order"
        raise Wrong(
            f"the tasks are ordered {by}; newest means by created_at (ids follow the order "
            "rows were stored in, not when the tasks were created: an import stores old tasks "
            "with new ids)"
        )
    if not order[0].endswith("DESC"):
        raise Wrong("created_at ascending gives the oldest first: use col(...).desc()")
    if "task.id DESC" not in order[1:]:
        raise Wrong(
            f"ORDER BY {', '.join(order)} has no tiebreak: tasks created in the same "
            "microsecond (an import, a bulk insert) come back in any order, differently from "
            "one query to the next; end with col(Task.id).desc()"
        )
    expected = taskkit.select_tasks(status="pending", priority="high").limit(5)
    async with scratch_database(tasks=2_000) as engine:
        try:
            async with taskkit.session(engine) as session:
                rows = (await session.exec(statement)).all()
        except Exception as e:
            raise _raised("running recent_high()", e) from None
        async with taskkit.session(engine) as session:
            want = [task.id for task in (await session.exec(expected)).all()]
    if rows and not isinstance(rows[0], Task):
        raise Wrong(
            f"the statement returns {type(rows[0]).__name__} values; select whole tasks: "
            "select(Task), not select(Task.id)"
        )
    got = [task.id for task in rows]
    if len(got) != 5:
        raise Wrong(f"expected 5 tasks (.limit(5)), got {len(got)}")
    if got != want:
        wrong = [t for t in rows if (t.status, t.priority) != ("pending", "high")]
        if wrong:
            raise Wrong(
                f"task {wrong[0].id} is {wrong[0].status.value}/{wrong[0].priority.value}: "
                "keep only pending, high-priority tasks"
            )
        raise Wrong(f"expected tasks {want}, got {got}")
    return "recent_high() returns the 5 newest pending high-priority tasks, newest first"


# ---------------------------------------------------------------------------------------------
# 02e: testing and the schema


@check("02e-1")
async def check_b_reads(predicted_b_reads: Any) -> str:
    """What session B reads while session A has *added* a project without flushing, on a
    plain ``StaticPool`` engine."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import StaticPool
    from sqlmodel import SQLModel, select
    from sqlmodel.ext.asyncio.session import AsyncSession

    from taskkit import Project

    _require_attempt("fill in predicted_b_reads", predicted_b_reads)
    predicted = _as_list(predicted_b_reads)
    if predicted is None:
        raise Wrong(
            f"predicted_b_reads is a list of names, got {predicted_b_reads!r} "
            "(no names at all is an empty list, [])"
        )
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        async with AsyncSession(engine) as a, AsyncSession(engine) as b:
            a.add(Project(name="Added by A"))
            actual = list((await b.exec(select(Project.name))).all())
    finally:
        await engine.dispose()
    if sorted(map(str, predicted)) != sorted(actual):
        raise Wrong(f"you predicted {predicted}; B read {actual}")
    return f"B reads {actual}: add() only puts the object in A's session; no SQL ran"


@check("02e-2")
def check_head_id(head_id: Any) -> str:
    """The id of taskkit's head revision, from ``taskkit.schema_history()``."""
    import taskkit

    _require_attempt("fill in head_id", head_id)
    history = taskkit.schema_history()
    head = next(revision.id for revision in history if revision.is_head)
    if isinstance(head_id, taskkit.RevisionInfo):
        raise Wrong("head_id is the revision's id, a string such as '0001'; take its .id")
    if not isinstance(head_id, str):
        raise Wrong(f"head_id is a string such as '0001', got {head_id!r}")
    if head_id != head:
        raise Wrong(
            f"{head_id!r} is not the head: the head is the revision whose is_head is True "
            "(a new release may add revisions: compute it, do not write it in)"
        )
    return "head_id is the id of the revision whose is_head is True"


# ---------------------------------------------------------------------------------------------
# 04: the API

_ENDPOINT_HINTS = {
    "ResponseValidationError": "the endpoint returned something that is not a ProjectRead "
    "(None for a missing project?): raise HTTPException(status_code=404, ...) instead",
    "NoResultFound": ".one() raises when there is no row: use session.get (None when missing), "
    "then raise HTTPException(status_code=404, ...)",
    "NotFoundError": "taskkit.get_project raises NotFoundError for a missing id: catch it and "
    "raise HTTPException(status_code=404, ...)",
}


@check("04-1")
async def check_read_project(read_project: Any) -> str:
    """``GET /projects/{project_id}``: the project as ``ProjectRead``, or 404 naming the id."""
    import httpx
    from fastapi import FastAPI

    from taskkit import ProjectRead

    _require_function(read_project, "read_project")
    app = FastAPI()
    try:
        app.add_api_route(
            "/projects/{project_id}", read_project, methods=["GET"], response_model=ProjectRead
        )
    except Exception as e:
        raise _raised("mounting read_project on GET /projects/{project_id}", e) from None
    async with _served(app) as client:

        async def get(path: str) -> httpx.Response:
            try:
                return await client.get(path)
            except Exception as e:
                raise _raised(f"GET {path}", e, _ENDPOINT_HINTS) from None

        found = await get("/projects/1")
        if found.status_code != 200:
            raise Wrong(f"GET /projects/1: expected 200, got {found.status_code}")
        body = found.json()
        if not isinstance(body, dict) or sorted(body) != ["id", "name"] or body["id"] != 1:
            raise Wrong(f"GET /projects/1: expected project 1 as ProjectRead, got {body}")
        missing = await get("/projects/9999")
        if missing.status_code != 404:
            raise Wrong(f"GET /projects/9999: expected 404, got {missing.status_code}")
        detail = missing.json().get("detail", "")
        if "9999" not in str(detail):
            raise Wrong(f"the 404's detail should name the id 9999, got {detail!r}")
    return "GET /projects/1 -> 200 ProjectRead, GET /projects/9999 -> 404 naming the id"


def lesson_app() -> Any:
    """Notebook 04's app, built by running its own cells (the imports and the app cell) in a
    namespace of its own: what the lesson serves, for a check called outside the lesson."""
    source = (Path(__file__).resolve().parent.parent / "04-api.py").read_text(encoding="utf-8")
    parts = re.split(r"^(# %%.*)$", source, flags=re.MULTILINE)
    cells = zip(parts[1::2], parts[2::2], strict=True)
    code = [body for marker, body in cells if "[markdown]" not in marker]
    namespace: dict[str, Any] = {}
    exec(code[0], namespace)  # the imports
    exec(next(c for c in code if "app = FastAPI(" in c), namespace)
    return namespace["app"]


@check("04-2")
async def check_total_after_requests(predicted_total: Any, app: Any = None) -> str:
    """How many tasks ``GET /tasks`` pages through after the lesson's create, PATCHes and
    delete, on a database seeded as the lesson's (60 tasks). Runs the same requests against
    ``app`` (notebook 04's app when not given) on a scratch database of its own."""
    _require_attempt("fill in predicted_total", predicted_total)
    number = _number(predicted_total)
    if number is None:
        raise Wrong(f"predicted_total is a number of tasks, got {predicted_total!r}")
    if app is None:
        app = lesson_app()
    async with _served(app, tasks=60, projects=3, workers=4) as c:
        created = await c.post("/tasks", json={"title": "Write the API lesson"})
        task_id = created.json()["id"]
        await c.patch(f"/tasks/{task_id}", json={"priority": "low"})
        await c.patch(f"/tasks/{task_id}", json={"status": "completed"})
        await c.delete(f"/tasks/{task_id}")
        total, cursor = 0, None
        while True:
            params = {"size": 100} | ({"cursor": cursor} if cursor else {})
            page = (await c.get("/tasks", params=params)).json()
            total += len(page["items"])
            if (cursor := page["next_cursor"]) is None:
                break
    if number != total:
        hint = " (the task created was deleted again)" if number == total + 1 else ""
        raise Wrong(f"you predicted {predicted_total}; GET /tasks pages through {total}{hint}")
    return f"GET /tasks pages through {total} tasks: 60 seeded, one created and deleted"


# ---------------------------------------------------------------------------------------------
# 05: Alembic


@check("05-1")
def check_alembic_prediction(predicted_count: Any, predicted_head: Any) -> str:
    """Right after ``alembic revision --autogenerate --rev-id 0001``: one revision, head 0001."""
    _require_attempt("fill in predicted_count, predicted_head", predicted_count, predicted_head)
    count = _number(predicted_count)
    if count is None:
        raise Wrong(f"predicted_count is a number, got {predicted_count!r}")
    if count != 1:
        raise Wrong(
            f"you predicted {predicted_count} revisions; there is 1: autogenerate wrote one "
            "file, and alembic init writes none"
        )
    head = str(predicted_head).strip()
    if head.removesuffix("(head)").strip() != "0001":
        raise Wrong(
            f"you predicted head {predicted_head!r}; it is '0001', the id --rev-id gave "
            "(alembic heads prints '0001 (head)')"
        )
    return "predicted right: 1 revision, head '0001'"


_CHECK_REVISIONS = {
    "0001": (
        "None",
        """
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
    )""",
        """
    op.drop_table("task")
    op.drop_table("project")""",
    ),
    "0002": (
        '"0001"',
        """
    op.add_column(
        "task",
        sa.Column("priority", sa.String(6), nullable=False, server_default=sa.text("'medium'")),
    )""",
        """
    op.drop_column("task", "priority")""",
    ),
    "0003": (
        '"0002"',
        """
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("project_id", sa.Integer()))
        batch.create_foreign_key("fk_task_project", "project", ["project_id"], ["id"])""",
        """
    with op.batch_alter_table("task") as batch:
        batch.drop_constraint("fk_task_project", type_="foreignkey")
        batch.drop_column("project_id")""",
    ),
}
_CHECK_ENV = '''
"""The check's own app: a plain synchronous env.py (the exercise is about the revisions)."""
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
'''


def _revision_source(rev: str, down: str, upgrade: str, downgrade: str) -> str:
    return (
        f"import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "{rev}"\ndown_revision = {down}\n\n\n'
        f"def upgrade() -> None:{upgrade}\n\n\ndef downgrade() -> None:{downgrade}\n"
    )


@contextlib.contextmanager
def _alembic_app() -> Iterator[Path]:
    """A scratch Alembic app at revision 0003 (the lesson's app after section 4), holding a
    project and three tasks in it. Removed afterwards."""
    app = Path(tempfile.mkdtemp(prefix="taskkit-check-alembic-"))
    try:
        (app / "migrations" / "versions").mkdir(parents=True)
        (app / "alembic.ini").write_text(
            f"[alembic]\nscript_location = {app / 'migrations'}\n"
            f"sqlalchemy.url = sqlite:///{app / 'app.db'}\n"
        )
        (app / "migrations" / "env.py").write_text(_CHECK_ENV)
        for rev, (down, upgrade, downgrade) in _CHECK_REVISIONS.items():
            (app / "migrations" / "versions" / f"{rev}.py").write_text(
                _revision_source(rev, down, upgrade, downgrade)
            )
        if error := _alembic(app, ["upgrade", "head"]):
            raise RuntimeError(f"the check's own app did not upgrade: {error}")
        with contextlib.closing(sqlite3.connect(app / "app.db")) as conn, conn:
            conn.execute("INSERT INTO project (name) VALUES ('Apollo')")
            conn.executemany(
                "INSERT INTO task (title, project_id) VALUES (?, 1)",
                [("Write the launch plan",), ("Urgent: fix login timeout",), ("Order coffee",)],
            )
        yield app
    finally:
        shutil.rmtree(app, ignore_errors=True)


def _alembic(app: Path, argv: list[str]) -> str | None:
    """Run ``alembic ARGV`` on ``app`` in this process; the error it gave, or None."""
    from alembic.config import CommandLine, Config

    command_line = CommandLine(prog="alembic")
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
            options = command_line.parser.parse_args([str(a) for a in argv])
            if not hasattr(options, "cmd"):
                command_line.parser.error("too few arguments")
            options.raiseerr = True
            config = Config(file_=str(app / "alembic.ini"), cmd_opts=options, stdout=said)
            command_line.run_cmd(config, options)
    except SystemExit:
        lines = [line for line in said.getvalue().splitlines() if line.strip()]
        return lines[-1] if lines else "alembic refused the arguments"
    except Exception as e:
        return _first_line(e)
    return None


def _query(app: Path, query: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(app / "app.db")) as conn:
        return conn.execute(query).fetchall()


@check("05-2")
def check_alembic_downgrade(downgrade_args: Any) -> str:
    """Arguments that take a database back to no revision at all (tried on an app at 0003)."""
    _require_attempt("replace '...' in downgrade_args", downgrade_args)
    args = _as_list(downgrade_args)
    if args is None or not all(isinstance(a, str) for a in args):
        raise Wrong(f"downgrade_args is a list of strings, got {downgrade_args!r}")
    with _alembic_app() as app:
        if error := _alembic(app, args):
            raise Wrong(f"alembic {' '.join(args)} failed: {error}")
        versions = _query(app, "SELECT version_num FROM alembic_version")
        tables = _query(
            app, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'alembic_version'"
        )
    if versions:
        command, target = args[0], args[-1]
        if command != "downgrade":
            why = f"{command} does not go back, only downgrade does"
        elif target.startswith("-"):
            why = (
                f"{target} counts back from where the app is (from 0001, -1 reaches nothing; "
                "from 0003 it does not)"
            )
        else:
            why = f"downgrade {target} stops at {target} and keeps it"
        raise Wrong(
            f"after alembic {' '.join(args)} the app is at {versions[0][0]}, not at no "
            f"revision: {why}; the target before the first revision is called base"
        )
    if tables:
        raise Wrong(f"tables are left after the downgrade: {sorted(t for (t,) in tables)}")
    return f"alembic {' '.join(args)} takes an app at 0003 back to no revision"


@check("05-3")
def check_batch_index(upgrade_0004: Any, downgrade_0004: Any) -> str:
    """Revision 0004 adds the index ix_task_project_id on task.project_id; its downgrade
    removes it. Tried on an app of its own at 0003."""
    _require_attempt("write upgrade_0004 and downgrade_0004", upgrade_0004, downgrade_0004)
    if not isinstance(upgrade_0004, str) or not isinstance(downgrade_0004, str):
        raise Wrong("upgrade_0004 and downgrade_0004 are strings holding Python code")

    def body(text: str) -> str:
        return "\n" + textwrap.indent(textwrap.dedent(text).strip("\n") + "\n", "    ")

    for name, text in (("upgrade_0004", upgrade_0004), ("downgrade_0004", downgrade_0004)):
        try:
            ast.parse(textwrap.dedent(text))
        except SyntaxError as e:
            raise Wrong(f"{name} is not valid Python: {e.msg} (line {e.lineno})") from None
    index = "ix_task_project_id"
    with _alembic_app() as app:
        (app / "migrations" / "versions" / "0004.py").write_text(
            _revision_source("0004", '"0003"', body(upgrade_0004), body(downgrade_0004))
        )
        if error := _alembic(app, ["upgrade", "0004"]):
            hint = ""
            if "UNIQUE" in error:
                hint = " (a UNIQUE index: many tasks share a project, so it cannot be unique)"
            raise Wrong(f"upgrade to 0004 failed: {error}{hint}")
        found = {row[1]: row[2] for row in _query(app, "PRAGMA index_list(task)")}
        if index not in found:
            raise Wrong(f"no index named {index} after the upgrade (indexes: {sorted(found)})")
        if found[index]:
            raise Wrong(f"{index} is UNIQUE: many tasks share a project; a plain index is asked")
        columns = [row[2] for row in _query(app, f"PRAGMA index_info({index})")]
        if columns != ["project_id"]:
            raise Wrong(f"{index} indexes {columns}, not ['project_id']")
        if error := _alembic(app, ["downgrade", "0003"]):
            raise Wrong(f"downgrade to 0003 failed: {error}")
        if index in {row[1] for row in _query(app, "PRAGMA index_list(task)")}:
            raise Wrong(f"{index} is still there after downgrading to 0003")
        if _query(app, "SELECT count(*) FROM task") != [(3,)]:
            raise Wrong("the task rows did not survive the upgrade and downgrade")
    return f"0004 creates {index} on task.project_id, and its downgrade removes it"


EXERCISES: dict[str, Callable[..., Any]] = {
    function.exercise: function  # type: ignore[attr-defined]
    for function in (
        check_project_update,
        check_database_url,
        check_assign_by_hand,
        check_tasks_labelled,
        check_recent_high,
        check_b_reads,
        check_head_id,
        check_read_project,
        check_total_after_requests,
        check_alembic_prediction,
        check_alembic_downgrade,
        check_batch_index,
    )
}
