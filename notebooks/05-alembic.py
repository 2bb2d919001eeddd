# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 5 · Alembic with SQLModel, from `alembic init` to a data migration
#
# *The course: 01 explore → 2a models → 2b sessions → 2c relationships → 2d queries →
# 2e testing and the schema → 04 API → **05 Alembic** → 06 import (`notebooks/README.md`).*
#
# **After this lesson you can**
#
# - set up Alembic for an async SQLModel app (`alembic init -t async`, `env.py` that imports
#   the models, `import sqlmodel` in `script.py.mako`);
# - read and fix the usual failures: a sync `env.py`, `AutoString`, a Python-side `default=`,
#   a constraint on SQLite, an `env.py` that forgot the models;
# - write revisions by hand in batch mode, downgrade, and move data in a revision;
# - check that models and database agree (`alembic check`), and know what it does not see.
#
# Models change; a database that already holds data must follow without losing it. Alembic
# writes each change as a *revision* (a Python file with `upgrade()` and `downgrade()`), records
# in the table `alembic_version` which revisions a database has, and can *autogenerate* a
# revision by comparing the models with the database.
#
# This lesson builds a small app in a scratch directory and runs the real `alembic` command on
# it, as you would in a terminal. The usual setup steps fail four times on current releases
# (SQLAlchemy 2.1, SQLModel 0.0.50, Alembic 1.20): each failure is run live with its real
# message, then fixed. At the end: taskkit's own `env.py` and `script.py.mako`, and a data
# migration (new column, backfill, CHECK constraint) in SQLite's batch mode.
#
# Sections end with a short exercise: edit the exercise cell, then run the check below it
# (each check builds an app of its own, so it can run at any time). Answers are in the
# `solutions` notebook. Run the cells in order.

# %%
import shutil
import sqlite3
from importlib.metadata import version
from pathlib import Path

import taskkit_course as course
from taskkit_course.checks import (
    check_alembic_downgrade,
    check_alembic_prediction,
    check_batch_index,
)

import taskkit

# %%
# NBVAL_IGNORE_OUTPUT
print({name: version(name) for name in ("alembic", "sqlalchemy", "sqlmodel")})

# %% [markdown]
# A scratch directory for the app, and three helpers from the course package:
# `alembic(...)` runs the real `alembic` command there and prints what a terminal would show
# (the command, its exit code, and the lines that matter: the last line of a traceback is the
# error), `write(...)` writes a file of the app as an editor would, and `sql(...)` runs one
# query on the app's database with plain `sqlite3`.

# %%
app = course.workdir("05-alembic")
alembic, write, sql = course.alembic_tools(app)

# %% [markdown]
# The app's models, version 1: projects and tasks, in a module `app_models.py`. (A real app
# keeps them in its package, as taskkit does; the point is that `env.py` imports them.)

# %%
write(
    "app_models.py",
    """
    from sqlmodel import Field, SQLModel


    class Project(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(max_length=100, unique=True)


    class Task(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        title: str = Field(max_length=200)
    """,
)

# %% [markdown]
# ## 1. `alembic init` with an async URL
#
# The usual recipe runs `alembic init migrations`, points `sqlalchemy.url` at the app's
# database and sets `target_metadata = SQLModel.metadata` in `migrations/env.py`. The app is
# async, so its URL names the async driver, `sqlite+aiosqlite:///app.db`:

# %%
alembic("init", "migrations", keep="Generating")


def configure(url: str = "sqlite+aiosqlite:///app.db") -> None:
    """Point alembic.ini at the app's database and env.py at the app's models."""
    ini = app / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("driver://user:pass@localhost/dbname", url, 1),
    )
    env = app / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "target_metadata = None",
            "import app_models  # registers the tables\n"
            "from sqlmodel import SQLModel\n\n"
            "target_metadata = SQLModel.metadata",
            1,
        )
    )


configure()
failed = alembic("revision", "--autogenerate", "--rev-id", "0001", "-m", "first")

