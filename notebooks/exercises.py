"""Checks for the exercises in notebooks 02, 04 and 05.

Each lesson ends a section with an exercise cell (starter code holding ``...``) and a check
cell that calls one of these functions. A check given the untouched starter code says so and
passes; given an answer, it asserts what the exercise asks and prints a tick. The
``solutions`` notebook runs every lesson with its exercise cells replaced by the answers and
requires every tick, so each check is known to be satisfiable where it stands.
"""

import ast
import inspect
import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

PASSED = "✓"


def attempted(*answers: Any) -> bool:
    """Whether the learner replaced every ``...`` placeholder in ``answers``."""

    def has_placeholder(value: Any) -> bool:
        if value is Ellipsis:
            return True
        if isinstance(value, str):
            return value.strip() == "..."
        if isinstance(value, dict):
            return any(has_placeholder(v) for v in value.values())
        if isinstance(value, list | tuple | set):
            return any(has_placeholder(v) for v in value)
        return False

    return not any(has_placeholder(a) for a in answers)


def not_yet(what: str) -> None:
    print(f"Not attempted yet: {what}. Edit the cell above, run it, then run this cell again.")


def passed(what: str) -> None:
    print(f"{PASSED} {what}")


def is_stub(function: Callable[..., Any]) -> bool:
    """Whether ``function``'s body is still the starter ``...`` (a docstring aside)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    code = [
        node
        for node in body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        or node.value.value is Ellipsis
    ]
    return all(
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and node.value.value is Ellipsis
        for node in code
    )


# ---------------------------------------------------------------------------------------------
# Notebook 02: SQLModel patterns


def check_project_update(model: type[Any]) -> None:
    """Exercise 02-1: a PATCH model for projects with one optional, length-checked ``name``."""
    from pydantic import ValidationError

    if not model.model_fields:
        return not_yet("give MyProjectUpdate its field")
    assert list(model.model_fields) == ["name"], f"one field, name; got {list(model.model_fields)}"
    assert model.model_validate({}).model_dump(exclude_unset=True) == {}, "name must be optional"
    given = model.model_validate({"name": "Zeta 2"}).model_dump(exclude_unset=True)
    assert given == {"name": "Zeta 2"}, f"a given name must be kept, got {given}"
    for bad in ("", "x" * 101):
        try:
            model.model_validate({"name": bad})
        except ValidationError:
            continue
        raise AssertionError(f"a name of {len(bad)} characters must be refused")
    passed("MyProjectUpdate: name optional, 1 to 100 characters when given")


async def check_assign_by_hand(assign_by_hand: Callable[..., Any], engine: Any) -> None:
    """Exercise 02-3: assign through ``Task.workers``, idempotently, then undo."""
    if is_stub(assign_by_hand):
        return not_yet("write the body of assign_by_hand")
    from sqlmodel import select

    import taskkit
    from taskkit import TaskWorkerLink

    pair = (TaskWorkerLink.task_id == 3) & (TaskWorkerLink.worker_id == "w-new")
    try:
        for _ in range(2):
            async with taskkit.session(engine) as session:
                await assign_by_hand(session, 3, "w-new")
        async with taskkit.session(engine) as session:
            links = (await session.exec(select(TaskWorkerLink).where(pair))).all()
        assert len(links) == 1, f"expected one link row (3, 'w-new'), found {len(links)}"
    finally:
        async with taskkit.session(engine) as session:
            await taskkit.unassign(session, 3, "w-new")
    passed("assign_by_hand stores one link, and a second call changes nothing")


async def check_recent_high(statement: Any, engine: Any) -> None:
    """Exercise 02-4: the 5 newest pending high-priority tasks, newest first."""
    if not attempted(statement):
        return not_yet("write the statement recent_high")
    import taskkit

    expected = taskkit.select_tasks(status="pending", priority="high").limit(5)
    async with taskkit.session(engine) as session:
        got = [task.id for task in (await session.exec(statement)).all()]
        want = [task.id for task in (await session.exec(expected)).all()]
    assert got == want, f"expected task ids {want}, got {got}"
    passed(f"recent_high returns tasks {got}")


# ---------------------------------------------------------------------------------------------
# Notebook 04: the API


async def check_read_project(
    read_project: Callable[..., Any], session_override: Callable[..., Any]
) -> None:
    """Exercise 04-1: GET /projects/{id} returns ProjectRead, or 404 naming the id."""
    if is_stub(read_project):
        return not_yet("write the body of read_project")
    import httpx
    from fastapi import FastAPI

    import taskkit
    from taskkit import ProjectRead

    app = FastAPI()
    app.add_api_route(
        "/projects/{project_id}", read_project, methods=["GET"], response_model=ProjectRead
    )
    app.dependency_overrides[taskkit.get_session] = session_override
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://check") as client:
        found = await client.get("/projects/1")
        assert found.status_code == 200, f"GET /projects/1: expected 200, got {found.status_code}"
        assert sorted(found.json()) == ["id", "name"], f"fields of ProjectRead, got {found.json()}"
        assert found.json()["id"] == 1, f"project 1 expected, got {found.json()}"
        missing = await client.get("/projects/9999")
        assert missing.status_code == 404, (
            f"GET /projects/9999: expected 404, got {missing.status_code}"
        )
        detail = missing.json().get("detail", "")
        assert "9999" in str(detail), f"the 404 detail should name the id, got {detail!r}"
    passed("GET /projects/1 -> 200 ProjectRead, GET /projects/9999 -> 404 naming the id")


# ---------------------------------------------------------------------------------------------
# Notebook 05: Alembic


def check_prediction(predicted: tuple[Any, ...], actual: tuple[Any, ...], names: str) -> None:
    """A predict-then-run exercise: ``predicted`` must equal what really happened."""
    if not attempted(*predicted):
        return not_yet(f"fill in {names}")
    assert tuple(predicted) == tuple(actual), f"predicted {predicted}, but it was {actual}"
    passed(f"predicted right: {names} = {', '.join(map(repr, actual))}")


def check_alembic_downgrade(args: list[str], versions: list[tuple[str]]) -> None:
    """Exercise 05-2: downgrade to no revision at all, then back to head."""
    if not attempted(args):
        return not_yet("replace '...' in downgrade_args")
    assert args[0] == "downgrade", f"the command is 'downgrade', got {args[0]!r}"
    assert args[-1] == "base", f"'base' is the target before the first revision, got {args[-1]!r}"
    assert versions == [("0001",)], f"alembic_version should be back at 0001, got {versions}"
    passed("downgraded to base and upgraded back to 0001")


def check_batch_revision(
    alembic: Callable[..., Any], app: Path, upgrade_body: str, downgrade_body: str
) -> None:
    """Exercise 05-3: revision 0004 adds ix_task_project_id in batch mode and removes it."""
    if not attempted(upgrade_body, downgrade_body):
        return not_yet("write the bodies of upgrade_0004 and downgrade_0004")
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0004"\ndown_revision = "0003"\n\n\n'
        f"def upgrade() -> None:\n{_body(upgrade_body)}\n\n"
        f"def downgrade() -> None:\n{_body(downgrade_body)}"
    )
    revision = app / "migrations" / "versions" / "0004_task_project_index.py"
    revision.write_text(source)
    index = "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_task_project_id'"
    try:
        up = alembic("upgrade", "0004", tail=2)
        assert up.returncode == 0, "upgrade to 0004 failed (see the message above)"
        assert _query(app, index) == [("ix_task_project_id",)], (
            "no ix_task_project_id after upgrade"
        )
        down = alembic("downgrade", "0003", tail=2)
        assert down.returncode == 0, "downgrade to 0003 failed (see the message above)"
        assert _query(app, index) == [], "ix_task_project_id is still there after downgrade"
    finally:
        # Leave the lesson as it was: head 0003, and no revision 0004 in the chain.
        if _query(app, "SELECT version_num FROM alembic_version") == [("0004",)]:
            alembic("downgrade", "0003")
        revision.unlink()
    passed("0004 creates ix_task_project_id and its downgrade removes it")


def _body(text: str) -> str:
    """A function body from the learner's text: dedented, then indented one level."""
    return textwrap.indent(textwrap.dedent(text).strip("\n") + "\n", "    ")


def _query(app: Path, query: str) -> list[tuple]:
    with sqlite3.connect(app / "app.db") as conn:
        return conn.execute(query).fetchall()
