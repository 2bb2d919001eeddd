"""Real work, faithfully: longer text, resolution, started_at, kind, labels, status history

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

What real trackers record and the teaching model could not hold:

* Titles up to 512 characters (was 200; Jira allows 255, GitHub 256) and descriptions up to
  1,048,576 (was 10,000; GitHub bodies reach 65,536): the CHECKs change, and PostgreSQL's
  ``VARCHAR(200)`` becomes ``VARCHAR(512)``.
* ``task.resolution`` tells finished work (``done``) from dropped work (``wont_do``,
  ``duplicate``, ``cancelled``); set exactly when the status is ``completed`` (a CHECK). The
  earlier schema could not tell them apart and called every closed task completed, so the
  tasks already completed get ``done``; :func:`taskkit.upgrade_schema` counts them in its
  message, and re-importing their export corrects those that were dropped.
* An index on ``(resolution, completed_at)``: finished work by day, read from the index.
* ``task.started_at``, the first move into ``in_progress`` (NULL for every existing task: the
  earlier schema never recorded it); ``task.kind``, the tracker's type of work item.
* Tables ``label`` and ``task_label_link`` (many-to-many) and ``status_change`` (a task's
  status history, empty for existing tasks).

Every existing row, link and timestamp is kept. Downgrading drops the new tables and columns
(resolutions, starts, kinds, labels and history are lost) and is refused while a title or a
description is longer than 0004 allows, naming how many.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = "status = 'pending' OR status = 'in_progress' OR status = 'completed'"
RESOLUTION = (
    "resolution = 'done' OR resolution = 'wont_do' OR resolution = 'duplicate' "
    "OR resolution = 'cancelled'"
)
TEXT_CHECKS_BEFORE = {
    "ck_task_title": "length(trim(title)) >= 1 AND length(title) <= 200",
    "ck_task_description": "description IS NULL OR length(description) <= 10000",
}
TEXT_CHECKS_AFTER = {
    "ck_task_title": "length(trim(title)) >= 1 AND length(title) <= 512",
    "ck_task_description": "description IS NULL OR length(description) <= 1048576",
}
NEW_TASK_CHECKS = {
    "ck_task_resolution": (
        f"(status = 'completed' AND resolution IS NOT NULL AND ({RESOLUTION}))"
        " OR (status <> 'completed' AND resolution IS NULL)"
    ),
    "ck_task_started_at": (
        "started_at IS NULL OR (started_at >= created_at"
        " AND (completed_at IS NULL OR completed_at >= started_at))"
    ),
    "ck_task_kind": "kind IS NULL OR (length(trim(kind)) >= 1 AND length(kind) <= 100)",
}


def _status_check(column: str) -> str:
    return STATUS.replace("status", column)


def upgrade() -> None:
    op.add_column("task", sa.Column("resolution", sa.String(9), nullable=True))
    op.add_column("task", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("task", sa.Column("kind", sa.String(100), nullable=True))
    # Data before the CHECK that needs it.
    op.execute("UPDATE task SET resolution = 'done' WHERE status = 'completed'")
    with op.batch_alter_table("task") as batch:
        batch.alter_column("title", type_=sa.String(512), existing_nullable=False)
        for name, sql in TEXT_CHECKS_AFTER.items():
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, sa.text(sql))
        for name, sql in NEW_TASK_CHECKS.items():
            batch.create_check_constraint(name, sa.text(sql))
    op.create_index("ix_task_resolution_completed_at", "task", ["resolution", "completed_at"])

    op.create_table(
        "label",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("length(trim(name)) >= 1 AND length(name) <= 255", name="ck_label_name"),
    )
    op.create_index("ix_label_name", "label", ["name"], unique=True)
    op.create_table(
        "task_label_link",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["label_id"], ["label.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "label_id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_task_label_link_label_id_task_id", "task_label_link", ["label_id", "task_id"]
    )
    op.create_table(
        "status_change",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(11), nullable=True),
        sa.Column("to_status", sa.String(11), nullable=False),
        sa.Column("source", sa.String(7), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(_status_check("to_status"), name="ck_status_change_to_status"),
        sa.CheckConstraint(
            f"from_status IS NULL OR (from_status <> to_status AND "
            f"({_status_check('from_status')}))",
            name="ck_status_change_from_status",
        ),
        sa.CheckConstraint(
            "source = 'api' OR source = 'export' OR source = 'tracker' OR source = 'seed'",
            name="ck_status_change_source",
        ),
    )
    op.create_index(
        "ix_status_change_task_id_changed_at", "status_change", ["task_id", "changed_at"]
    )


def _refuse_text_that_0004_cannot_hold() -> None:
    too_long = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FILTER (WHERE length(title) > 200), "
            "count(*) FILTER (WHERE length(description) > 10000) FROM task"
        )
    )
    titles, descriptions = too_long.one()
    if titles or descriptions:
        raise RuntimeError(
            f"cannot downgrade below 0005: {titles:,} task title(s) are longer than 200 "
            f"characters and {descriptions:,} description(s) longer than 10,000, which revision "
            "0004 cannot hold; shorten or delete those tasks first"
        )


def downgrade() -> None:
    _refuse_text_that_0004_cannot_hold()
    op.drop_index("ix_status_change_task_id_changed_at", table_name="status_change")
    op.drop_table("status_change")
    op.drop_index("ix_task_label_link_label_id_task_id", table_name="task_label_link")
    op.drop_table("task_label_link")
    op.drop_index("ix_label_name", table_name="label")
    op.drop_table("label")
    op.drop_index("ix_task_resolution_completed_at", table_name="task")
    with op.batch_alter_table("task") as batch:
        for name in NEW_TASK_CHECKS:
            batch.drop_constraint(name, type_="check")
        for name, sql in TEXT_CHECKS_BEFORE.items():
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, sa.text(sql))
        batch.alter_column("title", type_=sa.String(200), existing_nullable=False)
        batch.drop_column("kind")
        batch.drop_column("started_at")
        batch.drop_column("resolution")