# %% [markdown]
# **Why.** The default template's `env.py` builds a *synchronous* `Engine` from the URL
# (`engine_from_config`). With an async driver such as aiosqlite or asyncpg, every call into the
# driver must be awaited, and SQLAlchemy can only bridge that from inside `greenlet_spawn`,
# which the async engine provides and the sync one does not. Autogenerate needs a connection
# to compare the models with the database, so it fails the moment it connects.
#
# **Fix.** Start from the async template, `alembic init -t async`: its `env.py` creates an
# `AsyncEngine`, and runs Alembic's (synchronous) migration code through
# `await connection.run_sync(do_run_migrations)`, inside the greenlet. The same directory name
# is wanted, so the failed setup is removed first:

# %%
shutil.rmtree(app / "migrations")
(app / "alembic.ini").unlink()
alembic("init", "-t", "async", "migrations", keep="Generating")
configure()
env_source = (app / "migrations" / "env.py").read_text()
print(
    env_source[
        env_source.index("def do_run_migrations") : env_source.index("def run_migrations_online")
    ]
)

# %% [markdown]
# `--rev-id 0001` names the revision (instead of a random hex id), which keeps this lesson's
# output the same on every run; a real project may keep the random ids.

# %%
generated = alembic(
    "revision", "--autogenerate", "--rev-id", "0001", "-m", "first", keep="Detected"
)

# %% [markdown]
# ### Exercise 1
#
# `alembic history` lists the revisions; `alembic heads` the newest. Without running anything
# yet, predict: how many revisions does `history` list now, and what is the head's id? Fill in
# the two values, then run the check.

# %% tags=["exercise-05-1"]
predicted_count = ...  # how many revisions?
predicted_head = ...  # e.g. "abc123"

# %%
check_alembic_prediction(predicted_count, predicted_head)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# `alembic init` writes no revision, and autogenerate wrote
# one file, named by `--rev-id`: one revision, head `0001` (`alembic heads` prints `0001
# (head)`). Run `alembic("history")` and `alembic("heads")` to see it.

# %% [markdown]
# ## 2. The autogenerated revision does not run
#
# Apply it:

# %%
failed = alembic("upgrade", "head", tail=3)

# %% [markdown]
# **Why.** SQLModel gives `str` fields its own column type, `sqlmodel.sql.sqltypes.AutoString`
# (a `VARCHAR` that takes its length from `max_length`). Autogenerate writes the type as it
# finds it, so the revision refers to `sqlmodel`, but the template the revision was rendered
# from, `script.py.mako`, imports only `alembic.op` and `sqlalchemy`:

# %%
revision_0001 = next((app / "migrations" / "versions").glob("0001_*.py"))
source = revision_0001.read_text()
print([line for line in source.splitlines() if line.startswith(("import", "from"))])
print([line.strip() for line in source.splitlines() if "AutoString" in line])

# %% [markdown]
# **Fix.** Add `import sqlmodel` to `script.py.mako`, so that every future revision has it, and
# to the revision already written (or delete it and generate it again):

# %%
mako = app / "migrations" / "script.py.mako"
mako.write_text(
    mako.read_text().replace(
        "import sqlalchemy as sa", "import sqlalchemy as sa\nimport sqlmodel", 1
    )
)
revision_0001.write_text(
    source.replace("import sqlalchemy as sa", "import sqlalchemy as sa\nimport sqlmodel", 1)
)
alembic("upgrade", "head", keep="Running upgrade")
print(sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))

# %% [markdown]
# The app now runs for a while and collects data:

# %%
sql("INSERT OR IGNORE INTO project (id, name) VALUES (1, 'Apollo')")  # (OR IGNORE: re-runs)
for task_id, title in enumerate(
    ["Write the launch plan", "Urgent: fix login timeout", "Order coffee"], start=1
):
    sql(f"INSERT OR IGNORE INTO task (id, title) VALUES ({task_id}, '{title}')")
print(sql("SELECT id, title FROM task"))

# %% [markdown]
# ### Pitfall: an `env.py` that forgot the models
#
# `target_metadata = SQLModel.metadata` is the models' tables only once the module that defines
# them has been imported: `SQLModel.metadata` fills up as table classes are defined. Without
# the `import app_models` line that `configure()` added to `env.py`, autogenerate compares the
# database with *no* tables, and concludes that every table should go. The revision it writes
# drops them, with their data. Run on purpose, then undone:

