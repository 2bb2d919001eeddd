"""The day and second functions the flow measures are built on: the same integers on SQLite
and PostgreSQL, at the edges where text timestamps and time zones could part them."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from taskkit._sql.functions import Clamp, DayOrdinal, EpochSeconds, UtcDay

moments = sa.Table(
    "moments",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
EDGES = [
    datetime(2025, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC),  # the last microsecond of a day
    datetime(2025, 3, 2, 0, 0, tzinfo=UTC),
    datetime(2025, 3, 2, 12, 0, 59, 999_600, tzinfo=UTC),  # SQLite's ms clock rounds it up
    datetime(2025, 3, 2, 1, 30, tzinfo=UTC) - timedelta(hours=3),  # given in another zone
    datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.fixture
async def edged(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.run_sync(moments.metadata.create_all)
        await conn.execute(sa.insert(moments), [{"id": i, "at": at} for i, at in enumerate(EDGES)])
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(moments.metadata.drop_all)


async def test_day_ordinal_and_epoch_seconds_are_pythons_integers(edged: AsyncEngine):
    async with edged.connect() as conn:
        rows = await conn.execute(
            sa.select(
                DayOrdinal(moments.c.at), EpochSeconds(moments.c.at), UtcDay(moments.c.at)
            ).order_by(moments.c.id)
        )
        found = [tuple(r) for r in rows]
    assert [r[0] for r in found] == [at.date().toordinal() for at in EDGES]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [r[1] for r in found] == [int((at - epoch).total_seconds() // 1) for at in EDGES]
    days = [r[2] for r in found]  # text on SQLite, dates on PostgreSQL: grouped alike
    assert [str(d)[:10] for d in days] == [at.date().isoformat() for at in EDGES]


async def test_clamp_holds_a_value_between_bounds(edged: AsyncEngine):
    async with edged.connect() as conn:
        held = await conn.scalars(sa.select(Clamp(moments.c.id, 1, 3)).order_by(moments.c.id))
        assert held.all() == [1, 1, 2, 3, 3, 3]


def test_the_edges_are_what_they_say():
    assert EDGES[3].date() == date(2025, 3, 1)  # 22:30 on the 1st, UTC
