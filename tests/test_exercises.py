"""Every exercise check of the course catches the usual wrong answers and accepts right ones.

Each case is an answer as a learner would type it in the exercise cell (run here the way a
notebook cell runs: top-level code in a namespace holding the lesson's imports) and what the
check must say. For every exercise: at least two wrong answers that must be caught (including
the ones issue 27 found accepted or mishandled) and right answers in more than one form.

The table of these cases in ``notebooks/README.md`` is this table: each case's verdict is
compared with its row there. ``uv run python -m tests.test_exercises`` rewrites the table.
"""

import inspect
import linecache
import re
import sys
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from taskkit_course import checks

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "notebooks" / "README.md"
START, END = "<!-- exercise-table: start -->", "<!-- exercise-table: end -->"

# What the lessons import before their exercises (each answer runs with these names).
PRELUDE = """
from typing import Annotated

from fastapi import Depends, HTTPException
from pydantic import ConfigDict, StringConstraints
from sqlalchemy import desc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import taskkit
from taskkit import Label, Project, ProjectRead, Task, TaskLabelLink, TaskWorkerLink, Worker

SessionDep = Annotated[AsyncSession, Depends(taskkit.get_session)]
"""


@dataclass(frozen=True)
class Case:
    exercise: str
    label: str  # how the table names the answer
    code: str  # the exercise cell as the learner wrote it
    right: bool

    @property
    def id(self) -> str:
        return f"{self.exercise}: {self.label}"


def wrong(exercise: str, label: str, code: str) -> Case:
    return Case(exercise, label, code, right=False)


def right(exercise: str, label: str, code: str) -> Case:
    return Case(exercise, label, code, right=True)


PENDING_HIGH = 'select(Task).where(Task.status == "pending", Task.priority == "high")'

