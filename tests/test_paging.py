"""Pagination: every row exactly once, in order, both ways, on every backend; bad input refused.

The property tests page through random tables whose sort keys hold ties and NULLs, with
random orderings (several keys, mixed directions, explicit or default NULL placement) and
random page sizes, and compare with ``session.exec(stmt)`` on the same database (SQLite and
PostgreSQL, whose default NULL orders differ) and with an order computed in Python.
"""

import base64
import hashlib
import json
import math
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cmp_to_key
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    event,
    func,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

import taskkit
from taskkit import (
    InvalidArgumentError,
    InvalidCursorError,
    Page,
    Priority,
    Project,
    Status,
    Task,
    Worker,
    pages,
    paginate,
    paginate_offset,
    select_tasks,
)
from taskkit._paging import MAX_PAGE_SIZE
from taskkit._paging.cursor import _decode_value, _encode_value

BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# A table of its own, outside SQLModel.metadata, so the other test modules never see it.
probe_metadata = MetaData()
probe = Table(
    "paging_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=True),
    Column("s", String(10), nullable=True),
    Column("t", UTCDateTime(), nullable=True),
    Column("k", Integer, nullable=False),
)
PROBE_COLUMNS = ("n", "s", "t", "k", "id")


@pytest.fixture
async def probe_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with engine.begin() as conn:
        await conn.run_sync(probe_metadata.create_all)
        await conn.execute(delete(probe))
    yield engine
    async with engine.begin() as conn:  # PostgreSQL keeps it; schema checks must not see it
        await conn.run_sync(probe_metadata.drop_all)


async def fill_probe(engine: AsyncEngine, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    records = [
        dict(zip(("n", "s", "t", "k"), r, strict=True), id=i + 1) for i, r in enumerate(rows)
    ]
    async with engine.begin() as conn:
        await conn.execute(delete(probe))
        if records:
            await conn.execute(insert(probe), records)
    return records


def python_order(records: list[dict[str, Any]], keys: list[tuple[str, bool, bool]]) -> list[int]:
    """Ids in the order (column, descending, nulls_first) keys give, then id as tiebreak."""
    names = [k[0] for k in keys]
    if "id" not in names:
        keys = [*keys, ("id", keys[-1][1] if keys else False, False)]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, descending, nulls_first in keys:
            x, y = a[name], b[name]
            if x == y:
                continue
            if x is None:
                return -1 if nulls_first else 1
            if y is None:
                return 1 if nulls_first else -1
            c = (x > y) - (x < y)
            return -c if descending else c
        return 0

    return [r["id"] for r in sorted(records, key=cmp_to_key(compare))]


async def walk_forward(session: AsyncSession, stmt: Any, size: int) -> list[Page[Any]]:
    walked = [await paginate(session, stmt, size=size)]
    while walked[-1].has_next:
        assert walked[-1].next_cursor is not None
        walked.append(await paginate(session, stmt, size=size, cursor=walked[-1].next_cursor))
        assert len(walked) <= 1000, "pagination does not end"
    return walked


def ids_of(page: Page[Any]) -> list[int]:
    return exec_ids(page.items)


def exec_ids(items: Any) -> list[int]:
    """Ids of ``session.exec`` results or page items: ids themselves, rows or models."""
    return [item if isinstance(item, int) else item.id for item in items]


# ---------------------------------------------------------------------------------------------
# Properties.

probe_rows = st.lists(
    st.tuples(
        st.none() | st.integers(-2, 2),
        st.none() | st.sampled_from(["", "a", "ab", "b"]),
        st.none() | st.integers(0, 3).map(lambda m: BASE + timedelta(minutes=m)),
        st.integers(0, 2),
    ),
    max_size=40,
)
orderings = st.lists(
    st.tuples(st.sampled_from(PROBE_COLUMNS), st.booleans(), st.sampled_from([None, True, False])),
    max_size=3,
    unique_by=lambda key: key[0],
)


@PROPERTY
@given(rows=probe_rows, ordering=orderings, size=st.integers(1, 12), scalar=st.booleans())
async def test_pages_concatenate_to_the_ordered_result_and_walk_back_the_same(
    probe_engine: AsyncEngine,
    rows: list[tuple[Any, ...]],
    ordering: list[tuple[str, bool, bool | None]],
    size: int,
    scalar: bool,
) -> None:
    records = await fill_probe(probe_engine, rows)
    clauses = []
    for name, descending, nulls_first in ordering:
        clause = probe.c[name].desc() if descending else probe.c[name].asc()
        if nulls_first is not None:
            clause = clause.nulls_first() if nulls_first else clause.nulls_last()
        clauses.append(clause)
    stmt = (select(probe.c.id) if scalar else select(probe)).order_by(*clauses)
    last_descending = ordering[-1][1] if ordering else False
    # The same statement made total the way paginate makes it: the primary key last.
    total = stmt.order_by(probe.c.id.desc() if last_descending else probe.c.id.asc())
    sort_key = {r["id"]: tuple(r[name] for name, _, _ in ordering) for r in records}

    async with taskkit.session(probe_engine) as s:
        smallest = s.get_bind().dialect.name == "sqlite"  # where the database puts NULL
        unpaged = exec_ids((await s.exec(stmt)).all())
        unpaged_total = exec_ids((await s.exec(total)).all())
        await s.commit()
        forward = await walk_forward(s, stmt, size)
        paged = [i for p in forward for i in ids_of(p)]
        # session.exec(stmt) itself: the same sort keys in the same sequence (rows that tie
        # on every key may come in any order there) ...
        assert sorted(paged) == sorted(unpaged)
        assert [sort_key[i] for i in paged] == [sort_key[i] for i in unpaged]
        # ... and exactly its rows once the primary key breaks the ties.
        assert paged == unpaged_total
        # The rule, spelled out: NULLs where the statement says, else where the database does.
        rule = [(n, d, (smallest != d) if f is None else f) for n, d, f in ordering]
        assert paged == python_order(records, rule)
        assert len(forward) == max(1, math.ceil(len(records) / size))
        assert [p.number for p in forward] == list(range(1, len(forward) + 1))
        assert all(len(p.items) == size for p in forward[:-1])
        assert [p.has_prev for p in forward] == [False] + [True] * (len(forward) - 1)

        backward = [forward[-1]]
        while backward[-1].has_prev:
            cursor = backward[-1].prev_cursor
            backward.append(await paginate(s, stmt, size=size, cursor=cursor))
            assert len(backward) <= len(forward)
        assert [ids_of(p) for p in reversed(backward)] == [ids_of(p) for p in forward]
        assert [p.number for p in reversed(backward)] == [p.number for p in forward]
        assert s.in_transaction() is False


task_rows = st.lists(
    st.tuples(
        st.sampled_from(list(Status)),
        st.sampled_from(list(Priority)),
        st.none() | st.sampled_from([1, 2]),
        st.none() | st.sampled_from(["x", "y"]),
        st.integers(0, 3),
        st.integers(0, 2),
    ),
    max_size=30,
)
task_orderings = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "title",
                "description",
                "status",
                "priority",
                "project_id",
                "created_at",
                "completed_at",
            ]
        ),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda key: key[0],
)
RANK = {
    **{s.value: i for i, s in enumerate(Status)},
    **{p.value: i for i, p in enumerate(Priority)},
}


