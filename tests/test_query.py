"""Queries: filters, ordering, eager loading, count and aggregates, on every backend."""

import inspect
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, get_type_hints

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, or_, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import (
    InvalidArgumentError,
    Project,
    Task,
    Worker,
    any_of,
    count,
    project_progress,
    select_tasks,
    status_priority_counts,
    tasks_per_week,
    worker_load,
)
from taskkit._query import ORDER_COLUMNS
from taskkit._query.filters import FILTER_NAMES, TaskFilters

BASE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


async def ids(session: AsyncSession, stmt: Any) -> list[int]:
    return [t.id for t in (await session.exec(stmt)).all()]


@pytest.fixture
async def office(db: AsyncSession) -> AsyncSession:
    """Tasks 1-6 in two projects, three workers; statuses and priorities mixed."""
    apollo = await taskkit.create_project(db, {"name": "Apollo"})
    gemini = await taskkit.create_project(db, {"name": "Gemini"})
    for worker_id, name in [("w-1", "Ann"), ("w-2", "Bob"), ("w-3", "Ann")]:
        await taskkit.create_worker(db, {"id": worker_id, "name": name})
    specs = [
        ("Write report", "pending", "high", apollo.id),
        ("Review report", "in_progress", "medium", apollo.id),
        ("Ship it", "completed", "high", gemini.id),
        ("Plan launch", "pending", "low", gemini.id),
        ("Tidy desk", "completed", "low", None),
        ("Call Bob", "in_progress", "high", None),
    ]
    for title, status, priority, project_id in specs:
        await taskkit.create_task(
            db, {"title": title, "status": status, "priority": priority, "project_id": project_id}
        )
    for task_id, worker_id in [(1, "w-1"), (2, "w-1"), (2, "w-2"), (3, "w-3"), (6, "w-2")]:
        await taskkit.assign(db, task_id, worker_id)
    return db


# ---------------------------------------------------------------------------------------------
# Filters.


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        ({"status": "pending"}, [1, 4]),
        ({"status": taskkit.Status.completed}, [3, 5]),
        ({"status": ["pending", "in_progress"]}, [1, 2, 4, 6]),
        ({"priority": "high"}, [1, 3, 6]),
        ({"priority": {"low", "medium"}}, [2, 4, 5]),
        ({"project": 1}, [1, 2]),
        ({"project": "Gemini"}, [3, 4]),
        ({"project": [1, "Gemini"]}, [1, 2, 3, 4]),
        ({"project": "No such project"}, []),
        ({"worker": "w-1"}, [1, 2]),
        ({"worker": ("w-2", "w-3")}, [2, 3, 6]),
        ({"status": "pending", "priority": "high"}, [1]),
        ({"project": "Apollo", "worker": "w-2"}, [2]),
    ],
)
async def test_filters_match_one_value_or_any_of_a_list(
    office: AsyncSession, filters: dict[str, Any], expected: list[int]
) -> None:
    assert sorted(await ids(office, select_tasks(**filters))) == expected


async def test_or_through_any_of_and_through_or_on_the_statement(office: AsyncSession) -> None:
    helper = select_tasks(status="pending").where(any_of(priority="low", project="Apollo"))
    plain = select_tasks(status="pending").where(or_(Task.priority == "low", Task.project_id == 1))
    assert sorted(await ids(office, helper)) == sorted(await ids(office, plain)) == [1, 4]
    either = select_tasks().where(any_of(worker="w-3", search="desk"))
    assert sorted(await ids(office, either)) == [3, 5]


def test_any_of_needs_a_filter() -> None:
    with pytest.raises(InvalidArgumentError, match="any_of needs at least one filter"):
        any_of()


async def test_the_statement_extends_like_any_select(office: AsyncSession) -> None:
    by_name = select_tasks(order_by="id").where(Task.workers.any(Worker.name == "Ann"))
    assert await ids(office, by_name) == [1, 2, 3]
    no_project = select_tasks(order_by="id").where(col(Task.project_id).is_(None))
    assert await ids(office, no_project) == [5, 6]


