"""The SQLAlchemy reader: through the engine's own driver, any statement, any column type."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import SelectBase

from taskkit._frames.column_types import Spec
from taskkit._frames.reader import Reader
from taskkit._frames.statement_sql import Query, categories_as_text, sqlite_raw_query
from taskkit._frames.typed_columns import Column


class SQLAlchemyReader(Reader):
    """Reads through an AsyncConnection (the engine's own driver), in chunks."""

    name = "sqlalchemy"

    def __init__(self, conn: AsyncConnection, *, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def query(self, stmt: SelectBase, specs: list[Spec]) -> Query:
        if self.sqlite:
            return sqlite_raw_query(stmt, specs)
        return categories_as_text(stmt, specs)

    async def count(self, stmt: SelectBase) -> int:
        total = await self.conn.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        return int(total or 0)

    async def fetch(
        self, query: Query, *, chunksize: int, on_rows: Callable[[int], None] | None = None
    ) -> list[Column]:
        out = [Column(spec) for spec in query.specs]
        result = await self.conn.stream(query.stmt)
        async for rows in result.partitions(chunksize):
            columns = list(zip(*rows, strict=True))
            # Never NULL flags here (plain_query's layout).
            for column, (v, _) in zip(out, query.layout, strict=True):
                column.append_python(columns[v])
            if on_rows:
                on_rows(len(rows))
        return out