@pytest.fixture
async def two_projects(engine: AsyncEngine) -> AsyncEngine:
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "Apollo"})
        await taskkit.create_project(s, {"name": "Gemini"})
    return engine


@PROPERTY
@given(rows=task_rows, ordering=task_orderings, size=st.integers(1, 9))
async def test_select_tasks_pages_match_its_documented_order(
    two_projects: AsyncEngine,
    rows: list[tuple[Any, ...]],
    ordering: list[tuple[str, bool]],
    size: int,
) -> None:
    engine = two_projects
    records = []
    for i, (status, priority, project_id, description, created, done) in enumerate(rows):
        created_at = BASE + timedelta(hours=created)
        completed = status == Status.completed
        records.append(
            {
                "id": i + 1,
                "title": f"t{i % 3}",
                "description": description,
                "status": status.value,
                "priority": priority.value,
                "project_id": project_id,
                "created_at": created_at,
                "updated_at": created_at,
                "completed_at": created_at + timedelta(days=done) if completed else None,
                "resolution": "done" if completed else None,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(delete(Task))
        if records:
            await conn.execute(insert(Task), records)
    names = [f"-{n}" if d else n for n, d in ordering]
    stmt = select_tasks(order_by=names, with_project=True)
    ranked = [{**r, "status": RANK[r["status"]], "priority": RANK[r["priority"]]} for r in records]
    expected = python_order(ranked, [(n, d, False) for n, d in ordering])

    async with taskkit.session(engine) as s:
        unpaged = [t.id for t in (await s.exec(stmt)).all()]
        forward = await walk_forward(s, stmt, size)
        assert [i for p in forward for i in ids_of(p)] == unpaged == expected
        names_loaded = {t.project.name for p in forward for t in p.items if t.project}
        assert names_loaded <= {"Apollo", "Gemini"}


# ---------------------------------------------------------------------------------------------
# The cases the usual recipes get wrong, at a size where they show.


async def insert_tasks(engine: AsyncEngine, n: int) -> None:
    """``n`` tasks: a third completed (completed_at set), many ties in every column."""
    records = []
    for i in range(n):
        created_at = BASE + timedelta(minutes=i // 7)
        completed = i % 3 == 0
        records.append(
            {
                "title": f"task {i % 50}",
                "description": None if i % 4 else f"about {i % 5}",
                "status": "completed" if completed else "pending",
                "priority": ["low", "medium", "high"][i % 3],
                "created_at": created_at,
                "updated_at": created_at,
                "completed_at": created_at + timedelta(hours=i % 11) if completed else None,
                "resolution": "done" if completed else None,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(Task), records)


@pytest.mark.parametrize(
    "order",
    [
        (col(Task.completed_at),),
        (col(Task.completed_at).desc(),),
        (col(Task.completed_at).desc().nulls_first(), col(Task.title)),
        (col(Task.description), col(Task.created_at).desc()),
        (col(Task.priority),),
    ],
    ids=["nullable-asc", "nullable-desc", "nulls-first-two-keys", "nullable-text-mixed", "ties"],
)
async def test_paginate_returns_each_row_once_when_sort_key_is_mostly_null(
    engine: AsyncEngine, order: tuple[Any, ...]
) -> None:
    await insert_tasks(engine, 2000)
    stmt = select(Task.id).order_by(*order)
    async with taskkit.session(engine) as s:
        seen = [i for p in await walk_forward(s, stmt, 37) for i in p.items]
    assert len(seen) == 2000
    assert sorted(seen) == list(range(1, 2001))


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_pages_put_nulls_where_the_database_does_when_the_statement_leaves_it_open(
    engine: AsyncEngine, descending: bool
) -> None:
    # The case: order_by(Task.description) paged NULLs last on SQLite, where
    # session.exec puts them first (and PostgreSQL's DESC the other way round).
    await insert_tasks(engine, 60)
    key = col(Task.description).desc() if descending else col(Task.description)
    stmt = select(Task).order_by(key, col(Task.id))
    async with taskkit.session(engine) as s:
        unpaged = [t.id for t in (await s.exec(stmt)).all()]
        smallest = s.get_bind().dialect.name == "sqlite"
        keyset = [i for p in await walk_forward(s, stmt, 7) for i in ids_of(p)]
        offset = []
        for number in range(1, 10):
            offset += ids_of(await paginate_offset(s, stmt, page=number, size=7))
        first = await paginate(s, stmt, size=1)
    assert keyset == unpaged
    assert offset == unpaged
    assert (first.items[0].description is None) is (smallest != descending)


@pytest.mark.parametrize("nulls_first", [True, False], ids=["nulls-first", "nulls-last"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_pages_put_nulls_where_the_statement_says(
    engine: AsyncEngine, descending: bool, nulls_first: bool
) -> None:
    await insert_tasks(engine, 60)
    key = col(Task.description).desc() if descending else col(Task.description).asc()
    key = key.nulls_first() if nulls_first else key.nulls_last()
    stmt = select(Task).order_by(key, col(Task.id))
    async with taskkit.session(engine) as s:
        unpaged = [t.id for t in (await s.exec(stmt)).all()]
        walked = await walk_forward(s, stmt, 7)
    keyset = [t for p in walked for t in p.items]
    assert [t.id for t in keyset] == unpaged
    assert (keyset[0].description is None) is nulls_first
    assert (keyset[-1].description is None) is not nulls_first


async def test_offset_pages_return_each_row_once_over_a_non_unique_order(
    engine: AsyncEngine,
) -> None:
    # PostgreSQL lost 563 of 2,000 rows here without the tiebreak; SQLite happened to lose none.
    await insert_tasks(engine, 2000)
    stmt = select(Task.id).order_by(col(Task.priority))
    seen: list[int] = []
    async with taskkit.session(engine) as s:
        first = await paginate_offset(s, stmt, page=1, size=37)
        assert (first.total, first.pages) == (2000, 55)
        for number in range(1, first.pages + 1):
            page = await paginate_offset(s, stmt, page=number, size=37)
            assert page.number == number
            assert page.has_prev is (number > 1)
            assert page.has_next is (number < 55)
            seen += page.items
    assert len(seen) == 2000
    assert sorted(seen) == list(range(1, 2001))


async def test_offset_page_past_the_end_is_empty_and_says_where_it_is(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 10)
    async with taskkit.session(engine) as s:
        page = await paginate_offset(s, select(Task), page=5, size=4)
        empty = await paginate_offset(s, select(Task).where(col(Task.id) < 0), page=1)
    assert (page.items, page.has_prev, page.has_next, page.pages) == ([], True, False, 3)
    assert repr(page) == "<Page 5 of 3: no rows here, 10 in all (size 4); has_prev>"
    assert (empty.items, empty.total, empty.pages, empty.has_next) == ([], 0, 1, False)


# ---------------------------------------------------------------------------------------------
# Statements of other shapes.


async def test_an_unordered_statement_is_ordered_by_primary_key(engine: AsyncEngine) -> None:
    await insert_tasks(engine, 25)
    async with taskkit.session(engine) as s:
        walked = await walk_forward(s, select(Task), 10)
    assert [i for p in walked for i in ids_of(p)] == list(range(1, 26))
    assert all(isinstance(t, Task) for p in walked for t in p.items)


async def test_a_column_select_with_a_join_pages_by_the_joined_column(
    engine: AsyncEngine,
) -> None:
    async with taskkit.session(engine) as s:
        for name in ("Zeta", "Alpha", "Mid"):
            project = await taskkit.create_project(s, {"name": name})
            for i in range(4):
                await taskkit.create_task(s, {"title": f"{name} {i}", "project_id": project.id})
        await taskkit.create_task(s, {"title": "no project"})
        stmt = select(Task.title, Project.name).join(Project).order_by(col(Project.name))
        walked = await walk_forward(s, stmt, 5)
        rows = [tuple(r) for p in walked for r in p.items]
        outer = select(Task.title, Project.name).outerjoin(Project).order_by(col(Project.name))
        outer_rows = [tuple(r) for p in await walk_forward(s, outer, 3) for r in p.items]
        unpaged_outer = [name for _, name in (await s.exec(outer)).all()]
        nulls_first = s.get_bind().dialect.name == "sqlite"
    assert [name for _, name in rows] == ["Alpha"] * 4 + ["Mid"] * 4 + ["Zeta"] * 4
    assert sorted(rows) == sorted({tuple(r) for r in rows})  # each row once
    # The outer join's NULL where the database puts it: first on SQLite, last on PostgreSQL.
    assert outer_rows[0 if nulls_first else -1] == ("no project", None)
    assert [name for _, name in outer_rows] == unpaged_outer
    assert len(outer_rows) == 13


async def test_a_many_to_many_join_pages_each_pair_once(engine: AsyncEngine) -> None:
    # The ORM joins through an alias of the link table that it builds anew at each compile;
    # a sort key taken from it would add a second copy of the table (a cartesian product).
    async with taskkit.session(engine) as s:
        for w in range(4):
            await taskkit.create_worker(s, {"id": f"w-{w}", "name": f"name {w % 2}"})
        for t in range(9):
            task = await taskkit.create_task(s, {"title": f"t{t}"})
            for w in range(t % 4):
                await taskkit.assign(s, task.id, f"w-{w}")
        by_name = select(Task, Worker).join(Task.workers).order_by(col(Worker.name))
        unordered = select(Task.id, Worker.id).join(Task.workers)
        pairs = [(t.id, w.id) for p in await walk_forward(s, by_name, 4) for t, w in p.items]
        plain = [tuple(r) for p in await walk_forward(s, unordered, 5) for r in p.items]
    expected = {(t + 1, f"w-{w}") for t in range(9) for w in range(t % 4)}
    assert len(pairs) == len(plain) == len(expected) == 12
    assert set(pairs) == set(plain) == expected
    assert [w for _, w in pairs] == sorted((w for _, w in pairs), key=lambda w: int(w[2]) % 2)


async def test_a_subquery_pages_when_its_order_is_unique_and_refuses_ties(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 60)
    per_title = select(Task.title, func.count().label("n")).group_by(col(Task.title)).subquery()
    async with taskkit.session(engine) as s:
        unique = select(per_title.c.title, per_title.c.n).order_by(per_title.c.title)
        titles = [r.title for p in await walk_forward(s, unique, 7) for r in p.items]
        assert titles == sorted(f"task {i}" for i in range(50))
        tied = select(per_title.c.title, per_title.c.n).order_by(per_title.c.n)
        with pytest.raises(InvalidArgumentError, match="ORDER BY is not unique"):
            await walk_forward(s, tied, 7)


@pytest.mark.parametrize(
    ("stmt", "message"),
    [
        (select(Task).limit(5), "must not have LIMIT or OFFSET"),
        (select(Task).offset(5), "must not have LIMIT or OFFSET"),
        (select(Task.status).group_by(col(Task.status)), "GROUP BY or DISTINCT"),
        (select(Task.status).distinct(), "GROUP BY or DISTINCT"),
        (select(Task).order_by(text("title")), "not text"),
        (select(Task).order_by("title"), "not text"),
        (select(func.now()), "no ORDER BY and no primary key"),
    ],
    ids=["limit", "offset", "group-by", "distinct", "text", "string", "no-key"],
)
async def test_statements_that_cannot_be_paged_are_refused_saying_why(
    db: AsyncSession, stmt: Any, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        await paginate(db, stmt)
    with pytest.raises(InvalidArgumentError, match=message):
        await paginate_offset(db, stmt)


@pytest.mark.parametrize(
    "stmt", [Task, "SELECT * FROM task", text("SELECT 1"), select(Task).union(select(Task))]
)
async def test_a_statement_that_is_not_a_select_is_refused(db: AsyncSession, stmt: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"stmt must be a select\(\) statement"):
        await paginate(db, stmt)


# ---------------------------------------------------------------------------------------------
# Bad sizes, pages and cursors.


@pytest.mark.parametrize("size", [0, -1, MAX_PAGE_SIZE + 1, 2.5, "10", True, None])
async def test_a_size_outside_1_to_10000_is_refused(db: AsyncSession, size: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"size must be an integer from 1 to 10,000"):
        await paginate(db, select(Task), size=size)
    with pytest.raises(InvalidArgumentError, match="size must be"):
        await paginate_offset(db, select(Task), size=size)
    with pytest.raises(InvalidArgumentError, match="size must be"):
        [p async for p in pages(db, select(Task), size=size)]


async def test_sizes_1_and_10000_are_accepted(engine: AsyncEngine) -> None:
    await insert_tasks(engine, 3)
    async with taskkit.session(engine) as s:
        assert len((await paginate(s, select(Task), size=1)).items) == 1
        assert len((await paginate(s, select(Task), size=MAX_PAGE_SIZE)).items) == 3


@pytest.mark.parametrize("page", [0, -3, 1.0, "2", True])
async def test_an_offset_page_below_1_or_not_an_integer_is_refused(
    db: AsyncSession, page: Any
) -> None:
    with pytest.raises(
        InvalidArgumentError, match=f"page must be a positive integer; got {page!r}"
    ):
        await paginate_offset(db, select(Task), page=page)


@pytest.fixture
async def second_page(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncSession, Any, str]]:
    await insert_tasks(engine, 30)
    stmt = select_tasks(status="pending", order_by="-completed_at")
    async with taskkit.session(engine) as s:
        first = await paginate(s, stmt, size=4)
        assert first.next_cursor is not None
        yield s, stmt, first.next_cursor


def tampered(cursor: str) -> str:
    body, checksum = cursor.split(".")
    middle = len(body) // 2
    swapped = "A" if body[middle] != "A" else "B"
    return f"{body[:middle]}{swapped}{body[middle + 1 :]}.{checksum}"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-1],
        lambda c: c[: len(c) // 2],
        lambda c: c.split(".")[0],
        tampered,
        lambda c: c + "x",
        lambda c: c.replace(".", ".."),
        lambda c: c[:5] + "!" + c[5:],
        lambda c: "garbage",
        lambda c: "",
        lambda c: "!!!.???",
        lambda c: "x" * 100_000,
        lambda c: base64.urlsafe_b64encode(b'{"not": "a cursor"}').decode() + ".AAAA",
        lambda c: c.split(".")[0] + ".é",
        lambda c: c.replace(c[1], "é", 1),
    ],
    ids=[
        "truncated-by-one",
        "truncated-by-half",
        "no-checksum",
        "tampered",
        "appended",
        "two-dots",
        "junk-character",
        "garbage",
        "empty",
        "not-base64",
        "huge",
        "json-without-checksum",
        "non-ascii-checksum",
        "non-ascii-payload",
    ],
)
async def test_a_mangled_cursor_is_a_clear_error_not_a_traceback(
    second_page: tuple[AsyncSession, Any, str], mangle: Any
) -> None:
    s, stmt, cursor = second_page
    with pytest.raises(InvalidCursorError, match="is not a valid taskkit cursor") as caught:
        await paginate(s, stmt, cursor=mangle(cursor))
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    assert isinstance(caught.value, InvalidArgumentError)


def forged(body: Any) -> str:
    """A cursor with a correct checksum around a payload taskkit never wrote (text: raw JSON)."""
    payload = (
        body if isinstance(body, str) and body.startswith("[") else json.dumps(body)
    ).encode()
    checksum = hashlib.blake2b(payload, digest_size=8, key=b"taskkit.paging.cursor").digest()
    encode = base64.urlsafe_b64encode
    return f"{encode(payload).rstrip(b'=').decode()}.{encode(checksum).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    "body",
    [
        {"v": 1},
        [1, "f", "a", 0, 2],
        [1, "f", "sideways", 0, 2, []],
        [1, "f", "a", 0, 2, [["t", "not a date"], ["i", 1]]],
        [1, "f", "a", 0, 2, [["i", "1"], ["i", 1]]],
        [1, "f", "a", 0, 2, [["?", 1], ["i", 1]]],
        [1, "f", "a", 0, 2, [["d", "not a number"], ["i", 1]]],
        [1, "f", "a", 0, 2, [["e", [10**20, 0, 0]], ["i", 1]]],
        [1, "f", "a", 0, 2, [["y", "?!"], ["i", 1]]],
        "[" * 20_000 + "]" * 20_000,
        [1, 7, "a", 0, 2, []],
        "just a string",
    ],
)
async def test_a_well_formed_but_foreign_payload_is_a_clear_error(
    second_page: tuple[AsyncSession, Any, str], body: Any
) -> None:
    s, stmt, _ = second_page
    with pytest.raises(InvalidCursorError, match="is not a valid taskkit cursor"):
        await paginate(s, stmt, cursor=forged(body))


def payload(cursor: str) -> list[Any]:
    """The JSON a cursor carries (what ``forged`` signs again)."""
    encoded = cursor.split(".")[0]
    return list(json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))


@pytest.mark.parametrize("huge", [10**30, -(10**30), 2**63])
async def test_a_re_signed_cursor_holding_an_integer_no_database_holds_is_refused(
    second_page: tuple[AsyncSession, Any, str], huge: int
) -> None:
    """Issue 25 item 8: the checksum key is in the source, so anyone can re-sign a cursor; one
    whose integer sort key is 10**30 raised OverflowError in the driver."""
    s, stmt, cursor = second_page
    body = payload(cursor)
    body[5] = [["i", huge] if value[0] == "i" else value for value in body[5]]
    assert ["i", huge] in body[5]  # the id tiebreak, at least
    with pytest.raises(InvalidCursorError, match="is not a valid taskkit cursor"):
        await paginate(s, stmt, cursor=forged(body))
    page_number = payload(cursor)
    page_number[4] = huge
    with pytest.raises(InvalidCursorError, match="is not a valid taskkit cursor"):
        await paginate(s, stmt, cursor=forged(page_number))
    if s.get_bind().dialect.name == "postgresql":  # ids are INTEGER there: 32 bits
        body = payload(cursor)
        body[5] = [["i", 2**40] if value[0] == "i" else value for value in body[5]]
        with pytest.raises(InvalidCursorError, match="is not a valid taskkit cursor"):
            await paginate(s, stmt, cursor=forged(body))


async def test_a_cursor_from_another_taskkit_version_says_so(
    second_page: tuple[AsyncSession, Any, str],
) -> None:
    s, stmt, _ = second_page
    with pytest.raises(InvalidCursorError, match="another version of taskkit"):
        await paginate(s, stmt, cursor=forged([99, "f", "a", 0, 2, []]))


@pytest.mark.parametrize(
    "other",
    [
        select_tasks(status="completed", order_by="-completed_at"),
        select_tasks(status="pending", order_by="completed_at"),
        select_tasks(status="pending", order_by="-created_at"),
        select_tasks(status="pending", order_by="-completed_at", search="task"),
        select(Task).order_by(col(Task.completed_at).desc()),
    ],
    ids=["other-filter-value", "other-direction", "other-column", "extra-filter", "plain-select"],
)
async def test_a_cursor_used_with_another_statement_is_refused(
    second_page: tuple[AsyncSession, Any, str], other: Any
) -> None:
    s, _, cursor = second_page
    with pytest.raises(InvalidCursorError, match="belongs to a different statement"):
        await paginate(s, other, cursor=cursor)


async def test_the_same_statement_built_again_accepts_the_cursor(
    second_page: tuple[AsyncSession, Any, str],
) -> None:
    s, _, cursor = second_page
    again = select_tasks(status=["pending"], order_by=["-completed_at"])
    page = await paginate(s, again, size=4, cursor=cursor)
    assert page.number == 2 and page.has_prev


@pytest.mark.parametrize("cursor", [123, b"bytes", ["a"], 1.5])
async def test_a_cursor_that_is_not_a_string_is_refused(
    second_page: tuple[AsyncSession, Any, str], cursor: Any
) -> None:
    s, stmt, _ = second_page
    with pytest.raises(InvalidCursorError, match="cursor must be a string"):
        await paginate(s, stmt, cursor=cursor)


def test_cursors_are_url_safe_and_carry_no_pickle() -> None:
    from taskkit._paging.cursor import encode_cursor

    cursor = encode_cursor("f" * 24, "a", False, 3, [BASE, 7, "a b/c?", None])
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    payload = base64.urlsafe_b64decode(cursor.split(".")[0] + "==")
    assert json.loads(payload)[-1] == [["t", BASE.isoformat()], ["i", 7], ["s", "a b/c?"], ["z"]]


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        float("inf"),
        "",
        "é\u2603",
        Status.pending,
        Decimal("1.10"),
        BASE,
        datetime(2025, 1, 1, 9, 30, tzinfo=UTC) + timedelta(microseconds=7),
        BASE.date(),
        BASE.time(),
        timedelta(days=-1, seconds=5),
        UUID(int=5),
        b"\x00\xff",
    ],
)
def test_cursor_values_keep_their_type(value: Any) -> None:
    decoded = _decode_value(json.loads(json.dumps(_encode_value(value))))
    assert decoded == value
    assert type(decoded) is (str if isinstance(value, str) else type(value))


