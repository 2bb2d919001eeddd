"""The report reads one snapshot: with a writer committing between its reads, its counts,
charts, provenance and fingerprint still describe one state of the database (issue 25 item 3).

The writer is deterministic: ``to_dataframe``, as the report calls it, is wrapped so that after
each of the report's reads another connection commits a completed task. Before, each read saw
a newer database: "rows in the database" and "tasks in this report" disagreed on an
unfiltered report.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

import taskkit
import taskkit._report.data as report_module
from taskkit import Task
from taskkit._report import check_parameters, report_data
from tests.conftest import FILE_BACKENDS, make_engine


@pytest.fixture(params=FILE_BACKENDS)
async def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_engine(request.param, tmp_path, "report.db")
    await taskkit.seed(engine, tasks=400, projects=4, workers=6, seed=0, progress=False)
    yield engine
    await engine.dispose()


def tasks_in_database(provenance: dict[str, str]) -> int:
    # "1,234 tasks, 5 projects, ..."
    return int(provenance["rows in the database"].split(" tasks")[0].replace(",", ""))


async def test_the_report_agrees_with_itself_while_another_connection_writes(
    seeded: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = taskkit.connect(seeded.url.render_as_string(hide_password=False))
    added: list[int] = []
    read = report_module.to_dataframe

    async def read_then_someone_writes(*args: Any, **kwargs: Any) -> Any:
        frame = await read(*args, **kwargs)
        async with taskkit.session(writer) as s:
            task = await taskkit.create_task(
                s, {"title": "written meanwhile", "status": "completed"}
            )
        added.append(task.id)
        return frame

    monkeypatch.setattr(report_module, "to_dataframe", read_then_someone_writes)
    parameters = check_parameters({})
    try:
        data = await report_data(seeded, parameters)
        assert len(added) == 6  # a commit after every read of the report
        monkeypatch.undo()
        assert data.tasks == 400
        assert tasks_in_database(data.provenance) == data.tasks
        assert data.provenance["tasks in this report"] == "400"
        assert int(data.weekly["created"].sum()) == data.tasks
        assert int(data.weekly["completed"].sum()) == data.completed
        assert len(data.cycle_days) == data.completed
        assert int(data.status_priority["tasks"].sum()) == data.tasks
        # The fingerprint is the one of the database without the writer's tasks.
        async with taskkit.session(writer) as s:
            await s.exec(delete(Task).where(Task.id.in_(added)))  # type: ignore[call-overload,attr-defined]
            await s.commit()
        again = await report_data(seeded, parameters)
        assert again.provenance["data fingerprint"] == data.provenance["data fingerprint"]
    finally:
        await writer.dispose()
