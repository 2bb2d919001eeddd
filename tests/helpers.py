"""Helpers shared by the tests: content snapshots to prove that a failure changed nothing."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple]]:
    """Every row of every taskkit table, in primary-key order."""
    out: dict[str, list[tuple]] = {}
    async with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            keys = ", ".join(c.name for c in table.primary_key.columns)
            rows = await conn.execute(text(f"SELECT * FROM {table.name} ORDER BY {keys}"))
            out[table.name] = [tuple(r) for r in rows]
    return out
