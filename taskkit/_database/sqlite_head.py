# ruff: noqa: E501
"""The SQLite schema at the head revision, as the migrations leave it: what
ensure_schema creates in an empty SQLite database instead of running every revision
(as Rails loads schema.rb). Written by ``python -m taskkit._migrate.snapshot``; do not
edit. tests/test_migrations.py checks it against the migrations."""

__all__ = ["REVISION", "STATEMENTS"]

REVISION = "0006"
STATEMENTS = (
    "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)",
    "CREATE TABLE label (\n\tname VARCHAR(255) NOT NULL, \n\tid INTEGER NOT NULL, \n\tCONSTRAINT ck_label_name CHECK (length(trim(name)) >= 1 AND length(name) <= 255), \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE project (\n\tname VARCHAR(100) NOT NULL, \n\tid INTEGER NOT NULL, \n\tCONSTRAINT ck_project_name CHECK (length(trim(name)) >= 1 AND length(name) <= 100), \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE status_change (\n\ttask_id INTEGER NOT NULL, \n\tchanged_at DATETIME NOT NULL, \n\tfrom_status VARCHAR(11), \n\tto_status VARCHAR(11) NOT NULL, \n\tsource VARCHAR(7) NOT NULL, \n\tid INTEGER NOT NULL, \n\tCONSTRAINT ck_status_change_from_status CHECK (from_status IS NULL OR (from_status <> to_status AND (from_status = 'pending' OR from_status = 'in_progress' OR from_status = 'completed'))), \n\tCONSTRAINT ck_status_change_source CHECK (source = 'api' OR source = 'export' OR source = 'tracker' OR source = 'seed'), \n\tCONSTRAINT ck_status_change_to_status CHECK (to_status = 'pending' OR to_status = 'in_progress' OR to_status = 'completed'), \n\tFOREIGN KEY(task_id) REFERENCES task (id) ON DELETE CASCADE, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE \"task\" (\n\ttitle VARCHAR(512) NOT NULL, \n\tdescription TEXT, \n\tstatus VARCHAR(11) NOT NULL, \n\tpriority VARCHAR(6) NOT NULL, \n\tproject_id INTEGER, \n\tid INTEGER NOT NULL, \n\tcreated_at DATETIME NOT NULL, \n\tupdated_at DATETIME NOT NULL, \n\tcompleted_at DATETIME, \n\t\"key\" VARCHAR(200), \n\tresolution VARCHAR(9), \n\tstarted_at DATETIME, \n\tkind VARCHAR(100), \n\tCONSTRAINT ck_task_completed_at CHECK ((status = 'completed' AND completed_at IS NOT NULL AND completed_at >= created_at) OR (status <> 'completed' AND completed_at IS NULL)), \n\tCONSTRAINT ck_task_description CHECK (description IS NULL OR length(description) <= 1048576), \n\tCONSTRAINT ck_task_kind CHECK (kind IS NULL OR (length(trim(kind)) >= 1 AND length(kind) <= 100)), \n\tCONSTRAINT ck_task_priority CHECK (priority = 'low' OR priority = 'medium' OR priority = 'high'), \n\tCONSTRAINT ck_task_resolution CHECK ((status = 'completed' AND resolution IS NOT NULL AND (resolution = 'done' OR resolution = 'wont_do' OR resolution = 'duplicate' OR resolution = 'cancelled')) OR (status <> 'completed' AND resolution IS NULL)), \n\tCONSTRAINT ck_task_started_at CHECK (started_at IS NULL OR (started_at >= created_at AND (completed_at IS NULL OR completed_at >= started_at))), \n\tCONSTRAINT ck_task_status CHECK (status = 'pending' OR status = 'in_progress' OR status = 'completed'), \n\tCONSTRAINT ck_task_title CHECK (length(trim(title)) >= 1 AND length(title) <= 512), \n\tCONSTRAINT ck_task_updated_after_created CHECK (updated_at >= created_at), \n\tFOREIGN KEY(project_id) REFERENCES project (id) ON DELETE SET NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE task_label_link (\n\ttask_id INTEGER NOT NULL, \n\tlabel_id INTEGER NOT NULL, \n\tFOREIGN KEY(label_id) REFERENCES label (id) ON DELETE CASCADE, \n\tFOREIGN KEY(task_id) REFERENCES task (id) ON DELETE CASCADE, \n\tPRIMARY KEY (task_id, label_id)\n)\n WITHOUT ROWID\n\n",
    'CREATE TABLE "taskworkerlink" (\n\ttask_id INTEGER NOT NULL, \n\tworker_id VARCHAR(64) NOT NULL, \n\tFOREIGN KEY(task_id) REFERENCES task (id) ON DELETE CASCADE, \n\tFOREIGN KEY(worker_id) REFERENCES worker (id) ON DELETE CASCADE, \n\tPRIMARY KEY (task_id, worker_id)\n)\n WITHOUT ROWID\n\n',
    "CREATE TABLE worker (\n\tname VARCHAR(100) NOT NULL, \n\tid VARCHAR(64) NOT NULL, \n\tCONSTRAINT ck_worker_id CHECK (length(trim(id)) >= 1 AND length(id) <= 64), \n\tCONSTRAINT ck_worker_name CHECK (length(trim(name)) >= 1 AND length(name) <= 100), \n\tPRIMARY KEY (id)\n)",
    "CREATE UNIQUE INDEX ix_label_name ON label (name)",
    "CREATE UNIQUE INDEX ix_project_name ON project (name)",
    "CREATE INDEX ix_status_change_task_id_changed_at ON status_change (task_id, changed_at)",
    "CREATE INDEX ix_task_created_at ON task (created_at)",
    'CREATE UNIQUE INDEX ix_task_key ON task ("key")',
    "CREATE INDEX ix_task_label_link_label_id_task_id ON task_label_link (label_id, task_id)",
    "CREATE INDEX ix_task_project_id ON task (project_id)",
    "CREATE INDEX ix_task_resolution_completed_at_started_at ON task (resolution, completed_at, started_at)",
    "CREATE INDEX ix_task_status_created_at ON task (status, created_at)",
    "CREATE INDEX ix_task_title ON task (title)",
)
# Then: INSERT INTO alembic_version (version_num) VALUES (REVISION)