SEARCH_TITLES = [
    "100% done",
    "100 percent done",
    "snake_case",
    "snakeXcase",
    "back\\slash",
    "backslash",
    "it's here",
    "its here",
    'say "hi"',
    "say hi",
    "UPPER case",
]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("%", ["100% done"]),
        ("0% d", ["100% done"]),
        ("_", ["snake_case"]),
        ("\\", ["back\\slash"]),
        ("'", ["it's here"]),
        ('"', ['say "hi"']),
        ("upper CASE", ["UPPER case"]),
        ("DONE", ["100% done", "100 percent done"]),
        ("'; DROP TABLE task; --", []),
        ("in the description", ["say hi"]),
    ],
)
async def test_search_is_a_case_insensitive_literal_substring(
    db: AsyncSession, needle: str, expected: list[str]
) -> None:
    for title in SEARCH_TITLES:
        description = "Words IN THE DESCRIPTION" if title == "say hi" else None
        await taskkit.create_task(db, {"title": title, "description": description})
    found = (await db.exec(select_tasks(search=needle, order_by="id"))).all()
    assert [t.title for t in found] == expected
    assert await count(db, select(Task)) == len(SEARCH_TITLES)  # the table is intact


UNICODE_TITLES = ["ÉCOLE d'été", "Ärger im Büro", "ΣΟΦΊΑ", "star*power", "what? now", "[b] note"]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("école", ["ÉCOLE d'été"]),
        ("ÉTÉ", ["ÉCOLE d'été"]),
        ("ärger IM büro", ["Ärger im Büro"]),
        ("σοφία", ["ΣΟΦΊΑ"]),
        ("*", ["star*power"]),
        ("?", ["what? now"]),
        ("[b]", ["[b] note"]),
        ("]", ["[b] note"]),
        ("r*p", ["star*power"]),
        ("s*r", []),
    ],
)
async def test_search_folds_case_beyond_ascii_and_takes_glob_characters_literally(
    db: AsyncSession, needle: str, expected: list[str]
) -> None:
    """SQLite's own lower() and LIKE fold ASCII letters only; taskkit folds the others too,
    and the same condition runs in the DataFrame reader."""
    for title in UNICODE_TITLES:
        await taskkit.create_task(db, {"title": title})
    await db.commit()
    # The engine, not the session: on files this is the ADBC reader, in another process.
    frame = await taskkit.to_dataframe(db.bind, select_tasks(search=needle, order_by="id"))
    assert frame["title"].tolist() == expected
    found = (await db.exec(select_tasks(search=needle, order_by="id"))).all()
    assert [t.title for t in found] == expected


async def test_created_range_is_inclusive_then_exclusive(
    engine: AsyncEngine, db: AsyncSession
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Task),
            [
                {"title": f"t{h}", "created_at": BASE + timedelta(hours=h),
                 "updated_at": BASE + timedelta(hours=h)}
                for h in range(48)
            ],
        )  # fmt: skip
    window = select_tasks(
        created_from=BASE + timedelta(hours=2), created_to=BASE + timedelta(hours=5)
    )
    assert sorted(await ids(db, window)) == [3, 4, 5]
    other_zone = timezone(timedelta(hours=-5))
    same_window = select_tasks(
        created_from=(BASE + timedelta(hours=2)).astimezone(other_zone),
        created_to=(BASE + timedelta(hours=5)).astimezone(other_zone),
    )
    assert sorted(await ids(db, same_window)) == [3, 4, 5]
    day = select_tasks(created_from=date(2025, 3, 4), created_to=date(2025, 3, 5))
    assert sorted(await ids(db, day)) == list(range(16, 40))


