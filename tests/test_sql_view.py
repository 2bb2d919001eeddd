"""The teaching view: show_sql and explain on every backend, a Page's SQL, text() frames."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, String, delete, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

import taskkit
from taskkit import InvalidArgumentError, Project, Task
from taskkit._paging.last import last_page
from taskkit._sql.view import _read_postgres


async def seed_small(engine: AsyncEngine, n: int = 30) -> None:
    async with taskkit.session(engine) as s:
        for i in range(n):
            await taskkit.create_task(s, {"title": f"Fix login {i}" if i % 3 else f"Task {i}"})


def test_show_sql_writes_the_values_of_an_in_list_that_print_hides() -> None:
    stmt = taskkit.select_tasks(status=["pending", "completed"])
    assert "POSTCOMPILE" in str(stmt)
    shown = taskkit.show_sql(stmt, "sqlite")
    assert "POSTCOMPILE" not in shown
    assert "IN ('completed',\n" in shown or "IN ('completed', 'pending')" in shown
    assert "'pending')" in shown
    assert shown.startswith("-- sqlite")
    assert repr(shown) == str(shown)  # a notebook shows lines, not a quoted string


def test_show_sql_is_the_dialects_own_sql() -> None:
    stmt = taskkit.select_tasks(search="login")
    assert "GLOB '*[lL][oO][gG][iI][nN]*'" in taskkit.show_sql(stmt, "sqlite")
    assert "ILIKE '%' || 'login'" in taskkit.show_sql(stmt, "postgresql+asyncpg")


def test_show_sql_quotes_values_so_they_read_as_one_literal() -> None:
    shown = taskkit.show_sql(taskkit.select_tasks(search="o'; DROP TABLE task; --"), "postgresql")
    assert "'o''; DROP TABLE task; --'" in shown


def test_show_sql_writes_timestamps_with_their_zone() -> None:
    stmt = taskkit.select_tasks(created_from=datetime(2025, 6, 1, tzinfo=UTC))
    assert "'2025-06-01 00:00:00+00:00'" in taskkit.show_sql(stmt, "sqlite")


async def test_show_sql_takes_an_engine_or_a_session(engine: AsyncEngine) -> None:
    stmt = select(Task).where(Task.id == 7)
    name = engine.dialect.name
    assert taskkit.show_sql(stmt, engine).startswith(f"-- {name}")
    async with taskkit.session(engine) as s:
        assert "task.id = 7" in taskkit.show_sql(stmt, s)


@pytest.mark.parametrize(
    ("stmt", "target", "message"),
    [
        ("SELECT 1", "sqlite", "stmt must be a SQLAlchemy statement"),
        (select(Task), "nosuchdb", "dialect_or_engine must be"),
        (select(Task), 42, "got int"),
    ],
)
def test_show_sql_refuses_what_it_cannot_show(stmt: object, target: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        taskkit.show_sql(stmt, target)  # type: ignore[arg-type]


async def test_explain_sees_the_index_that_serves_an_order(engine: AsyncEngine) -> None:
    await seed_small(engine)
    plan = await taskkit.explain(engine, taskkit.select_tasks(order_by="-created_at").limit(50))
    assert plan.dialect in ("sqlite", "postgresql") and plan.lines
    if plan.dialect == "sqlite":  # PostgreSQL's planner prefers a sort on a table this small
        assert plan.indexes == ("ix_task_created_at",)
        # A walk of the index from its newest end, which the LIMIT stops: no whole table.
        assert plan.full_scan and plan.stops_early and not plan.reads_every_row
        assert not plan.temp_sort
        assert "reads 50 rows in order and stops (LIMIT)" in plan.summary
    assert plan.summary in repr(plan)


@pytest.mark.parametrize("order_by", ["id", "-created_at"])
async def test_explain_sees_a_search_read_every_row(engine: AsyncEngine, order_by: str) -> None:
    await seed_small(engine)
    plan = await taskkit.explain(engine, taskkit.select_tasks(search="login", order_by=order_by))
    # SQLite walks ix_task_created_at (or the table) for the order: every row, not a seek.
    assert plan.reads_every_row
    assert "reads every row of a table" in plan.summary
    assert "no whole table" not in plan.summary


async def test_explain_of_a_limit_read_in_key_order_is_no_whole_table(engine: AsyncEngine) -> None:
    await seed_small(engine)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # On 30 rows PostgreSQL would sort them all; a million walk the primary key.
            await conn.exec_driver_sql("SET enable_sort = off")
        plan = await taskkit.explain(conn, select(Task).order_by(Task.id).limit(51))
        skipping = await taskkit.explain(conn, select(Task).order_by(Task.id).offset(20).limit(5))
    # SQLite walks the table in rowid order, PostgreSQL the primary key's index; both stop.
    assert plan.full_scan and plan.stops_early and not plan.reads_every_row
    assert "whole table" not in plan.summary and "every row" not in plan.summary
    assert "reads 51 rows in order and stops (LIMIT)" in plan.summary
    assert "reads 25 rows in order and stops (LIMIT, skipping 20 (OFFSET))" in skipping.summary


async def test_explain_of_a_filtered_limit_read_says_it_may_read_every_row(
    engine: AsyncEngine,
) -> None:
    await seed_small(engine)
    stmt = select(Task).where(col(Task.description).is_(None)).order_by(Task.id).limit(5)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("SET enable_sort = off")
        plan = await taskkit.explain(conn, stmt)
    assert plan.stops_early and plan.filtered and not plan.reads_every_row
    assert "reads rows in order until 5 match (LIMIT; the whole table when fewer match)" in (
        plan.summary
    )


async def test_explain_reads_plan_rows_untyped_by_the_statements_columns(
    engine: AsyncEngine,
) -> None:
    # Four columns, the third an Enum: SQLite's plan rows have four columns, the third '0'.
    await seed_small(engine)
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "Apollo"})
    joined = select(Task.id, Task.title, Task.status, Project.name).join(Project)
    plan = await taskkit.explain(engine, joined)
    assert plan.lines and all(isinstance(line, str) for line in plan.lines)
    # One column, an Enum: PostgreSQL's plan has one column of text lines.
    one = await taskkit.explain(engine, select(Task.status).where(Task.id > 3))
    assert one.lines and all(isinstance(line, str) for line in one.lines)


async def test_explain_sees_a_sort_no_index_serves(engine: AsyncEngine) -> None:
    await seed_small(engine)
    async with taskkit.session(engine) as s:
        plan = await taskkit.explain(s, taskkit.select_tasks(order_by="priority").limit(50))
    assert plan.temp_sort
    assert "sorts the rows itself" in plan.summary


async def test_explain_of_an_offset_page_reads_the_rows_it_skips(engine: AsyncEngine) -> None:
    await seed_small(engine)
    stmt = select(Task).order_by(Task.created_at, Task.id)
    plan = await taskkit.explain(engine, stmt.offset(20).limit(5))
    assert any("OFFSET" in taskkit.show_sql(stmt.offset(20), engine) for _ in [0])
    assert plan.lines


def test_an_incremental_sort_on_postgresql_is_an_index_giving_the_order() -> None:
    lines = [
        ("Limit  (cost=0.48..5.06 rows=51 width=140)",),
        ("  ->  Incremental Sort  (cost=0.48..89839.43 rows=1000000 width=140)",),
        ("        Sort Key: created_at DESC, id DESC",),
        ("        Presorted Key: created_at",),
        ("        ->  Index Scan Backward using ix_task_created_at on task  (cost=0.42..4.43)",),
    ]
    plan = _read_postgres(lines)
    assert plan.indexes == ("ix_task_created_at",) and not plan.temp_sort
    # The index is walked (no Index Cond), and the LIMIT stops it: the ties' sort streams.
    assert plan.full_scan and plan.stops_early and not plan.reads_every_row
    full = _read_postgres([("Sort  (cost=1.0..2.0 rows=5 width=9)",), ("  Sort Key: x",)])
    assert full.temp_sort


@pytest.mark.parametrize(
    ("lines", "every_row"),
    [
        (["Limit  (cost=0.00..2.04 rows=51 width=9)", "  ->  Seq Scan on task  (cost=0.00)"],
         False),
        (["Limit  (cost=9.0..9.1 rows=51 width=9)", "  ->  Sort  (cost=9.0..9.5 rows=99)",
          "        Sort Key: title", "        ->  Seq Scan on task  (cost=0.00..5.0)"], True),
        (["Limit  (cost=0.28..6.04 rows=51 width=9)",
          "  ->  Index Scan using task_pkey on task  (cost=0.28..113.28)",
          "        Filter: (description IS NULL)"], False),
        (["Limit  (cost=1.4..3.0 rows=51 width=9)", "  ->  Hash Join  (cost=1.4..30.0)",
          "        Hash Cond: (task.project_id = project.id)",
          "        ->  Seq Scan on task  (cost=0.00..25.0)",
          "        ->  Hash  (cost=1.2..1.2 rows=20)",
          "              ->  Seq Scan on project  (cost=0.00..1.2 rows=20)"], True),
        (["Index Scan using ix_task_title on task  (cost=0.28..8.29 rows=1)",
          "  Index Cond: ((title)::text = 'x'::text)"], False),
        (["Seq Scan on task  (cost=0.00..25.0 rows=1000)"], True),
    ],
    ids=["limit-seq-scan", "limit-sort", "limit-index-walk", "limit-hash-join", "seek", "seq"],
)  # fmt: skip
def test_postgresql_plans_say_which_walks_a_limit_stops(lines: list[str], every_row: bool) -> None:
    plan = _read_postgres([(line,) for line in lines])
    assert plan.reads_every_row is every_row
    assert ("reads every row of a table" in plan.summary) is every_row


async def test_explain_refuses_a_string(engine: AsyncEngine) -> None:
    with pytest.raises(InvalidArgumentError, match="stmt must be a SQLAlchemy statement"):
        await taskkit.explain(engine, "SELECT 1")


@pytest.mark.parametrize(
    ("stmt", "problem"),
    [
        (text("(ANALYZE) DELETE FROM task WHERE id <= 50"), "the text '(ANALYZE) DELETE FROM"),
        (text("/* plan */ (ANALYZE, FORMAT TEXT) SELECT 1"), "is not a SELECT"),
        (text("SELECT 1; DELETE FROM task"), "holds several statements"),
        (text("DELETE FROM task"), "the text 'DELETE FROM task' is not a SELECT"),
        (update(Task).values(title="x"), "got an UPDATE statement"),
        (delete(Task), "got a DELETE statement"),
        (insert(Task).values(title="x"), "got an INSERT statement"),
        (Task.id == 1, "got a BinaryExpression"),
    ],
)
@pytest.mark.parametrize("through", ["engine", "session"])
async def test_explain_refuses_all_but_a_single_select_and_runs_nothing(
    engine: AsyncEngine, stmt: object, problem: str, through: str
) -> None:
    """Issue 25 item 5: on PostgreSQL `EXPLAIN (ANALYZE) DELETE ...` deleted and committed the
    rows; an UPDATE raised AttributeError. Both are one line now, and nothing changes."""
    await seed_small(engine, 3)  # ids 1 to 3: what the DELETE would take
    async with taskkit.session(engine) as s:
        source = engine if through == "engine" else s
        with pytest.raises(InvalidArgumentError) as info:
            await taskkit.explain(source, stmt)
        assert await taskkit.count(s, select(Task)) == 3
    message = str(info.value)
    assert "\n" not in message and problem in message
    assert message.startswith("explain plans a single SELECT")


async def test_explain_plans_text_holding_one_select(engine: AsyncEngine) -> None:
    await seed_small(engine)
    stmt = text("-- the first five\nSELECT id, title FROM task WHERE id <= :n").bindparams(n=5)
    plan = await taskkit.explain(engine, stmt)
    assert plan.lines
    with_columns = text("WITH t AS (SELECT id FROM task) SELECT id FROM t").columns(Task.id)
    assert (await taskkit.explain(engine, with_columns)).lines


async def test_a_pages_html_shows_its_sql_collapsed(engine: AsyncEngine) -> None:
    await seed_small(engine, 12)
    stmt = taskkit.select_tasks(status="pending", order_by="id")
    async with taskkit.session(engine) as s:
        first = await taskkit.paginate(s, stmt, size=5)
        second = await taskkit.paginate(s, stmt, size=5, cursor=first.next_cursor)
    shown = second._repr_html_()
    assert "<details><summary><small>SQL of this page" in shown
    assert "<details open" not in shown
    assert "task.id &gt; 5" in shown  # the seek condition: the SQL that fetched this page
    assert "LIMIT 6" in shown


async def test_the_last_page_is_read_backwards_and_walks_back(engine: AsyncEngine) -> None:
    await seed_small(engine, 12)
    stmt = taskkit.select_tasks(order_by="id")
    async with taskkit.session(engine) as s:
        last = await last_page(s, stmt, size=5, total=12)
        before = await taskkit.paginate(s, stmt, size=5, cursor=last.prev_cursor)
        first = await taskkit.paginate(s, stmt, size=5, cursor=before.prev_cursor)
    assert [t.id for t in last] == [8, 9, 10, 11, 12]
    assert (last.number, last.has_next, last.has_prev) == (3, False, True)
    assert [t.id for t in before] == [3, 4, 5, 6, 7]
    assert [t.id for t in first] == [1, 2]
    assert "ORDER BY task.id DESC" in last._repr_html_()


async def test_to_dataframe_reads_text_with_its_columns(engine: AsyncEngine) -> None:
    await seed_small(engine, 4)
    by_model = text("SELECT id, title, status FROM task ORDER BY id").columns(
        Task.id, Task.title, Task.status
    )
    frame = await taskkit.to_dataframe(engine, by_model)
    assert list(frame["id"]) == [1, 2, 3, 4]
    assert str(frame["status"].dtype) == "category"
    by_type = text("SELECT id, title FROM task ORDER BY id").columns(id=Integer, title=String)
    frame = await taskkit.to_dataframe(engine, by_type)
    assert list(frame.columns) == ["id", "title"] and frame["title"][0] == "Task 0"


async def test_to_dataframe_says_text_needs_its_columns(engine: AsyncEngine) -> None:
    with pytest.raises(InvalidArgumentError, match=r"text\(\) without its columns"):
        await taskkit.to_dataframe(engine, text("SELECT id FROM task"))
