"""task.completed_at, for cycle time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Adds ``task.completed_at`` (nullable, aware timestamp, indexed) and the CHECK that ties it to
``status``. Tasks already completed get ``completed_at = updated_at`` (the best record of when
they were completed; ``updated_at >= created_at`` is already held by a CHECK), so the new CHECK
holds for existing rows. Downgrading removes the column, its index and its CHECK and keeps every
other value.

On SQLite adding or dropping a CHECK rebuilds the table (batch mode): taskkit.migrate turns
foreign keys off around the migration so that dropping the old ``task`` does not cascade into
``taskworkerlink``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_COMPLETED_AT = (
    "(status = 'completed' AND completed_at IS NOT NULL AND completed_at >= created_at)"
    " OR (status <> 'completed' AND completed_at IS NULL)"
)


def upgrade() -> None:
    # Column first and data next: the CHECK must hold for every row when it is added.
    op.add_column("task", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE task SET completed_at = updated_at WHERE status = 'completed'")
    op.create_index("ix_task_completed_at", "task", ["completed_at"])
    with op.batch_alter_table("task") as batch:
        batch.create_check_constraint("ck_task_completed_at", sa.text(CHECK_COMPLETED_AT))


def downgrade() -> None:
    op.drop_index("ix_task_completed_at", table_name="task")
    with op.batch_alter_table("task") as batch:
        batch.drop_constraint("ck_task_completed_at", type_="check")
        batch.drop_column("completed_at")
