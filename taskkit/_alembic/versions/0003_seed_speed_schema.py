"""CHECKs as OR chains, a (status, created_at) index, link table WITHOUT ROWID on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The schema changes that came with fast seeding (commit "Seeding: deterministic vectorized
generator ..."), so that a database migrated to head is what the models declare:

* ``ck_task_status`` and ``ck_task_priority`` become ``a = 'x' OR a = 'y'`` chains: SQLite runs
  an ``IN`` list inside a CHECK through a temporary table per row (twice as slow on bulk inserts).
  The rule is the same, so existing rows pass.
* The single-column indexes on ``status``, ``priority`` and ``completed_at`` give way to one on
  ``(status, created_at)``, which "pending tasks, newest first" reads in order.
* On SQLite, ``taskworkerlink`` becomes a WITHOUT ROWID table (the primary key is the table).

Every row is kept both ways. On SQLite the CHECK changes and WITHOUT ROWID rebuild tables (batch
mode); taskkit.migrate turns foreign keys off around the migration so the rebuilds do not cascade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS_BEFORE = {
    "ck_task_status": "status IN ('pending', 'in_progress', 'completed')",
    "ck_task_priority": "priority IN ('low', 'medium', 'high')",
}
CHECKS_AFTER = {
    "ck_task_status": "status = 'pending' OR status = 'in_progress' OR status = 'completed'",
    "ck_task_priority": "priority = 'low' OR priority = 'medium' OR priority = 'high'",
}


def _replace_checks(checks: dict[str, str]) -> None:
    with op.batch_alter_table("task") as batch:
        for name, sql in checks.items():
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, sa.text(sql))


def _rebuild_link_table(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # WITHOUT ROWID is SQLite's; elsewhere the option does not exist
    with op.batch_alter_table(
        "taskworkerlink", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade() -> None:
    op.drop_index("ix_task_status", table_name="task")
    op.drop_index("ix_task_priority", table_name="task")
    op.drop_index("ix_task_completed_at", table_name="task")
    op.create_index("ix_task_status_created_at", "task", ["status", "created_at"])
    _replace_checks(CHECKS_AFTER)
    _rebuild_link_table(with_rowid=False)


def downgrade() -> None:
    _rebuild_link_table(with_rowid=True)
    _replace_checks(CHECKS_BEFORE)
    op.drop_index("ix_task_status_created_at", table_name="task")
    op.create_index("ix_task_status", "task", ["status"])
    op.create_index("ix_task_priority", "task", ["priority"])
    op.create_index("ix_task_completed_at", "task", ["completed_at"])
