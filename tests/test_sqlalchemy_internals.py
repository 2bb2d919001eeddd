"""Each reach into SQLAlchemy's private attributes answers right on the pinned version: an
upgrade that moves one fails here, by its name (taskkit/_sqlalchemy_internals.py)."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import func, select
from sqlmodel.sql.expression import SelectOfScalar

from taskkit import Project, Status, Task
from taskkit._sqlalchemy_internals import (
    as_row_select,
    bind_processors,
    cache_key,
    group_by_clauses,
    has_having,
    has_limit,
    has_loader_options,
    has_row_limit,
    is_distinct,
    is_orm_statement,
    literal_limit,
    literal_offset,
    named_froms,
    order_by_clauses,
    plain_table,
    row_columns,
    shapes_rows,
    with_where_wrapped,
    without_result_columns,
)

PLAIN = select(Task).where(Task.status == "pending")
GROUPED = select(Task.status, func.count()).group_by(Task.status)


def test_grouping_distinct_and_having_are_read():
    assert group_by_clauses(PLAIN) == ()
    (clause,) = group_by_clauses(GROUPED)
    assert clause.compare(Task.__table__.c.status)  # type: ignore[attr-defined]
    assert not has_having(GROUPED) and has_having(GROUPED.having(func.count() > 1))
    assert not is_distinct(PLAIN) and is_distinct(PLAIN.distinct())


def test_a_row_limit_is_limit_offset_or_fetch():
    assert not has_row_limit(PLAIN)
    for cut in (PLAIN.limit(5), PLAIN.offset(5), PLAIN.fetch(5)):
        assert has_row_limit(cut) and shapes_rows(cut)
    assert not shapes_rows(PLAIN)
    assert shapes_rows(GROUPED) and shapes_rows(PLAIN.distinct())


def test_order_by_clauses_keep_direction_and_order():
    stmt = PLAIN.order_by(sa.desc(Task.priority), Task.id)
    first, second = order_by_clauses(stmt)
    assert "DESC" in str(first) and second.compare(Task.__table__.c.id)  # type: ignore[attr-defined]
    assert order_by_clauses(PLAIN) == ()


def test_loader_options_and_orm_statements_are_told_apart():
    assert has_loader_options(PLAIN.options(selectinload(Task.workers)))  # type: ignore[arg-type]
    assert not has_loader_options(PLAIN)
    assert is_orm_statement(PLAIN)
    assert not is_orm_statement(sa.select(Task.__table__))  # type: ignore[attr-defined]


def test_named_froms_are_the_final_froms_without_compiling():
    """Where a select names its FROM items (columns, select_from, a join given whole) they are
    get_final_froms' list, in its order; a .join() is worked out by compiling, as there."""
    task = Task.__table__  # type: ignore[attr-defined]
    project = Project.__table__  # type: ignore[attr-defined]
    whole = task.outerjoin(project, task.c.project_id == project.c.id)
    for stmt in (
        select(Task),
        sa.select(task.c.id, project.c.name),  # two tables: a cross join
        sa.select(task.c.id, project.c.name).select_from(whole),  # the join holds both
        sa.select(whole.c.task_id),  # a join's own column
        select(Task.id, Project.name).join(Project),  # resolved when compiled
        select(Task.id).join_from(Task, Project).where(Project.name == "x"),
    ):
        # By their SQL: an ORM join is built anew at each compile (an equal, new object).
        mine = [str(plain_table(f)) for f in named_froms(stmt)]  # type: ignore[arg-type]
        assert mine == [str(plain_table(f)) for f in stmt.get_final_froms()], str(stmt)
    # A table only in the WHERE clause is left out (get_final_froms compiles to find it).
    only_where = sa.select(task.c.id).where(task.c.project_id == project.c.id)
    assert named_froms(only_where) == (task,)
    assert set(only_where.get_final_froms()) == {task, project}