async def test_dates_may_be_iso_strings(engine: AsyncEngine, db: AsyncSession) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Task),
            [
                {"title": f"t{h}", "created_at": BASE + timedelta(hours=h),
                 "updated_at": BASE + timedelta(hours=h)}
                for h in range(48)
            ],
        )  # fmt: skip
    by_string = select_tasks(created_from="2025-03-04", created_to="2025-03-05T00:00:00Z")
    by_date = select_tasks(created_from=date(2025, 3, 4), created_to=date(2025, 3, 5))
    assert sorted(await ids(db, by_string)) == sorted(await ids(db, by_date)) == list(range(16, 40))
    shifted = select_tasks(created_from="2025-03-04T00:00:00-05:00")  # 05:00 UTC
    assert min(await ids(db, shifted)) == 16 + 5


async def test_completed_range_bounds_completed_at_and_skips_open_tasks(
    engine: AsyncEngine, db: AsyncSession
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Task),
            [
                {"title": f"t{d}", "created_at": BASE, "updated_at": BASE,
                 "status": "completed" if d % 2 else "pending",
                 "completed_at": BASE + timedelta(days=d) if d % 2 else None,
                 "resolution": "done" if d % 2 else None}
                for d in range(10)
            ],
        )  # fmt: skip
    window = select_tasks(completed_from="2025-03-06", completed_to=date(2025, 3, 10))
    assert sorted(await ids(db, window)) == [4, 6]  # completed 3 and 5 days after BASE
    assert await ids(db, select_tasks(completed_to="2030-01-01", status="pending")) == []
    either = select_tasks().where(any_of(completed_from="2025-03-12", project=99))
    assert await ids(db, either) == [10]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"status": "done"}, "status must be one of pending, in_progress, completed .*got 'done'"),
        ({"status": ["pending", "Done"]}, "status must be one of .*got 'Done'"),
        ({"status": []}, "status must be a status, or a non-empty list of them; got an empty list"),
        ({"status": 3}, "status must be one of .*got 3"),
        ({"priority": "urgent"}, "priority must be one of low, medium, high .*got 'urgent'"),
        ({"project": 0}, "project must be a project id .*got 0"),
        ({"project": True}, "project must be a project id .*got True"),
        ({"project": " "}, "project must be .*got ' '"),
        ({"project": 1.5}, "project must be .*got 1.5"),
        ({"worker": 7}, "worker must be a worker id .*got 7"),
        ({"worker": ""}, "worker must be .*got ''"),
        ({"search": 5}, "search must be a string; got 5"),
        ({"search": "a\x00b"}, "search must not contain NUL"),
        ({"created_from": datetime(2025, 1, 1)}, "created_from must be timezone-aware.*naive"),
        ({"created_to": 20250101}, "created_to must be a timezone-aware datetime, a date .*ISO"),
        ({"created_to": "01/06/2025"}, "created_to must be an ISO 8601 date .*got '01/06/2025'"),
        ({"created_from": "2025-06-01T09:00"}, "created_from must be timezone-aware.*naive"),
        ({"completed_to": "June"}, "completed_to must be an ISO 8601 date .*got 'June'"),
        (
            {"completed_from": "2025-06-02", "completed_to": "2025-06-01"},
            "completed_from .* must not be after completed_to",
        ),
        (
            {"created_from": BASE, "created_to": BASE - timedelta(seconds=1)},
            "created_from .* must not be after created_to",
        ),
        ({"with_project": "yes"}, "with_project must be True or False; got 'yes'"),
        ({"with_workers": 1}, "with_workers must be True or False; got 1"),
    ],
)
def test_a_bad_filter_names_the_argument_the_value_and_what_is_allowed(
    filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        select_tasks(**filters)


# ---------------------------------------------------------------------------------------------
# Ordering.


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("id", [1, 2, 3, 4, 5, 6]),
        ("-id", [6, 5, 4, 3, 2, 1]),
        ("title", [6, 4, 2, 3, 5, 1]),
        (["-priority", "title"], [6, 3, 1, 2, 4, 5]),  # high < medium < low, declared order
        (["status", "-id"], [4, 1, 6, 2, 5, 3]),  # pending, in_progress, completed
        (["project_id", "id"], [1, 2, 3, 4, 5, 6]),  # NULL last ascending...
        (["-project_id", "id"], [3, 4, 1, 2, 5, 6]),  # ...and descending, on every backend
        (["-completed_at", "id"], [5, 3, 1, 2, 4, 6]),  # completed 3, then 5
        ([], [1, 2, 3, 4, 5, 6]),
    ],
)
async def test_order_by_names_sort_with_id_as_tiebreak_and_nulls_last(
    office: AsyncSession, order_by: Any, expected: list[int]
) -> None:
    assert await ids(office, select_tasks(order_by=order_by)) == expected


