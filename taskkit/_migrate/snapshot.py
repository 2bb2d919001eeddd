"""Write ``taskkit/_database/sqlite_head.py``: the SQLite schema the migrations build, at head.

    uv run python -m taskkit._migrate.snapshot

Run it after adding a revision (``tests/test_migrations.py`` fails until it is): it migrates
an empty SQLite file with Alembic and writes its ``sqlite_master`` statements as the ones
:func:`~taskkit._migrate.ensure.ensure_schema` runs for an empty SQLite database: tables
first, then indexes, each in :func:`canonical` form. Alembic's batch mode rebuilds a table
with its constraints in a different order from run to run (they come from a set), and its
indexes in a different order too; the canonical form sorts them, so that the same schema is
written the same way each time and two databases compare equal when their schemas are.
"""

import asyncio
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._database.engine import connect
from taskkit._migrate.commands import upgrade_schema
from taskkit._migrate.known import VERSION_TABLE

__all__ = ["canonical", "main", "migrated_schema", "render", "schema_of"]

TARGET = Path(__file__).resolve().parents[1] / "_database" / "sqlite_head.py"


_CONSTRAINT = re.compile(r"(CONSTRAINT|PRIMARY KEY|FOREIGN KEY|UNIQUE|CHECK)\b")


def canonical(statement: str) -> str:
    """A ``CREATE TABLE`` with its table constraints sorted (columns keep their order);
    any other statement as it is."""
    if not statement.startswith("CREATE TABLE"):
        return statement
    start, end = statement.index("("), statement.rindex(")")
    items, depth, quoted, current = [], 0, "", ""
    for char in statement[start + 1 : end]:
        if quoted:
            quoted = "" if char == quoted else quoted
        elif char in "'\"":
            quoted = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    items.append(current.strip())
    columns = [i for i in items if not _CONSTRAINT.match(i)]
    constraints = sorted(i for i in items if _CONSTRAINT.match(i))
    body = ", \n\t".join([*columns, *constraints])
    return f"{statement[:start]}(\n\t{body}\n){statement[end + 1 :]}"


async def schema_of(engine: AsyncEngine) -> list[str]:
    """The statements of a SQLite database's ``sqlite_master``: tables, then indexes, each
    sorted by name, in :func:`canonical` form."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type = 'index', name"
            )
        )
        return [canonical(row[0]) for row in rows]


async def migrated_schema() -> tuple[str, list[str]]:
    """(head revision, :func:`schema_of`) an empty SQLite database brought to head by
    Alembic."""
    with tempfile.TemporaryDirectory(prefix="taskkit-snapshot-") as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'head.db'}")
        try:
            revision = await upgrade_schema(engine)
            statements = await schema_of(engine)
        finally:
            await engine.dispose()
    assert revision is not None
    return revision, statements


def render(revision: str, statements: list[str]) -> str:
    lines = [
        "# ruff: noqa: E501",
        '"""The SQLite schema at the head revision, as the migrations leave it: what',
        "ensure_schema creates in an empty SQLite database instead of running every revision",
        "(as Rails loads schema.rb). Written by ``python -m taskkit._migrate.snapshot``; do not",
        'edit. tests/test_migrations.py checks it against the migrations."""',
        "",
        '__all__ = ["REVISION", "STATEMENTS"]',
        "",
        f"REVISION = {json.dumps(revision)}",
        "STATEMENTS = (",
        *(f"    {json.dumps(statement)}," for statement in statements),
        ")",
        f"# Then: INSERT INTO {VERSION_TABLE} (version_num) VALUES (REVISION)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    revision, statements = asyncio.run(migrated_schema())
    TARGET.write_text(render(revision, statements), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(TARGET)], check=False)
    print(f"wrote {TARGET} ({len(statements)} statements, revision {revision})")


if __name__ == "__main__":
    main()
