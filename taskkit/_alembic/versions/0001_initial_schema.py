"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The tables as the foundation's models declared them, without ``task.completed_at`` (0002 adds
it). Written out in full rather than imported from ``taskkit._models``: a revision is a record of
one step, and must not change when the models change later. CHECK constraints are copied from
the models' ``__table_args__`` (autogenerate emits them only for new tables, and never compares
them afterwards).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "length(trim(name)) >= 1 AND length(name) <= 100", name="ck_project_name"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_project_name", "project", ["name"], unique=True)

    op.create_table(
        "worker",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.CheckConstraint("length(trim(id)) >= 1 AND length(id) <= 64", name="ck_worker_id"),
        sa.CheckConstraint(
            "length(trim(name)) >= 1 AND length(name) <= 100", name="ck_worker_name"
        ),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "task",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=11), nullable=False),
        sa.Column("priority", sa.String(length=6), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed')", name="ck_task_status"
        ),
        sa.CheckConstraint("priority IN ('low', 'medium', 'high')", name="ck_task_priority"),
        sa.CheckConstraint(
            "length(trim(title)) >= 1 AND length(title) <= 200", name="ck_task_title"
        ),
        sa.CheckConstraint(
            "description IS NULL OR length(description) <= 10000", name="ck_task_description"
        ),
        sa.CheckConstraint("updated_at >= created_at", name="ck_task_updated_after_created"),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_title", "task", ["title"])
    op.create_index("ix_task_status", "task", ["status"])
    op.create_index("ix_task_priority", "task", ["priority"])
    op.create_index("ix_task_project_id", "task", ["project_id"])
    op.create_index("ix_task_created_at", "task", ["created_at"])

    op.create_table(
        "taskworkerlink",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "worker_id"),
    )


def downgrade() -> None:
    # Indexes and constraints go with their tables; referencing tables first.
    op.drop_table("taskworkerlink")
    op.drop_table("task")
    op.drop_table("worker")
    op.drop_table("project")