def test_a_sort_key_of_an_unsupported_type_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="sort key holding a list value"):
        _encode_value([1, 2])


# ---------------------------------------------------------------------------------------------
# Changes between pages, transactions, pages().


async def test_rows_deleted_or_inserted_between_pages_do_not_shift_the_walk(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 20)
    stmt = select(Task.id)
    async with taskkit.session(engine) as s:
        first = await paginate(s, stmt, size=5)
        await taskkit.delete_task(s, 5)  # the row the cursor points at
        await taskkit.delete_task(s, 6)
        await taskkit.create_task(s, {"title": "new"})  # id 21, after the walk's position
        second = await paginate(s, stmt, size=5, cursor=first.next_cursor)
        assert second.items == [7, 8, 9, 10, 11]
        back = await paginate(s, stmt, size=5, cursor=second.prev_cursor)
        assert back.items == [1, 2, 3, 4] and back.has_prev is False and back.number == 1


async def test_an_empty_page_after_deletions_points_back(engine: AsyncEngine) -> None:
    await insert_tasks(engine, 10)
    stmt = select(Task.id)
    async with taskkit.session(engine) as s:
        first = await paginate(s, stmt, size=5)
        async with engine.begin() as conn:
            await conn.execute(delete(Task).where(col(Task.id) > 5))
        empty = await paginate(s, stmt, size=5, cursor=first.next_cursor)
        assert (empty.items, empty.has_next, empty.has_prev) == ([], False, True)
        back = await paginate(s, stmt, size=5, cursor=empty.prev_cursor)
    assert back.items == [1, 2, 3, 4, 5]


