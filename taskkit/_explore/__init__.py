"""Explore a select in Jupyter: a grid paged by the database (``taskkit.explore``).

``view`` derives what the grid shows (statement, code, cells, a static table) from the user's
choices; ``widget`` is the anywidget that answers the browser's requests a page at a time;
``static/`` holds its JavaScript and CSS, plain files with no build step. The widget modules
load on the first call, so ``import taskkit`` (and the CLI) does not pay for ipywidgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskkit._optional import require

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
    from sqlalchemy.sql import Select

    from taskkit._explore.widget import Explorer

__all__ = ["explore"]


async def explore(
    source: AsyncEngine | AsyncSession, stmt: Select[Any] | None = None, *, size: int = 50
) -> Explorer:
    """A grid over ``stmt`` (default: all tasks), paged by the database, for Jupyter.

    ``grid = await taskkit.explore(engine)`` fetches the first page and returns the widget;
    the last expression of a cell displays it. Pages come from the database one at a time by
    keyset pagination (the last page by the reversed order), never the whole result; a page
    number jumps there (the row before it found by an OFFSET over the sort key alone, from
    the nearer end). Click a header to sort (again for descending; the primary key breaks
    ties). The filters are ``select_tasks``'s own (status, priority, resolution, project,
    worker, label, kind, text, dates, key): the whole statement for the task view, its WHERE
    added to ``stmt`` when ``stmt`` reads the task table (a statement without it has no
    filters, and says so). In the task view projects show by name, and a click on a row shows
    the task's labels, workers and status history. The row count, and whether an index serves
    the order, are worked out after each first page without holding pages back.

    Any select is shown: a join, a GROUP BY, DISTINCT or HAVING (paged as a subquery in its
    own order, then by its groups, which are unique together), SQLModel's one-argument
    ``select(subquery)`` (whole rows, not its first column).

    ``grid.statement`` is the current select, ``grid.code`` the Python that builds it, and
    ``await grid.to_dataframe()`` reads every row of it. Without a kernel (nbconvert HTML, a
    notebook shown on the web) the output is the first page as a static table.

    Args:
        source: an engine, or a session (its engine is used; each page has its own session).
        stmt: a ``select()`` to page through; a header click sorts it by that column, and
            the filters apply when it reads the task table.
        size: rows per page, 1 to 10,000.

    Raises:
        InvalidArgumentError: a bad ``source`` or ``size``, or a statement that cannot be
            paged; the message says what is allowed.
    """
    require("anywidget", extra="explore", feature="the explore grid")
    from taskkit._explore.widget import open_grid

    return await open_grid(source, stmt, size=size)
