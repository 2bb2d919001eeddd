"""task.key, the key a tracker gives a task (unique, nullable)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Adds ``task.key`` (``HIVE-28515``, ``owner/repo#1404``, an Asana id as text) with a unique
index, so that re-importing an export updates the tasks it already brought in. Existing tasks
get NULL (several NULLs are allowed by a unique index on SQLite and PostgreSQL). Adding a
nullable column does not rebuild the table on SQLite. Downgrading drops the index and column and
keeps every other value.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("task", sa.Column("key", sa.String(200), nullable=True))
    op.create_index("ix_task_key", "task", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_task_key", table_name="task")
    with op.batch_alter_table("task") as batch:
        batch.drop_column("key")
