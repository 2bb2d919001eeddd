"""The generic SQL layer (taskkit._sql): it works for any table and imports no task module."""

import ast
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
import taskkit._database.engine as database_layer
import taskkit._errors as errors
import taskkit._frames as frames
import taskkit._optional as optional
import taskkit._paging as paging
import taskkit._query as task_queries
import taskkit._sql as generic
import taskkit._sqlalchemy_internals as internals
from taskkit import InvalidArgumentError, count, paginate
from taskkit._sql.functions import FoldedContains, WeekStart
from taskkit._sql.select import check_select

# What generic code may import from taskkit: errors, the database layer, the optional-import
# guard, the SQLAlchemy internals behind their names, and itself. (Module names from the
# modules, so a rename cannot leave a stale string here.)
GENERIC_MAY_IMPORT = (
    errors.__name__,
    database_layer.__name__,
    optional.__name__,
    internals.__name__,
    generic.__name__,
)


def taskkit_imports(path: Path) -> set[str]:
    """The taskkit modules a source file imports (``from taskkit import x`` counts as
    ``taskkit.x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "taskkit":
                found.update(f"taskkit.{a.name}" for a in node.names)
    return {name for name in found if name.split(".")[0] == "taskkit"}


def test_the_generic_layer_imports_no_model_or_task_module() -> None:
    files = sorted(Path(generic.__file__).parent.glob("*.py"))
    assert files
    for path in files:
        allowed = (name for name in taskkit_imports(path) if name != "taskkit")
        wrong = [n for n in allowed if not n.startswith(GENERIC_MAY_IMPORT)]
        assert wrong == [], f"{path.name} imports {wrong}"


@pytest.mark.parametrize("package", [paging, frames], ids=["paging", "frames"])
def test_paging_and_frames_reach_no_task_query_module(package: ModuleType) -> None:
    for path in sorted(Path(package.__file__ or "").parent.glob("*.py")):
        queries = [n for n in taskkit_imports(path) if n.startswith(task_queries.__name__)]
        assert queries == [], f"{package.__name__}/{path.name} imports {queries}"


# A table that is not taskkit's, on its own metadata: what the generic layer serves must work
# for it as it does for tasks.
notes_metadata = sa.MetaData()
notes = sa.Table(
    "sql_layer_note",
    notes_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
MONDAY = datetime(2025, 3, 3, 23, 59, 59, 999_900, tzinfo=UTC)


@pytest.fixture
async def noted(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """``engine`` with 10 notes: kinds a/b alternating, a day apart from a Monday night."""
    async with engine.begin() as conn:
        await conn.run_sync(notes_metadata.create_all)
        await conn.execute(
            notes.insert(),
            [
                {
                    "id": i + 1,
                    "body": "École" if i == 4 else f"note {i}",
                    "kind": "ab"[i % 2],
                    "at": MONDAY + timedelta(days=i),
                }
                for i in range(10)
            ],
        )
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(notes_metadata.drop_all)


async def test_count_counts_rows_of_any_table_plain_grouped_distinct_and_limited(
    noted: AsyncEngine,
) -> None:
    async with taskkit.session(noted) as s:
        assert await count(s, sa.select(notes).order_by(notes.c.at)) == 10
        assert await count(s, sa.select(notes.c.kind).group_by(notes.c.kind)) == 2
        assert await count(s, sa.select(notes.c.kind).distinct()) == 2
        assert await count(s, sa.select(notes).limit(3)) == 3
        assert await count(s, sa.select(notes).where(notes.c.kind == "a")) == 5


async def test_dialect_functions_work_on_any_table(noted: AsyncEngine) -> None:
    async with noted.connect() as conn:
        found = await conn.scalars(
            sa.select(notes.c.id).where(FoldedContains(notes.c.body, "éCOLE"))
        )
        assert found.all() == [5]
        weeks = await conn.execute(
            sa.select(WeekStart(notes.c.at).label("week"), sa.func.count().label("n"))
            .group_by(sa.text("week"))
            .order_by(sa.text("week"))
        )
        # 23:59:59.9999 on the Monday stays in its week; seven days a week from there.
        assert [tuple(r) for r in weeks] == [(date(2025, 3, 3), 7), (date(2025, 3, 10), 3)]


async def test_paging_pages_a_table_that_is_not_taskkit_s(noted: AsyncEngine) -> None:
    async with taskkit.session(noted) as s:
        stmt = sa.select(notes.c.id, notes.c.kind).order_by(notes.c.kind, notes.c.id)
        first = await paginate(s, stmt, size=4)
        second = await paginate(s, stmt, size=4, cursor=first.next_cursor)
    assert [r.id for r in first.items] == [1, 3, 5, 7]
    assert [r.id for r in second.items] == [9, 2, 4, 6]


@pytest.mark.parametrize("value", ["SELECT 1", notes, notes.insert()])
def test_check_select_names_the_argument_and_what_it_got(value: object) -> None:
    assert check_select(sa.select(notes)) is not None
    with pytest.raises(InvalidArgumentError, match=r"tasks must be a select\(\) statement"):
        check_select(value, "tasks")
