"""Properties: random CRUD sequences agree with a plain in-memory model of the same data, and
data loaded with load_tasks comes back unchanged through to_dataframe."""

import asyncio
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import taskkit
from taskkit import NotFoundError, select_tasks, to_dataframe
from tests.conftest import BACKENDS, FILE_BACKENDS

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=0,
    max_size=30,
)
TITLES = TEXT.filter(lambda t: t.strip() != "")
STATUSES = st.sampled_from(["pending", "in_progress", "completed", "done"])
PRIORITIES = st.sampled_from(["low", "medium", "high", "urgent"])

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), TITLES, STATUSES, PRIORITIES),
        st.tuples(st.just("update"), st.integers(1, 12), st.one_of(st.none(), TITLES), STATUSES),
        st.tuples(st.just("delete"), st.integers(1, 12)),
        st.tuples(st.just("assign"), st.integers(1, 12), st.sampled_from(["w1", "w2", "nobody"])),
        st.tuples(st.just("unassign"), st.integers(1, 12), st.sampled_from(["w1", "w2"])),
    ),
    max_size=25,
)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def apply(s, operation, model: dict, links: set, next_id: list[int]) -> None:
    """Run one operation through taskkit and on the plain model; both must agree.

    ``next_id`` is ``[n]`` for a sequence that never reuses ids (PostgreSQL), ``[]`` for
    SQLite's rowid rule: one more than the largest id in the table (so deleting the newest
    task frees its id)."""
    kind = operation[0]
    valid_status = {"pending", "in_progress", "completed"}
    if kind == "create":
        _, title, status, priority = operation
        ok = status in valid_status and priority in {"low", "medium", "high"} and len(title) <= 200
        try:
            task = await taskkit.create_task(
                s, {"title": title, "status": status, "priority": priority}
            )
        except ValidationError:
            assert not ok
            return
        expected = next_id[0] if next_id else max(model, default=0) + 1
        assert ok and task.id == expected
        model[task.id] = (title, status, priority)
        if next_id:
            next_id[0] += 1
    elif kind == "update":
        _, task_id, title, status = operation
        data = {"status": status} | ({} if title is None else {"title": title})
        try:
            await taskkit.update_task(s, task_id, data)
        except NotFoundError:
            assert task_id not in model
            return
        except ValidationError:
            assert status not in valid_status or (title is not None and len(title) > 200)
            return
        old = model[task_id]
        model[task_id] = (title if title is not None else old[0], status, old[2])
    elif kind == "delete":
        try:
            await taskkit.delete_task(s, operation[1])
        except NotFoundError:
            assert operation[1] not in model
            return
        del model[operation[1]]
        links -= {link for link in links if link[0] == operation[1]}
    elif kind == "assign":
        _, task_id, worker = operation
        try:
            await taskkit.assign(s, task_id, worker)
        except NotFoundError:
            assert task_id not in model or worker == "nobody"
            return
        links.add((task_id, worker))
    else:
        _, task_id, worker = operation
        try:
            removed = await taskkit.unassign(s, task_id, worker)
        except NotFoundError:
            assert task_id not in model
            return
        assert removed == ((task_id, worker) in links)
        links.discard((task_id, worker))


@pytest.mark.parametrize("backend", FILE_BACKENDS, indirect=True)
@given(operations=OPERATIONS)
@SETTINGS
def test_random_crud_sequences_match_a_plain_model(backend, engine_factory, operations):
    async def run() -> None:
        engine = await engine_factory()
        try:
            async with taskkit.session(engine) as s:
                for wid in ("w1", "w2"):
                    await taskkit.create_worker(s, {"id": wid, "name": wid.upper()})
                model: dict = {}
                links: set = set()
                next_id = [] if backend == "sqlite-file" else [1]
                for operation in operations:
                    await apply(s, operation, model, links, next_id)
            async with taskkit.session(engine) as s:
                tasks = (await s.exec(select_tasks(order_by="id"))).all()
                stored = {t.id: (t.title, t.status, t.priority) for t in tasks}
                stored_links = set()
                for task_id in stored:
                    task = await taskkit.get_task(s, task_id, with_workers=True)
                    stored_links |= {(task_id, w.id) for w in task.workers}
            assert stored == model
            assert stored_links == links
            for task in tasks:
                assert (task.completed_at is not None) == (task.status == "completed")
        finally:
            await engine.dispose()

    asyncio.run(run())


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "title": TITLES.filter(lambda t: t == t.strip() and "\n" not in t),
            "description": st.one_of(st.none(), TEXT.filter(lambda t: t.strip() != "")),
            "status": st.sampled_from(["pending", "in_progress", "completed"]),
            "priority": st.sampled_from(["low", "medium", "high"]),
            "created_at": st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.just(UTC),
            ),
            "age_hours": st.integers(0, 10_000),
        }
    ),
    min_size=1,
    max_size=20,
)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@given(rows=ROWS)
@SETTINGS
def test_load_then_to_dataframe_round_trips_every_value(engine_factory, rows):
    async def run() -> None:
        engine = await engine_factory()
        try:
            frame = pd.DataFrame(rows)
            frame["created_at"] = frame["created_at"].dt.floor("us")
            frame["updated_at"] = frame["created_at"] + pd.to_timedelta(
                frame.pop("age_hours"), unit="h"
            )
            summary = await taskkit.load_tasks(engine, frame, progress=False)
            assert summary.tasks == len(rows)
            out = await to_dataframe(engine, select_tasks(order_by="id"))
        finally:
            await engine.dispose()
        for column in ("title", "description", "status", "priority"):
            got = [None if pd.isna(v) else str(v) for v in out[column]]
            want = [None if pd.isna(v) else v for v in frame[column]]
            assert got == want, column
        assert list(out["created_at"]) == list(frame["created_at"])
        assert list(out["updated_at"]) == list(frame["updated_at"])
        done = frame["status"] == "completed"
        assert list(out["completed_at"][done]) == list(frame["updated_at"][done])

    asyncio.run(run())
