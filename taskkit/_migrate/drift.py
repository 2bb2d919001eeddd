"""Drift: how a database's schema differs from what the models declare.

Alembic's autogenerate comparison (tables, columns with types and nullability, indexes, unique
constraints, foreign keys), plus what it skips: CHECK constraints by name and by definition,
and SQLite's WITHOUT ROWID. Sync code: it runs inside ``AsyncConnection.run_sync``.
"""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Column, MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import taskkit._models  # noqa: F401  (registers the tables on SQLModel.metadata)

__all__ = ["schema_differences"]


def schema_differences(conn: Connection) -> list[str]:
    """How the database's schema differs from the models, one phrase per difference."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    found = [_describe(diff) for diff in compare_metadata(context, SQLModel.metadata)]
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            continue
        declared = {
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint) and c.name
        }
        present = {c["name"] for c in inspector.get_check_constraints(table.name) if c["name"]}
        found += [f"CHECK {n} on {table.name} is missing" for n in sorted(declared - present)]
        found += [
            f"CHECK {n} on {table.name} is not in the models" for n in sorted(present - declared)
        ]
        if conn.dialect.name == "sqlite":
            found += _sqlite_differences(conn, table)
        elif conn.dialect.name == "postgresql":
            found += _postgres_check_differences(conn, table)
    return found


def _postgres_check_differences(conn: Connection, table: Table) -> list[str]:
    """CHECK definitions on PostgreSQL, which stores them rewritten (casts, parentheses): the
    declared CHECKs are created on a temporary copy of the table, inside a savepoint that is
    rolled back, and both are read back with ``pg_get_constraintdef`` and compared."""
    declared = [c for c in table.constraints if isinstance(c, CheckConstraint) and c.name]
    if not declared:
        return []
    scratch = Table(
        f"taskkit_expected_{table.name}",
        MetaData(),
        *(Column(column.name, column.type) for column in table.columns),
        *(CheckConstraint(c.sqltext, name=str(c.name)) for c in declared),
        prefixes=["TEMPORARY"],
    )
    definitions = text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:table AS regclass) AND contype = 'c'"
    )
    savepoint = conn.begin_nested()
    try:
        scratch.create(conn)
        expected: dict[str, str] = {
            name: sql
            for name, sql in conn.execute(definitions, {"table": f"pg_temp.{scratch.name}"})
        }
        present: dict[str, str] = {
            name: sql for name, sql in conn.execute(definitions, {"table": table.name})
        }
    finally:
        savepoint.rollback()
    return [
        f"CHECK {name} on {table.name} is {present[name]} in the database, "
        f"{expected[name]} in the models"
        for name in sorted(set(expected) & set(present))
        if present[name] != expected[name]
    ]


def _sqlite_differences(conn: Connection, table: Table) -> list[str]:
    """CHECK texts and WITHOUT ROWID, which SQLite keeps verbatim (PostgreSQL rewrites CHECKs)."""
    inspector = inspect(conn)
    found = []
    declared = {
        str(c.name): _squash(str(c.sqltext))
        for c in table.constraints
        if isinstance(c, CheckConstraint) and c.name
    }
    for reflected in inspector.get_check_constraints(table.name):
        name, present = reflected["name"], _squash(reflected["sqltext"])
        if name in declared and declared[name] != present:
            found.append(
                f"CHECK {name} on {table.name} is ({present}) in the database, "
                f"({declared[name]}) in the models"
            )
    rowid_declared = table.dialect_options["sqlite"]["with_rowid"] is not False
    rowid_present = inspector.get_table_options(table.name).get("sqlite_with_rowid", True)
    if rowid_declared != rowid_present:
        state = {True: "a rowid table", False: "WITHOUT ROWID"}
        found.append(
            f"table {table.name} is {state[rowid_present]} in the database, "
            f"{state[rowid_declared]} in the models"
        )
    return found


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def _describe(diff: Any) -> str:
    """One of Alembic's diff tuples (or a list of column changes) as a phrase."""
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "is missing" if kind == "add_table" else "is not in the models"
        return f"table {diff[1].name} {where}"
    if kind in ("add_column", "remove_column"):
        where = "is missing" if kind == "add_column" else "is not in the models"
        return f"column {diff[2]}.{diff[3].name} {where}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        item = diff[1]
        noun = "index" if "index" in kind else "unique constraint"
        where = "is missing" if kind.startswith("add") else "is not in the models"
        columns = ", ".join(c.name for c in item.columns)
        return f"{noun} {item.name or '(unnamed)'} on {item.table.name}({columns}) {where}"
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        where = "is missing" if kind == "add_fk" else "is not in the models"
        columns = ", ".join(c.name for c in fk.columns)
        ondelete = f" ON DELETE {fk.ondelete}" if fk.ondelete else ""
        return (
            f"foreign key {fk.table.name}({columns}) -> {fk.referred_table.name}{ondelete} {where}"
        )
    if kind == "modify_type":
        return f"column {diff[2]}.{diff[3]} is {diff[5]} in the database, {diff[6]} in the models"
    if kind == "modify_nullable":

        def nullable(value: bool) -> str:
            return "NULL" if value else "NOT NULL"

        return (
            f"column {diff[2]}.{diff[3]} is {nullable(diff[5])} in the database, "
            f"{nullable(diff[6])} in the models"
        )
    return str(diff)