async def test_a_scalar_select_as_a_row_select_is_the_same_sql_read_as_rows(engine):
    """SQLModel's select() of one column is read as one scalar a row; the copy is SQLAlchemy's
    own Select, with the same SQL, read as rows; without the ORM's compile step it still
    compiles to the same SQL, as Core."""
    import taskkit

    titles = select(Task.title).where(Task.status == "pending").order_by(Task.title)
    assert isinstance(titles, SelectOfScalar)
    rows = as_row_select(titles)
    assert type(rows) is sa.Select and str(rows) == str(titles)
    core = as_row_select(titles, keep_orm=False)
    assert not is_orm_statement(core) and is_orm_statement(rows)
    assert str(core) == str(titles)
    async with taskkit.session(engine) as s:
        await taskkit.create_task(s, {"title": "a"})
        assert (await s.exec(titles)).all() == ["a"]  # scalars
        assert [tuple(r) for r in (await s.exec(rows)).all()] == [("a",)]  # rows
        assert [tuple(r) for r in (await s.exec(core)).all()] == [("a",)]


async def test_a_row_names_the_column_of_each_value(engine):
    import taskkit

    task = Task.__table__  # type: ignore[attr-defined]
    async with taskkit.session(engine) as s:
        await taskkit.create_task(s, {"title": "a"})
    async with engine.connect() as conn:
        (row,) = (await conn.execute(sa.select(task.c.title, task.c.id))).all()
        assert row_columns(row) == [task.c.title, task.c.id]
        (bare,) = (await conn.execute(sa.text("SELECT 1 AS one, 2 AS two"))).all()
        assert row_columns(bare) is None  # text names no column


def test_a_cache_key_is_the_structure_and_the_values():
    one, two = (select(Task).where(Task.title == t) for t in ("a", "b"))
    assert cache_key(one).key == cache_key(two).key  # one structure
    values = [[b.effective_value for b in cache_key(s).bindparams] for s in (one, two)]
    assert values == [["a"], ["b"]]
    assert cache_key(select(Task).where(Task.id == 1)).key != cache_key(one).key


def test_plain_table_is_one_object_for_every_mention():
    joined = select(Task.id, Project.name).join(Project)
    tables = {plain_table(t) for t in sa.sql.util.find_tables(joined.get_final_froms()[0])}
    assert tables == {Task.__table__, Project.__table__}  # type: ignore[attr-defined]


def test_where_conditions_are_wrapped_and_nothing_else_changes():
    stmt = PLAIN.where(Task.priority == "high").order_by(Task.id).limit(3)
    made = with_where_wrapped(stmt, func.likely)
    sql = str(made.compile(compile_kwargs={"literal_binds": True}))
    assert sql.count("likely(") == 2
    assert "ORDER BY task.id" in sql and "LIMIT 3" in sql
    assert "likely(" not in str(stmt)  # the original is left as it was


def test_a_compiler_without_result_columns_reads_rows_untyped():
    compiled = select(Task.status).compile()
    assert compiled._result_columns  # what the function empties
    without_result_columns(compiled)
    assert compiled._result_columns == []


def test_bind_processors_convert_a_parameter_as_execution_would():
    compiled = (
        select(Task)
        .where(Task.status == "pending")
        .compile(dialect=sa.create_engine("sqlite://").dialect)
    )
    processors = bind_processors(compiled)
    (name,) = [n for n in compiled.params if n in processors]
    stored = processors[name](Status.pending)  # the member, as the statement holds it
    assert stored == "pending" and type(stored) is str


def test_a_literal_limit_and_offset_are_read_from_any_select():
    assert (literal_limit(PLAIN), literal_offset(PLAIN), has_limit(PLAIN)) == (None, None, False)
    cut = PLAIN.limit(10).offset(20)
    assert (literal_limit(cut), literal_offset(cut), has_limit(cut)) == (10, 20, True)
    union = sa.union_all(PLAIN, PLAIN).limit(3)
    assert (literal_limit(union), has_limit(union)) == (3, True)
    bound = PLAIN.limit(sa.bindparam("n", 5))  # an expression: not a plain number
    assert (literal_limit(bound), has_limit(bound)) == (None, True)
    assert not has_limit(PLAIN.offset(5))  # an OFFSET alone does not stop a read early