CASES = [
    # 02a-1: a PATCH model for projects.
    wrong(
        "02a-1",
        "`min_length=2, max_length=50`",
        """
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=2, max_length=50)
""",
    ),
    wrong(
        "02a-1",
        "no length rules",
        """
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
""",
    ),
    wrong(
        "02a-1",
        "`name` required",
        """
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
""",
    ),
    wrong(
        "02a-1",
        "unknown keys ignored (pydantic's default)",
        """
class MyProjectUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
""",
    ),
    wrong(
        "02a-1",
        '`class MyProjectUpdate(SQLModel, extra="forbid")` (SQLModel ignores it)',
        """
class MyProjectUpdate(SQLModel, extra="forbid"):
    name: str | None = Field(default=None, min_length=1, max_length=100)
""",
    ),
    right(
        "02a-1",
        "`Field(default=None, min_length=1, max_length=100)`, `extra='forbid'`",
        """
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
""",
    ),
    right(
        "02a-1",
        "`Annotated[str, StringConstraints(...)] | None = None`",
        """
class MyProjectUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
""",
    ),
    # 02b-1: what database_url makes of a libpq URL.
    wrong(
        "02b-1",
        "`sslmode` kept",
        'predicted_url = "postgresql+asyncpg://bob:pw@db.example.com:5433/app?sslmode=verify-full"',
    ),
    wrong(
        "02b-1",
        "`channel_binding` kept",
        'predicted_url = "postgresql+asyncpg://bob:pw@db.example.com:5433/app'
        '?ssl=verify-full&channel_binding=prefer"',
    ),
    wrong(
        "02b-1",
        "password hidden (`bob:***`)",
        'predicted_url = "postgresql+asyncpg://bob:***@db.example.com:5433/app?ssl=verify-full"',
    ),
    right(
        "02b-1",
        "the URL as a string",
        'predicted_url = "postgresql+asyncpg://bob:pw@db.example.com:5433/app?ssl=verify-full"',
    ),
    right(
        "02b-1",
        "a `make_url(...)` object",
        'predicted_url = make_url("postgresql+asyncpg://bob:pw@db.example.com:5433/app'
        '?ssl=verify-full")',
    ),
    # 02c-1: many-to-many by hand, through the collection.
    wrong(
        "02c-1",
        "`taskkit.assign`",
        """
async def assign_by_hand(session, task_id, worker_id):
    await taskkit.assign(session, task_id, worker_id)
""",
    ),
    wrong(
        "02c-1",
        "adds a `TaskWorkerLink` row",
        """
async def assign_by_hand(session, task_id, worker_id):
    if await session.get(TaskWorkerLink, (task_id, worker_id)) is None:
        session.add(TaskWorkerLink(task_id=task_id, worker_id=worker_id))
    await session.commit()
""",
    ),
    wrong(
        "02c-1",
        "appends to a collection never loaded",
        """
async def assign_by_hand(session, task_id, worker_id):
    task = await session.get(Task, task_id)
    task.workers.append(await session.get(Worker, worker_id))
    await session.commit()
""",
    ),
    wrong(
        "02c-1",
        "appends again on the second call",
        """
async def assign_by_hand(session, task_id, worker_id):
    statement = select(Task).where(Task.id == task_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    task.workers.append(await session.get(Worker, worker_id))
    await session.commit()
""",
    ),
    wrong(
        "02c-1",
        "never commits",
        """
async def assign_by_hand(session, task_id, worker_id):
    statement = select(Task).where(Task.id == task_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    worker = await session.get(Worker, worker_id)
    if worker not in task.workers:
        task.workers.append(worker)
""",
    ),
    right(
        "02c-1",
        "`selectinload(Task.workers)`, append when missing, commit",
        """
async def assign_by_hand(session, task_id, worker_id):
    statement = select(Task).where(Task.id == task_id).options(selectinload(Task.workers))
    task = (await session.exec(statement)).one()
    worker = await session.get(Worker, worker_id)
    if worker not in task.workers:
        task.workers.append(worker)
    await session.commit()
""",
    ),
    right(
        "02c-1",
        '`session.refresh(task, ["workers"])`, ids compared',
        """
async def assign_by_hand(session, task_id, worker_id):
    task = await session.get(Task, task_id)
    await session.refresh(task, ["workers"])
    if worker_id not in {w.id for w in task.workers}:
        task.workers.append(await session.get(Worker, worker_id))
        await session.commit()
""",
    ),
    # 02c-2: many-to-many in a query.
    wrong(
        "02c-2",
        "`where(Label.name == name)` without a join",
        """
def tasks_labelled(name):
    return select(Task).where(Label.name == name)
""",
    ),
    wrong(
        "02c-2",
        "a label id written in",
        """
def tasks_labelled(name):
    return select(Task).join(TaskLabelLink).where(TaskLabelLink.label_id == 1)
""",
    ),
    wrong(
        "02c-2",
        "selects labels",
        """
def tasks_labelled(name):
    return select(Label).where(Label.name == name)
""",
    ),
    right(
        "02c-2",
        "`join(Task.labels)`",
        """
def tasks_labelled(name):
    return select(Task).join(Task.labels).where(Label.name == name)
""",
    ),
    right(
        "02c-2",
        "`Task.labels.any(...)`",
        """
def tasks_labelled(name):
    return select(Task).where(Task.labels.any(Label.name == name))
""",
    ),
    right(
        "02c-2",
        "joins through `TaskLabelLink`",
        """
def tasks_labelled(name):
    return (
        select(Task)
        .join(TaskLabelLink, col(TaskLabelLink.task_id) == Task.id)
        .join(Label, col(Label.id) == TaskLabelLink.label_id)
        .where(Label.name == name)
    )
""",
    ),
    # 02d-1: the 5 newest pending high-priority tasks.
    wrong(
        "02d-1",
        "ordered by `id`",
        f"""
def recent_high():
    return {PENDING_HIGH}.order_by(col(Task.id).desc()).limit(5)
""",
    ),
    wrong(
        "02d-1",
        "no tiebreak",
        f"""
def recent_high():
    return {PENDING_HIGH}.order_by(col(Task.created_at).desc()).limit(5)
""",
    ),
    wrong(
        "02d-1",
        "without `col()`",
        f"""
def recent_high():
    return {PENDING_HIGH}.order_by(Task.created_at.desc(), Task.id.desc()).limit(5)
""",
    ),
    wrong(
        "02d-1",
        "`select(Task.id)`",
        """
def recent_high():
    return (
        select(Task.id)
        .where(Task.status == "pending", Task.priority == "high")
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .limit(5)
    )
""",
    ),
    right(
        "02d-1",
        "`order_by(col(Task.created_at).desc(), col(Task.id).desc())`",
        f"""
def recent_high():
    return {PENDING_HIGH}.order_by(col(Task.created_at).desc(), col(Task.id).desc()).limit(5)
""",
    ),
    right(
        "02d-1",
        "two `order_by` calls with `desc(col(...))`",
        f"""
def recent_high():
    return (
        {PENDING_HIGH}
        .order_by(desc(col(Task.created_at)))
        .order_by(desc(col(Task.id)))
        .limit(5)
    )
""",
    ),
    right(
        "02d-1",
        '`select_tasks(status="pending", priority="high")`',
        """
def recent_high():
    return taskkit.select_tasks(status="pending", priority="high").limit(5)
""",
    ),
    # 02e-1: what session B reads while A holds an unflushed add.
    wrong("02e-1", "A's project", 'predicted_b_reads = ["Added by A"]'),
    wrong("02e-1", "`None`", "predicted_b_reads = None"),
    right("02e-1", "`[]`", "predicted_b_reads = []"),
    right("02e-1", "`()`", "predicted_b_reads = ()"),
    # 02e-2: the head revision's id.
    wrong("02e-2", "an older id written in", 'head_id = "0004"'),
    wrong("02e-2", "the first revision", "head_id = taskkit.schema_history()[0].id"),
    wrong(
        "02e-2",
        "the `RevisionInfo` itself",
        "head_id = next(r for r in taskkit.schema_history() if r.is_head)",
    ),
    right(
        "02e-2",
        "`next(r.id for r in ... if r.is_head)`",
        "head_id = next(r.id for r in taskkit.schema_history() if r.is_head)",
    ),
    right("02e-2", "`schema_history()[-1].id`", "head_id = taskkit.schema_history()[-1].id"),
    # 04-1: GET /projects/{id}.
    wrong(
        "04-1",
        "returns `None` when missing",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    return await session.get(Project, project_id)
""",
    ),
    wrong(
        "04-1",
        "`.one()`",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    return (await session.exec(select(Project).where(Project.id == project_id))).one()
""",
    ),
    wrong(
        "04-1",
        "404 without the id",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    project = await session.get(Project, project_id)
    if project is None:
        raise HTTPException(status_code=404)
    return project
""",
    ),
    wrong(
        "04-1",
        "`taskkit.get_project`, its error not caught",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    return await taskkit.get_project(session, project_id)
""",
    ),
    right(
        "04-1",
        "`session.get`, 404 naming the id",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    project = await session.get(Project, project_id)
    if project is None:
        raise HTTPException(status_code=404, detail=f"project {project_id} not found")
    return project
""",
    ),
    right(
        "04-1",
        "`taskkit.get_project`, `NotFoundError` turned into 404",
        """
async def read_project(project_id: int, session: SessionDep) -> ProjectRead:
    try:
        return await taskkit.get_project(session, project_id)
    except taskkit.NotFoundError as e:
        raise HTTPException(status_code=404, detail=str(e)) from None
""",
    ),
    # 04-2: how many tasks GET /tasks pages through.
    wrong("04-2", "61", "predicted_total = 61"),
    wrong("04-2", '`"60"` (a string)', 'predicted_total = "60"'),
    right("04-2", "60", "predicted_total = 60"),
    right("04-2", "60.0", "predicted_total = 60.0"),
    # 05-1: revisions after the first autogenerate.
    wrong("05-1", '`1, "1"`', 'predicted_count, predicted_head = 1, "1"'),
    wrong("05-1", '`2, "0001"`', 'predicted_count, predicted_head = 2, "0001"'),
    right("05-1", '`1, "0001"`', 'predicted_count, predicted_head = 1, "0001"'),
    right("05-1", '`1, "0001 (head)"`', 'predicted_count, predicted_head = 1, "0001 (head)"'),
    # 05-2: downgrade to nothing.
    wrong("05-2", '`["downgrade", "-1"]`', 'downgrade_args = ["downgrade", "-1"]'),
    wrong("05-2", '`["downgrade", "0001"]`', 'downgrade_args = ["downgrade", "0001"]'),
    wrong("05-2", '`["upgrade", "base"]`', 'downgrade_args = ["upgrade", "base"]'),
    right("05-2", '`["downgrade", "base"]`', 'downgrade_args = ["downgrade", "base"]'),
    right("05-2", '`("downgrade", "base")`', 'downgrade_args = ("downgrade", "base")'),
    # 05-3: a batch-mode index revision.
    wrong(
        "05-3",
        "index on the wrong column",
        '''
upgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.create_index("ix_task_project_id", ["title"])
"""
downgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.drop_index("ix_task_project_id")
"""
''',
    ),
    wrong(
        "05-3",
        "a UNIQUE index",
        '''
upgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.create_index("ix_task_project_id", ["project_id"], unique=True)
"""
downgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.drop_index("ix_task_project_id")
"""
''',
    ),
    wrong(
        "05-3",
        "a downgrade that keeps the index",
        '''
upgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.create_index("ix_task_project_id", ["project_id"])
"""
downgrade_0004 = """
pass
"""
''',
    ),
    right(
        "05-3",
        "`batch.create_index` / `batch.drop_index`",
        '''
upgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.create_index("ix_task_project_id", ["project_id"])
"""
downgrade_0004 = """
with op.batch_alter_table("task") as batch:
    batch.drop_index("ix_task_project_id")
"""
''',
    ),
    right(
        "05-3",
        "`op.create_index` / `op.drop_index` (no table copy)",
        '''
upgrade_0004 = """
op.create_index("ix_task_project_id", "task", ["project_id"])
"""
downgrade_0004 = """
op.drop_index("ix_task_project_id", table_name="task")
"""
''',
    ),
]

# The name each exercise's check is given (and, for predictions, the names it reads).
ANSWER_NAMES = {
    "02a-1": ["MyProjectUpdate"],
    "02b-1": ["predicted_url"],
    "02c-1": ["assign_by_hand"],
    "02c-2": ["tasks_labelled"],
    "02d-1": ["recent_high"],
    "02e-1": ["predicted_b_reads"],
    "02e-2": ["head_id"],
    "04-1": ["read_project"],
    "04-2": ["predicted_total"],
    "05-1": ["predicted_count", "predicted_head"],
    "05-2": ["downgrade_args"],
    "05-3": ["upgrade_0004", "downgrade_0004"],
}

_cells = count()


def run_cell(code: str, namespace: dict[str, Any]) -> None:
    """Run ``code`` as a notebook cell: its functions keep their source (``inspect`` reads it,
    as IPython makes it readable for a cell)."""
    filename = f"<exercise-cell-{next(_cells)}>"
    source = code.strip() + "\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


async def verdict_of(case: Case) -> checks.Verdict:
    namespace: dict[str, Any] = {}
    run_cell(PRELUDE, namespace)
    run_cell(case.code, namespace)
    answers = [namespace[name] for name in ANSWER_NAMES[case.exercise]]
    result = checks.EXERCISES[case.exercise](*answers)
    return await result if inspect.isawaitable(result) else result


def table_row(case: Case, verdict: checks.Verdict) -> str:
    outcome = "accepted" if verdict.passed else "caught"
    said, label = (text.replace("|", "\\|") for text in (repr(verdict), case.label))
    return f"| {case.exercise} | {label} | {outcome} | {said} |"


def readme_rows() -> dict[str, str]:
    """The table's rows in notebooks/README.md, by exercise and answer."""
    text = README.read_text(encoding="utf-8")
    table = text.split(START, 1)[1].split(END, 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| 0")]
    return {"|".join(row.split(" | ")[:2]): row for row in rows}


def row_key(case: Case) -> str:
    return "|".join(table_row(case, checks.Verdict(case.exercise, True, "")).split(" | ")[:2])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_the_check_says_what_the_table_says(case: Case):
    verdict = await verdict_of(case)
    assert verdict.passed is case.right, repr(verdict)
    assert readme_rows().get(row_key(case)) == table_row(case, verdict)


def test_every_exercise_has_two_wrong_answers_and_two_right_forms():
    for exercise in checks.EXERCISES:
        cases = [c for c in CASES if c.exercise == exercise]
        assert sum(not c.right for c in cases) >= 2, exercise
        assert sum(c.right for c in cases) >= 2, exercise


def test_the_readme_table_has_exactly_these_cases():
    assert sorted(readme_rows()) == sorted(row_key(c) for c in CASES)


def test_the_lessons_tag_one_exercise_cell_per_check():
    tags = []
    for lesson in sorted((ROOT / "notebooks").glob("*.py")):
        tags += re.findall(r'^# %%.*tags=\["exercise-([\w-]+)"\]', lesson.read_text(), re.M)
    assert sorted(tags) == sorted(checks.EXERCISES)


@pytest.mark.parametrize("exercise", sorted(checks.EXERCISES))
async def test_a_check_passes_a_right_answer_after_wrong_ones_and_again(exercise: str):
    """Each check builds its own state: a wrong try leaves nothing behind."""
    cases = [c for c in CASES if c.exercise == exercise]
    first_right = next(c for c in cases if c.right)
    for case in [*[c for c in cases if not c.right], first_right, first_right]:
        assert (await verdict_of(case)).passed is case.right, case.id


@pytest.mark.parametrize("exercise", sorted(checks.EXERCISES))
async def test_the_untouched_starter_code_is_not_attempted(exercise: str):
    """The exercise cell as the lesson ships it: the check says 'not attempted yet'."""
    starters = {}
    for lesson in sorted((ROOT / "notebooks").glob("*.py")):
        for cell in re.split(r"^(?=# %%)", lesson.read_text(), flags=re.M):
            if match := re.match(r'# %%.*tags=\["exercise-([\w-]+)"\]', cell):
                starters[match[1]] = cell.split("\n", 1)[1]
    verdict = await verdict_of(Case(exercise, "starter", starters[exercise], right=False))
    assert verdict.passed is None, repr(verdict)


def test_a_failed_check_names_no_traceback():
    assert all("Traceback" not in row for row in readme_rows().values())


async def render_table() -> str:
    lines = [
        START,
        "| Exercise | Answer tried | Verdict | What the check says |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        lines.append(table_row(case, await verdict_of(case)))
    return "\n".join([*lines, END])


if __name__ == "__main__":
    import asyncio

    table = asyncio.run(render_table())
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    README.write_text(before + table + rest.split(END, 1)[1], encoding="utf-8")
    print(f"{README.relative_to(ROOT)}: {len(CASES)} cases", file=sys.stderr)