async def test_paginate_ends_the_transaction_it_opened_and_keeps_the_callers(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 5)
    async with taskkit.session(engine) as s:
        await paginate(s, select(Task), size=2)
        await paginate_offset(s, select(Task), size=2)
        assert s.in_transaction() is False
        async with s.begin():
            await paginate(s, select(Task), size=2)
            assert s.in_transaction() is True


@pytest.mark.parametrize("backend", ["sqlite-memory", "sqlite-file"])  # SQLite's BEGIN modes
async def test_reads_on_sqlite_begin_deferred_so_they_never_wait_for_the_write_lock(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 5)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with taskkit.session(engine) as s:
            await paginate(s, select(Task), size=2)
            await paginate_offset(s, select(Task), size=2)
            _ = [p async for p in pages(s, select(Task), size=2)]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    begins = [statement for statement in sent if statement.startswith("BEGIN")]
    assert begins and set(begins) == {"BEGIN DEFERRED"}


async def test_pages_streams_every_row_once_and_nothing_for_an_empty_result(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 45)
    async with taskkit.session(engine) as s:
        walked = [p async for p in pages(s, select_tasks(order_by="-completed_at"), size=10)]
        none = [p async for p in pages(s, select_tasks(search="no such task"), size=10)]
    assert [len(p) for p in walked] == [10, 10, 10, 10, 5]
    assert sorted(t.id for p in walked for t in p) == list(range(1, 46))
    assert none == []