def test_the_tiebreak_follows_the_last_key_direction_and_is_not_repeated() -> None:
    assert str(select_tasks()).endswith("ORDER BY task.created_at DESC, task.id DESC")
    assert str(select_tasks(order_by=["-status", "title"])).endswith("task.title ASC, task.id ASC")
    assert str(select_tasks(order_by=["-id", "title"])).endswith("task.id DESC, task.title ASC")


@pytest.mark.parametrize(
    "order_by",
    ["owner", "-owner", "--title", "title desc", " title", "", "Title", 5, None, ["title", 3]],
)
def test_an_unknown_or_malformed_order_by_lists_the_allowed_columns(order_by: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        select_tasks(order_by=order_by)
    message = str(caught.value)
    assert f"got {order_by!r}" in message or f"got {order_by[-1]!r}" in message
    assert ", ".join(ORDER_COLUMNS) in message


def test_a_column_named_twice_in_order_by_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="order_by names 'title' twice"):
        select_tasks(order_by=["title", "-title"])


# ---------------------------------------------------------------------------------------------
# Eager loading.


async def test_relationships_asked_for_are_loaded_without_lazy_loads(office: AsyncSession) -> None:
    plain = (await office.exec(select_tasks(order_by="id"))).all()
    with pytest.raises(Exception, match="project"):  # lazy="raise_on_sql" names it
        _ = plain[0].project
    tasks = (
        await office.exec(select_tasks(order_by="id", with_project=True, with_workers=True))
    ).all()
    assert [t.project.name if t.project else None for t in tasks] == [
        "Apollo", "Apollo", "Gemini", "Gemini", None, None,
    ]  # fmt: skip
    assert [sorted(w.id for w in t.workers) for t in tasks] == [
        ["w-1"], ["w-1", "w-2"], ["w-3"], [], [], ["w-2"],
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# count.


@pytest.mark.parametrize(
    "stmt",
    [
        select(Task),
        select_tasks(status="pending"),
        select_tasks(with_project=True, with_workers=True, order_by="title"),
        select(Task.status).distinct(),
        select(Task.status, func.count()).group_by(col(Task.status)),
        select(Task).order_by(col(Task.id)).limit(4).offset(1),
        select(Task, Worker).join(Task.workers),
        select(Project.name).join(Task).where(Task.priority == "high"),
        select(Task.__table__),  # type: ignore[attr-defined]
    ],
    ids=["all", "filtered", "eager", "distinct", "group-by", "limit", "join", "columns", "core"],
)
async def test_count_matches_the_rows_the_statement_returns(
    office: AsyncSession, stmt: Any
) -> None:
    rows = (await office.exec(stmt)).all()
    assert office.in_transaction()
    await office.commit()
    assert await count(office, stmt) == len(rows)
    assert office.in_transaction() is False


async def test_count_refuses_what_is_not_a_select(db: AsyncSession) -> None:
    with pytest.raises(InvalidArgumentError, match=r"stmt must be a select\(\) statement"):
        await count(db, Task)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Aggregates: computed in the database, the same on every backend.

# (created_at, completed_at or None) around week boundaries: Monday 00:00 UTC starts a week.
TIMELINE = [
    (datetime(2025, 3, 2, 23, 59, 59, 999999, tzinfo=UTC), None),  # Sunday: week of Feb 24
    (datetime(2025, 3, 3, 0, 0, tzinfo=UTC), datetime(2025, 3, 9, 23, 0, tzinfo=UTC)),
    (datetime(2025, 3, 4, 12, 0, tzinfo=UTC), datetime(2025, 3, 10, 0, 0, 1, tzinfo=UTC)),
    (datetime(2025, 3, 9, 20, 0, tzinfo=timezone(timedelta(hours=-5))), None),  # Mon 01:00 UTC
    (datetime(2024, 12, 31, 8, 0, tzinfo=UTC), datetime(2025, 1, 5, 8, 0, tzinfo=UTC)),
    (datetime(2025, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=14))), None),  # Sun 11:00 UTC
]