# %%
env = app / "migrations" / "env.py"
working = env.read_text()
env.write_text(working.replace("import app_models  # registers the tables\n", ""))
alembic("revision", "--autogenerate", "--rev-id", "0099", "-m", "forgot", keep="Detected")
forgot = next((app / "migrations" / "versions").glob("0099_*.py"))
print(sorted(line.strip() for line in forgot.read_text().splitlines() if "op.drop_table" in line))
forgot.unlink()  # never applied
_ = env.write_text(working)

# %% [markdown]
# **Fix:** import every module that defines tables in `env.py`, before `target_metadata` is
# read (taskkit's `env.py`, §5, imports `taskkit._models`), and read every autogenerated
# revision before running it: a `drop_table` you did not ask for means the models were not seen.

# %% [markdown]
# ## 3. `add_column(..., default=...)` leaves the old rows empty
#
# Version 2 of the app gives every task a priority. The usual recipe writes the revision by
# hand with `op.add_column('task', sa.Column('priority', sa.String(), default='medium'))`:

# %%
write(
    "migrations/versions/0002_priority.py",
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "0002"
    down_revision = "0001"


    def upgrade() -> None:
        op.add_column("task", sa.Column("priority", sa.String(), default="medium"))


    def downgrade() -> None:
        op.drop_column("task", "priority")
    """,
)
alembic("upgrade", "head", keep="Running upgrade")
print(sql("SELECT id, title, priority FROM task"))

# %% [markdown]
# No error, and every existing task has `priority = NULL`. **Why:** `default=` is a
# *Python-side* default: SQLAlchemy fills it in when *it* inserts a row. It is never sent to the
# database, so `ALTER TABLE ... ADD COLUMN` creates a column without a default and the rows
# already there get NULL. (Rows inserted later by SQL that does not name the column get NULL
# too.)
#
# **Fix:** `server_default=` is part of the column's DDL, so the database fills the existing
# rows; and `nullable=False` says what we mean. Rewrite 0002 and run it again:

# %%
alembic("downgrade", "0001", keep="Running downgrade")
write(
    "migrations/versions/0002_priority.py",
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "0002"
    down_revision = "0001"


    def upgrade() -> None:
        op.add_column(
            "task",
            sa.Column(
                "priority", sa.String(6), nullable=False, server_default=sa.text("'medium'")
            ),
        )


    def downgrade() -> None:
        op.drop_column("task", "priority")
    """,
)
alembic("upgrade", "head", keep="Running upgrade")
print(sql("SELECT id, title, priority FROM task"))

# %% [markdown]
# ## 4. `create_foreign_key` on SQLite
#
# Version 3: a task belongs to a project. The recipe adds the column, then the foreign key:

# %%
write(
    "migrations/versions/0003_task_project.py",
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "0003"
    down_revision = "0002"


    def upgrade() -> None:
        op.add_column("task", sa.Column("project_id", sa.Integer()))
        op.create_foreign_key("fk_task_project", "task", "project", ["project_id"], ["id"])


    def downgrade() -> None:
        op.drop_constraint("fk_task_project", "task", type_="foreignkey")
        op.drop_column("task", "project_id")
    """,
)
failed = alembic("upgrade", "head", tail=1)
print("task columns now:", [row[1] for row in sql("PRAGMA table_info(task)")])

# %% [markdown]
# **Why.** SQLite's `ALTER TABLE` can add, rename and drop a column, but cannot add a
# constraint to an existing table; Alembic refuses rather than pretend. Note also what the
# failure left behind: `project_id` *was* added. Alembic assumes DDL on SQLite is not
# transactional (its log says `Will assume non-transactional DDL`), so the first statement
# stayed and `alembic_version` still says 0002. Re-running the revision would now fail
# on the duplicate column. (taskkit's env.py, below, makes SQLite DDL transactional.) Undo by
# hand here:

# %%
with sqlite3.connect(app / "app.db") as conn:
    conn.execute("ALTER TABLE task DROP COLUMN project_id")
print(
    sql("SELECT version_num FROM alembic_version"), [r[1] for r in sql("PRAGMA table_info(task)")]
)

# %% [markdown]
# **Fix: batch mode.** `op.batch_alter_table("task")` collects the changes and, on SQLite,
# applies them by "move and copy": create a new table with the new shape, copy the rows, drop
# the old table, rename the new one. On PostgreSQL the same code issues plain `ALTER TABLE`s.
# Setting `render_as_batch=True` in `env.py` makes autogenerate write its revisions this way.

# %%
write(
    "migrations/versions/0003_task_project.py",
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "0003"
    down_revision = "0002"


    def upgrade() -> None:
        with op.batch_alter_table("task") as batch:
            batch.add_column(sa.Column("project_id", sa.Integer()))
            batch.create_foreign_key("fk_task_project", "project", ["project_id"], ["id"])


    def downgrade() -> None:
        with op.batch_alter_table("task") as batch:
            batch.drop_constraint("fk_task_project", type_="foreignkey")
            batch.drop_column("project_id")
    """,
)
alembic("upgrade", "head", keep="Running upgrade")
print(sql("SELECT sql FROM sqlite_master WHERE name = 'task'")[0][0])