# ---------------------------------------------------------------------------------------------
# In a notebook.


async def test_a_page_shows_where_it_is(engine: AsyncEngine) -> None:
    async with taskkit.session(engine) as s:
        for i in range(7):
            await taskkit.create_task(s, {"title": f"<b>task {i}</b> & co"})
        first = await paginate(s, select(Task), size=3)
        second = await paginate(s, select(Task), size=3, cursor=first.next_cursor)
        offset = await paginate_offset(s, select(Task.id, Task.title), page=2, size=3)
    assert repr(first) == "<Page 1: 3 rows (size 3); has_next>"
    assert repr(second) == "<Page 2: 3 rows (size 3); has_prev, has_next>"
    assert repr(offset) == "<Page 2 of 3: rows 4-6 of 7 (size 3); has_prev, has_next>"
    shown = second._repr_html_()
    assert "<b>Page 2</b>: 3 rows (size 3)" in shown
    assert "earlier rows" in shown and "later rows" in shown
    assert "&lt;b&gt;task 3&lt;/b&gt; &amp; co" in shown and "<b>task" not in shown
    assert "<th>title</th>" in shown and "<th>status</th>" in shown
    assert "<b>Page 2 of 3</b>: rows 4-6 of 7" in offset._repr_html_()
    assert "<th>id</th><th>title</th>" in offset._repr_html_()