@pytest.fixture
async def timeline(engine: AsyncEngine) -> AsyncEngine:
    async with taskkit.session(engine) as s:
        await taskkit.create_project(s, {"name": "Apollo"})
        await taskkit.create_project(s, {"name": "Empty"})
        await taskkit.create_worker(s, {"id": "w-1", "name": "Ann"})
        await taskkit.create_worker(s, {"id": "w-2", "name": "Bob"})
        await taskkit.create_worker(s, {"id": "w-9", "name": "Idle"})
    records = []
    for i, (created, completed) in enumerate(TIMELINE):
        status = "completed" if completed else ["pending", "in_progress"][i % 2]
        records.append(
            {
                "title": f"t{i}",
                "status": status,
                "priority": ["low", "medium", "high"][i % 3],
                "project_id": 1 if i % 2 else None,
                "created_at": created,
                "updated_at": completed or created,
                "completed_at": completed,
                "resolution": "done" if completed else None,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(Task), records)
    async with taskkit.session(engine) as s:
        for task_id, worker_id in [(1, "w-1"), (2, "w-1"), (3, "w-1"), (4, "w-2"), (1, "w-2")]:
            await taskkit.assign(s, task_id, worker_id)
    return engine


async def rows(engine: AsyncEngine, backend: str, stmt: Any) -> list[tuple[Any, ...]]:
    async with taskkit.session(engine) as s:
        if backend == "postgresql":
            # date_trunc works in the session's zone: a far-off one shows if UTC is forgotten.
            await s.exec(text("SET TIME ZONE 'Pacific/Kiritimati'"))  # type: ignore[call-overload]
        return [tuple(r) for r in (await s.exec(stmt)).all()]


async def test_tasks_per_week_buckets_by_utc_monday_on_every_backend(
    timeline: AsyncEngine, backend: str
) -> None:
    assert await rows(timeline, backend, tasks_per_week()) == [
        (date(2024, 12, 30), 1, 1),
        (date(2025, 2, 24), 2, 0),
        (date(2025, 3, 3), 2, 1),
        (date(2025, 3, 10), 1, 1),
    ]
    assert await rows(timeline, backend, tasks_per_week(select_tasks(status="completed"))) == [
        (date(2024, 12, 30), 1, 1),
        (date(2025, 3, 3), 2, 1),
        (date(2025, 3, 10), 0, 1),
    ]


async def test_status_priority_counts_has_every_combination(
    timeline: AsyncEngine, backend: str
) -> None:
    got = await rows(timeline, backend, status_priority_counts())
    statuses = ["pending", "in_progress", "completed"]
    expected = Counter(
        (
            ["pending", "in_progress"][i % 2] if not done else "completed",
            ["low", "medium", "high"][i % 3],
        )
        for i, (_, done) in enumerate(TIMELINE)
    )
    assert got == [(s, p, expected[(s, p)]) for s in statuses for p in ["low", "medium", "high"]]
    assert sum(n for *_, n in got) == len(TIMELINE)
    only_apollo = await rows(timeline, backend, status_priority_counts(select_tasks(project=1)))
    assert sum(n for *_, n in only_apollo) == 3


async def test_project_progress_counts_each_project_including_empty_ones(
    timeline: AsyncEngine, backend: str
) -> None:
    # Apollo holds tasks 2, 4, 6: completed, in_progress (i=3), in_progress (i=5).
    assert await rows(timeline, backend, project_progress()) == [
        (1, "Apollo", 3, 0, 2, 1, pytest.approx(1 / 3)),
        (2, "Empty", 0, 0, 0, 0, None),
    ]


async def test_worker_load_counts_open_and_done_tasks_per_worker(
    timeline: AsyncEngine, backend: str
) -> None:
    # w-1 has tasks 1 (pending), 2 and 3 (completed); w-2 has 1 (pending) and 4 (in_progress).
    assert await rows(timeline, backend, worker_load()) == [
        ("w-2", "Bob", 2, 1, 1, 0, 2),
        ("w-1", "Ann", 1, 1, 0, 2, 3),
        ("w-9", "Idle", 0, 0, 0, 0, 0),
    ]
    pending_only = await rows(timeline, backend, worker_load(select_tasks(status="pending")))
    assert [(w, n) for w, _, _, _, _, _, n in pending_only] == [("w-1", 1), ("w-2", 1), ("w-9", 0)]


@pytest.mark.parametrize(
    "aggregate", [status_priority_counts, tasks_per_week, project_progress, worker_load]
)
def test_an_aggregate_over_something_other_than_task_rows_is_refused(aggregate: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="tasks must select whole Task rows"):
        aggregate(select(Task.id))
    with pytest.raises(InvalidArgumentError, match=r"tasks must be a select\(\) statement"):
        aggregate("select * from task")


def test_aggregate_constants_are_typed_by_the_columns_they_stand_for() -> None:
    # The status and priority choices are literals of the columns' own Enum types, so a reader
    # of the statement (to_dataframe) gets the categories from the types, not from spellings.
    table = Task.__table__  # type: ignore[attr-defined]
    columns = status_priority_counts().selected_columns
    for name, enum in (("status", taskkit.Status), ("priority", taskkit.Priority)):
        assert isinstance(columns[name].type, sa.Enum)
        assert columns[name].type.enums == [m.value for m in enum] == table.c[name].type.enums
    weekly = tasks_per_week().subquery()
    for name in ("created", "completed"):
        assert isinstance(weekly.c[name].type, sa.Integer)


# ---------------------------------------------------------------------------------------------
# The filters and the order, described once from the task table.


def test_every_filter_is_a_keyword_of_both_select_tasks_and_any_of() -> None:
    names = list(get_type_hints(TaskFilters))
    assert names == list(FILTER_NAMES)
    for function in (select_tasks, any_of):
        parameters = inspect.signature(function).parameters
        assert [n for n in parameters if n in names] == names
        assert all(parameters[n].default is None for n in names)


async def test_any_of_takes_every_filter_select_tasks_takes(office: AsyncSession) -> None:
    await office.exec(update(Task).where(col(Task.id) == 4).values(key="HIVE-4"))
    either = select_tasks(order_by="id").where(any_of(key="HIVE-4", priority="high"))
    assert await ids(office, either) == [1, 3, 4, 6]


@pytest.mark.parametrize("function", [select_tasks, any_of])
def test_an_unknown_filter_is_refused_as_python_refuses_an_unknown_keyword(function: Any) -> None:
    with pytest.raises(
        TypeError, match=rf"{function.__name__}\(\) got an unexpected keyword argument 'statuss'"
    ):
        function(statuss="pending")


def test_order_columns_are_the_task_table_s_columns_primary_key_first() -> None:
    table = Task.__table__  # type: ignore[attr-defined]
    assert ORDER_COLUMNS[0] == "id"
    assert set(ORDER_COLUMNS) == {c.name for c in table.c} - {"key"}
    assert list(ORDER_COLUMNS[1:]) == [c.name for c in table.c if c.name in ORDER_COLUMNS[1:]]


async def test_a_session_reads_aggregate_choices_as_the_model_s_enums(db: AsyncSession) -> None:
    rows = (await db.exec(status_priority_counts())).all()
    assert [(r.status, r.priority) for r in rows[:2]] == [
        (taskkit.Status.pending, taskkit.Priority.low),
        (taskkit.Status.pending, taskkit.Priority.medium),
    ]
    assert all(type(r.status) is taskkit.Status for r in rows)