# %% [markdown]
# ### Exercise 2
#
# `alembic downgrade -1` undoes the newest revision. Write the arguments that take a database
# back to *no* revision at all, whatever its head. The check runs them on an app of its own,
# built like this one up to here (revisions 0001 to 0003, with data), and looks at its
# database: no revision recorded, no tables left.

# %% tags=["exercise-05-2"]
downgrade_args = ["downgrade", "..."]  # replace "..." with the target that means "nothing"

# %%
check_alembic_downgrade(downgrade_args)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# The state before the first revision is called `base`:
# `["downgrade", "base"]`. `-1` undoes one revision (from 0001 that reaches nothing, from 0003
# it does not), and a revision id is a target *at* that revision, not before it.

# %% [markdown]
# ### Exercise 3
#
# Write revision `0004` that adds an *index* on `task.project_id` (name it
# `ix_task_project_id`), with a `downgrade` that removes it. Replace the `...` bodies of
# `upgrade_0004` and `downgrade_0004`. The check writes them into revision 0004 of an app of
# its own (at 0003, with data), upgrades, looks at the index, downgrades, and checks that it is
# gone and the rows are still there.

# %% tags=["exercise-05-3"]
upgrade_0004 = """
    ...
"""
downgrade_0004 = """
    ...
"""

# %%
check_batch_index(upgrade_0004, downgrade_0004)

# %% [markdown] jupyter={"source_hidden": true}
# **Why**, to open after you tried the exercise (click the dots).
#
# In batch mode,
# `with op.batch_alter_table("task") as batch: batch.create_index("ix_task_project_id",
# ["project_id"])`, and `batch.drop_index("ix_task_project_id")` to go back. An index needs
# no table copy, so plain `op.create_index("ix_task_project_id", "task", ["project_id"])` works
# on SQLite too; batch mode keeps one style for every change (and autogenerate with
# `render_as_batch=True` writes it that way). Not `unique=True`: many tasks share a project.

# %% [markdown]
# ## 5. The working setup: taskkit's `env.py` and `script.py.mako`
#
# Put together, a SQLModel project's `env.py` needs: the async connection handed to Alembic
# through `run_sync`; `target_metadata = SQLModel.metadata` *after* importing the models;
# `render_as_batch=True` on SQLite; and `compare_type=True` so that a changed column type is
# noticed. taskkit's own `env.py` (in the package, `taskkit/_alembic/env.py`) adds: one
# engine made by `taskkit.connect` (foreign keys on, the URL normalized), the whole command in
# one transaction that also covers SQLite DDL, and a connection handed over by the caller
# (`taskkit.upgrade_schema` and its siblings, implemented in the private `taskkit/_migrate/`)
# so that `taskkit db upgrade`, your code and the test suite run the same code:

# %%
migrations = Path(taskkit.__file__).parent / "_alembic"
print((migrations / "env.py").read_text().split('"""', 2)[2].strip())

# %% [markdown]
# and its `script.py.mako` imports `sqlmodel` once, for every revision to come:

# %%
print((migrations / "script.py.mako").read_text())