async def test_a_page_shows_in_a_notebook_without_the_explore_extra(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paging is the core; the SQL under a page is laid out by sqlparse, from the explore
    extra. Without it the page still shows, and says how to see its SQL (it raised
    MissingExtraError, so Jupyter showed a traceback instead of the page)."""
    await insert_tasks(engine, 3)
    async with taskkit.session(engine) as s:
        page = await paginate(s, select(Task), size=2)
    assert "<pre>-- " in page._repr_html_()  # the SQL, laid out
    monkeypatch.setitem(sys.modules, "sqlparse", None)  # as if it were not installed
    shown = page._repr_html_()
    assert "<b>Page 1</b>: 2 rows (size 2)" in shown and "<pre>" not in shown
    assert "SQL of this page" in shown
    assert "pip install &#x27;taskkit[explore]&#x27;" in shown


async def test_a_long_page_is_shown_with_its_middle_elided(engine: AsyncEngine) -> None:
    await insert_tasks(engine, 100)
    async with taskkit.session(engine) as s:
        page = await paginate(s, select(Task.id), size=100)
    shown = page._repr_html_()
    assert shown.count("<tr>") == 1 + 10 + 1 + 10
    assert "&hellip;" in shown and "<td>1</td>" in shown and "<td>100</td>" in shown


async def test_a_page_becomes_a_dataframe(engine: AsyncEngine) -> None:
    await insert_tasks(engine, 12)
    async with taskkit.session(engine) as s:
        page = await paginate(s, select_tasks(order_by="id"), size=5)
    frame = page.to_dataframe()
    assert len(frame) == 5
    assert list(frame["id"]) == [t.id for t in page.items]
    assert list(frame["title"]) == [t.title for t in page.items]


async def test_an_empty_page_becomes_a_dataframe_with_the_statements_columns(
    engine: AsyncEngine,
) -> None:
    async with taskkit.session(engine) as s:
        page = await paginate(s, select(Task.id, Task.status), size=5)
        offset = await paginate_offset(s, select(Task), size=5)
    assert list(page.to_dataframe().columns) == ["id", "status"]
    assert "title" in offset.to_dataframe().columns


async def test_a_page_of_single_column_values_becomes_a_one_column_dataframe(
    engine: AsyncEngine,
) -> None:
    await insert_tasks(engine, 12)
    async with taskkit.session(engine) as s:
        page = await paginate(s, select(Task.title).order_by(col(Task.id)), size=4)
        offset = await paginate_offset(s, select(Task.id), page=2, size=4)
    assert list(page.to_dataframe()["title"]) == page.items == [f"task {i}" for i in range(4)]
    assert list(offset.to_dataframe()["id"]) == offset.items == [5, 6, 7, 8]