# %% [markdown]
# ## 6. A data migration: column, backfill, CHECK
#
# Autogenerate sees *schema*; it never moves data. Version 4 wants a task `status`, with the
# rule "one of pending, in_progress, completed" held by the database, and existing rows
# filled from what we know (here: a task whose title starts with "Urgent" is in progress). The
# steps, in one revision:
#
# 1. add the column as nullable (rows exist; there is no value for them yet);
# 2. backfill it with `UPDATE` (SQL, not the app's models: a revision must keep working when
#    the models have moved on);
# 3. in batch mode, make it `NOT NULL` and add the CHECK (SQLite cannot do either in place).

# %%
write(
    "migrations/versions/0005_task_status.py",
    """
    import sqlalchemy as sa
    from alembic import op

    revision = "0005"
    down_revision = "0003"

    STATUSES = ("pending", "in_progress", "completed")


    def upgrade() -> None:
        op.add_column("task", sa.Column("status", sa.String(11), nullable=True))
        op.execute(
            "UPDATE task SET status = CASE WHEN title LIKE 'Urgent%' "
            "THEN 'in_progress' ELSE 'pending' END"
        )
        with op.batch_alter_table("task") as batch:
            batch.alter_column("status", existing_type=sa.String(11), nullable=False)
            batch.create_check_constraint(
                "ck_task_status", "status IN ('pending', 'in_progress', 'completed')"
            )


    def downgrade() -> None:
        with op.batch_alter_table("task") as batch:
            batch.drop_constraint("ck_task_status", type_="check")
            batch.drop_column("status")
    """,
)
alembic("upgrade", "head", keep="Running upgrade")
print(sql("SELECT id, title, priority, project_id, status FROM task"))

# %% [markdown]
# (The exercises ran on apps of their own, so this app's chain is 0001, 0002, 0003, 0005.) The
# rule now holds for any writer, not just the app:

# %%
for status in ("completed", "done"):
    try:
        with sqlite3.connect(app / "app.db") as conn:
            conn.execute("INSERT INTO task (title, status) VALUES ('Check me', ?)", (status,))
        print(repr(status), "stored")
    except sqlite3.IntegrityError as e:
        print(repr(status), "->", type(e).__name__, e)

# %% [markdown]
# Finally, are the models and the database in step? Version 4 of the models, and
# `alembic check`, which compares them the way autogenerate does and fails on any difference:

# %%
write(
    "app_models.py",
    """
    from typing import Literal

    import sqlalchemy as sa
    from sqlmodel import Field, SQLModel


    class Project(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(max_length=100, unique=True)


    class Task(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        title: str = Field(max_length=200)
        priority: str = Field(
            default="medium", max_length=6, sa_column_kwargs={"server_default": "medium"}
        )
        project_id: int | None = Field(default=None, foreign_key="project.id")
        # Field(sa_type=...) keeps the Literal for validation and tells SQLModel the column type.
        status: Literal["pending", "in_progress", "completed"] = Field(
            default="pending", sa_type=sa.String(11)
        )
    """,
)
checked = alembic("check", keep="No new upgrade", tail=1)

# %% [markdown]
# In step. Note what `alembic check` (and autogenerate) does *not* compare: CHECK constraints.
# The models above say nothing of `ck_task_status`, and no drift is reported; a rule added by
# hand in a revision must be kept by hand (taskkit declares its CHECKs in the models'
# `__table_args__` as well, so that `create_all` and the revisions agree).

# %% [markdown]
# ## Recap
#
# - Async app: `alembic init -t async`; `env.py` imports the models before
#   `target_metadata = SQLModel.metadata`; `script.py.mako` imports `sqlmodel`.
# - Read every autogenerated revision: a `drop_table` you did not ask for means `env.py` did
#   not see the models.
# - `server_default=` fills existing rows, `default=` does not; SQLite changes constraints
#   only in batch mode (`render_as_batch=True`).
# - `downgrade base` goes back to nothing; `-1` one step.
# - Data migrations: add nullable, backfill with SQL, then tighten (NOT NULL, CHECK) in batch.
# - `alembic check` compares columns, not CHECK constraints: keep those in step by hand.
#
# Next: notebook 06 imports a tracker's export into taskkit.

# %% [markdown]
# ## Clean up

# %%
shutil.rmtree(app)
