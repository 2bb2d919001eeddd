"""The explore grid: an anywidget whose pages come from the database, a page at a time.

The browser asks for pages with custom messages (``model.send``); the kernel answers by
setting synced traits (the rows, the position, the SQL). Each page is one keyset query; the
row count and the plan's verdict on the order run afterwards, in the background, so they never
hold a page back.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Select

from taskkit._checks import positive_int
from taskkit._crud import get_task
from taskkit._database.engine import is_memory_sqlite, reading, session
from taskkit._errors import InvalidArgumentError, TaskkitError
from taskkit._explore.source import InlineSession, interrupted, page_session, step_limit
from taskkit._explore.view import (
    FILTER_FORM,
    FILTERS,
    View,
    cell,
    header,
    page_cells,
    static_html,
)
from taskkit._models import Project
from taskkit._paging import MAX_PAGE_SIZE, Page, paginate
from taskkit._paging.cursor import carry_cursor
from taskkit._paging.jump import page_at
from taskkit._paging.last import last_page
from taskkit._sql.select import check_select, count
from taskkit._sql.view import explain, show_sql

log = logging.getLogger("taskkit.explore")
_COPIES = itertools.count(1)
_STATIC = Path(__file__).parent / "static"
_MOVES = ("first", "next", "prev", "last")
_ACTIONS = (*_MOVES, "page", "sort", "filter", "size", "plan", "select")
_VIEWS_KEPT = 16
_COUNT_AFTER_S = 0.02
# What a walk of the sort's index may cost before the grid lets SQLite sort instead: about
# 15,000 rows read, 10 to 20 ms (see Explorer._walk).
_WALK_STEPS = 50_000
_REVERSED = (
    "This page was read backwards: the query orders the rows the other way (each ASC a DESC, "
    "and back) and takes the first {n} (a page and one more, which says whether there are "
    "more); the grid shows them reversed, in the view's order. Read this way the last page "
    "costs what the first does, where OFFSET would read every row before it."
)
_GROUPS = (
    "Each page groups every row the statement reads, then sorts the groups: a page costs "
    "about what the whole GROUP BY costs (filter the statement first, for fast pages)."
)
_SORTS = (
    "No index serves this order: the database sorts every matching row for each page "
    "(sort by an indexed column, or filter first, for fast pages)."
)


class Explorer(anywidget.AnyWidget):
    """The grid ``taskkit.explore`` returns (see its documentation)."""

    _esm = _STATIC / "explore.js"
    _css = _STATIC / "explore.css"

    columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    headers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    sortable = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows: traitlets.List[list[str | None]] = traitlets.List().tag(sync=True)
    order = traitlets.Unicode("").tag(sync=True)
    filters = traitlets.Dict().tag(sync=True)
    filterable = traitlets.Bool(False).tag(sync=True)
    filter_form: traitlets.List[dict[str, Any]] = traitlets.List().tag(
        sync=True
    )  # how the filter bar asks for each filter
    remark = traitlets.Unicode("").tag(sync=True)  # what the grid did to the statement, why
    # The column whose value is a task's id (rows can be selected to show the task's history).
    row_key = traitlets.Unicode("").tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)  # the selected task: fields, labels, history
    position = traitlets.Unicode("").tag(sync=True)
    span = traitlets.Unicode("").tag(sync=True)  # which rows are shown (11 to 20), where known
    total = traitlets.Int(-1).tag(sync=True)  # -1 while counting, -2 if counting failed
    has_prev = traitlets.Bool(False).tag(sync=True)
    has_next = traitlets.Bool(False).tag(sync=True)
    size = traitlets.Int(50).tag(sync=True)
    sql = traitlets.Unicode("").tag(sync=True)
    sql_note = traitlets.Unicode("").tag(sync=True)  # why the SQL reads as it does
    plan = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    # How many requests the kernel has answered: the browser shows "loading" from a click
    # until the next answer arrives, so an answer is one message (rows, position, SQL, ...).
    answered = traitlets.Int(0).tag(sync=True)
    code_text = traitlets.Unicode("").tag(sync=True)
    # The SQL panel is formatted only while it is open: formatting costs more than a page.
    sql_open = traitlets.Bool(False).tag(sync=True)
    # Names the static copy of the first page shown just before the grid (_ipython_display_):
    # the grid hides it where it renders. Numbered per kernel, so that outputs reproduce.
    copy_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, engine: AsyncEngine, view: View, size: int) -> None:
        super().__init__(
            size=size,
            filterable=view.filterable,
            filter_form=FILTER_FORM,
            remark=view.remark,
            row_key="id" if view.is_tasks or view.columns() == View().columns() else "",
            copy_id=f"taskkit-explore-{next(_COPIES)}",
        )
        self._engine = engine
        self._view = view
        # Views met before, by their key: going back to one reuses its statement, whose
        # paging plan, fingerprint and compiled SQL are cached as long as it lives.
        self._views: OrderedDict[str, View] = OrderedDict({view.key(): view})
        self._whole: set[str] = set()  # views whose plan reads or sorts the whole table
        self._walks: dict[str, bool] = {}  # views paged by walking the sort's index, or not
        self._page: Page[Any] | None = None
        self._reversed = False  # the page was read in the reversed order (last, prev)
        self._project_names: dict[int, str | None] = {}  # the task view shows names, not ids
        self._from_end = False  # the page's place is counted from the last page
        self._place = 1  # 1 = first (or last) page, 2 = the one after (before) it, ...
        self._background: asyncio.Task[None] | None = None
        # Counts and plans already sent to the database: a view change does not cancel them
        # (a statement running in a driver's thread goes on regardless, and a connection torn
        # from it reports to the event loop later, perhaps closed by then); their results for
        # a view left behind are dropped.
        self._in_flight: set[asyncio.Task[None]] = set()
        self._request: asyncio.Task[None] | None = None  # the last request from the browser
        # In-memory SQLite has one connection for everything: requests take turns.
        self._one_connection = is_memory_sqlite(engine.url)
        self._lock = asyncio.Lock()
        self._describe_view()
        self.on_msg(self._on_msg)

    # -- what users call ---------------------------------------------------------------------

    @property
    def statement(self) -> Select[Any]:
        """The select behind the rows shown (filters and sort included), to keep working on."""
        return self._view.statement()

    @property
    def code(self) -> str:
        """Python that builds :attr:`statement` (``stmt`` stands for a statement you passed)."""
        return self._view.code()

    async def to_dataframe(self, **kwargs: Any) -> Any:
        """Every row of the current view as a DataFrame (``taskkit.to_dataframe``)."""
        from taskkit._frames import to_dataframe  # pandas is heavy; load it when asked

        if self._one_connection:
            async with self._lock:
                return await to_dataframe(self._engine, self.statement, **kwargs)
        return await to_dataframe(self._engine, self.statement, **kwargs)

    async def handle(self, content: dict[str, Any]) -> None:
        """Answer one request from the grid (what a click sends); errors go to ``error``.

        ``{"action": "first" | "next" | "prev" | "last"}``, ``{"action": "page", "number":
        n}`` (jump to page n), ``{"action": "sort", "column": name}``, ``{"action": "filter",
        "filters": {...select_tasks arguments...}}``, ``{"action": "size", "size": n}``,
        ``{"action": "plan"}`` or ``{"action": "select", "id": task_id}`` (the task's history;
        ``None`` closes it).
        """
        async with self._lock:
            with self.hold_sync():  # one message to the browser for the whole answer
                try:
                    await self._answer(content)
                    self.error = ""
                except TaskkitError as exc:
                    self.error = str(exc)
                except Exception as exc:  # shown in the grid: a kernel log is easy to miss
                    log.exception("explore request %r failed", content)
                    self.error = f"{type(exc).__name__}: {exc}"
                finally:
                    self.answered += 1

    async def settled(self) -> None:
        """Wait until the background work (row count, plan verdict) is done, including the
        statements of views left behind that were already running."""
        pending = [*self._in_flight, *([self._background] if self._background else [])]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # -- requests ----------------------------------------------------------------------------

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # Called by the kernel's message loop, which cannot await: the request becomes a task
        # (requests take turns on the lock, so pages arrive in the order clicked).
        if isinstance(content, dict):
            self._request = asyncio.get_running_loop().create_task(self.handle(content))

    async def _answer(self, content: dict[str, Any]) -> None:
        action = content.get("action")
        if action in _MOVES:
            await self._move(str(action))
        elif action == "page":
            await self._jump(content.get("number"))
        elif action == "select":
            await self._select(content.get("id"))
        elif action == "sort":
            self._change(self._view.sorted_by(str(content.get("column"))))
            await self._move("first")
        elif action == "filter":
            filters = content.get("filters")
            if not isinstance(filters, dict):
                raise InvalidArgumentError(f"filters must be a dict; got {filters!r}")
            self._change(self._view.filtered(filters))
            await self._move("first")
        elif action == "size":
            self.size = _check_size(content.get("size"))
            await self._move("first")
        elif action == "plan":
            query = self._page._query[0] if self._page and self._page._query else self.statement
            self.plan = repr(await explain(self._engine, query))
        else:
            allowed = ", ".join(_ACTIONS)
            raise InvalidArgumentError(f"action must be one of {allowed}; got {action!r}")

    def _change(self, view: View) -> None:
        key = view.key()
        known = self._views.pop(key, None)
        self._views[key] = view = known or view
        while len(self._views) > _VIEWS_KEPT:
            self._views.popitem(last=False)
        self._view = view
        self._describe_view()

    async def _move(self, where: str) -> None:
        page = self._page
        if where == "next" and (page is None or page.next_cursor is None):
            where = "last" if page is not None and not page.has_next else "first"
        if where == "prev" and (page is None or page.prev_cursor is None):
            where = "first"
        cursor = None
        if page is not None and where in ("next", "prev"):
            cursor = page.next_cursor if where == "next" else page.prev_cursor
        page = await self._walk(where, cursor)
        if page is None:
            if cursor is not None and self._page is not None and self._page._query:
                # The page before was walked: its cursor was made for the walk's statement.
                cursor = carry_cursor(
                    cursor, self._page._stmt, self._view.page_statement(), self._page._query[1]
                )
            async with page_session(self._engine, inline=self._reads_inline()) as s:
                page = await self._read(s, self._view.page_statement(), where, cursor)
        if where == "first":
            self._from_end, self._place = False, 1
        elif where == "last":
            self._from_end, self._place = True, 1
        else:
            forward = (where == "next") != self._from_end
            self._place += 1 if forward else -1
            if not page.has_prev:  # walked back to the start
                self._from_end, self._place = False, 1
        self._reversed = where in ("last", "prev")
        await self._show(page)

    async def _show(self, page: Page[Any]) -> None:
        self._page = page
        columns = self.columns
        rows = page_cells(page.items, columns)
        if self.row_key and "project_id" in columns:
            await self._name_projects(rows, columns.index("project_id"))
        self.rows = rows
        self.has_prev, self.has_next = page.has_prev, page.has_next
        self._show_sql()
        self._describe_position()
        if self.total < 0 and self._background is None:
            self._start_background()

    async def _jump(self, number: Any) -> None:
        """Page ``number`` (from 1): its first row found by skipping through the sort key from
        the nearer end (an OFFSET over the key columns alone), then read as a keyset page."""
        if self.total < 0:
            async with session(self._engine) as s:
                self.total = await count(s, self._view.statement())
        pages = max(1, math.ceil(self.total / self.size))
        number = positive_int("page", number, high=pages)
        if number == 1 or number == pages:
            await self._move("first" if number == 1 else "last")
            return
        async with page_session(self._engine, inline=self._reads_inline()) as s:
            page = await page_at(
                s, self._view.page_statement(), start=(number - 1) * self.size,
                size=self.size, total=self.total,
            )  # fmt: skip
        self._from_end, self._place, self._reversed = False, number, False
        await self._show(page)

    async def _name_projects(self, rows: list[list[str | None]], at: int) -> None:
        """Project ids in ``rows`` become project names (kept for the grid's life: a project
        renamed meanwhile shows its old name until the grid is made again)."""
        wanted = {int(v) for row in rows if (v := row[at]) is not None}
        missing = wanted - self._project_names.keys()
        if missing:
            table = Project.__table__  # type: ignore[attr-defined]
            stmt = select(table.c.id, table.c.name).where(table.c.id.in_(sorted(missing)))
            async with page_session(self._engine) as s, reading(s):
                found: dict[int, str] = dict(
                    await s.run_sync(lambda sync: [tuple(r) for r in sync.execute(stmt)])
                )
            for project_id in missing:
                self._project_names[project_id] = found.get(project_id)
        for row in rows:
            value = row[at]
            if value is not None:
                row[at] = self._project_names.get(int(value)) or f"#{value}"

    async def _select(self, task_id: Any) -> None:
        """Show the task ``task_id``: its fields, labels, workers and status history."""
        if task_id is None or task_id == "":
            self.detail = {}
            return
        if not self.row_key:
            raise InvalidArgumentError(
                "rows of this view are not tasks: select a row in the task view "
                "(taskkit.explore(engine) or select(Task))"
            )
        task_id = positive_int("id", int(task_id) if str(task_id).isdigit() else task_id)
        async with session(self._engine) as s:
            task = await get_task(
                s, task_id, with_project=True, with_workers=True, with_labels=True,
                with_history=True,
            )  # fmt: skip
        self.detail = {
            "id": task.id,
            "title": task.title,
            "status": cell(task.status),
            "resolution": cell(task.resolution),
            "project": task.project.name if task.project else None,
            "labels": sorted(label.name for label in task.labels),
            "workers": sorted(worker.id for worker in task.workers),
            "history": [
                [cell(c.from_status), cell(c.to_status), cell(c.changed_at), cell(c.source)]
                for c in task.history
            ],
        }

    async def _read(self, s: Any, stmt: Select[Any], where: str, cursor: str | None) -> Page[Any]:
        if where == "last":
            return await last_page(s, stmt, size=self.size)
        return await paginate(s, stmt, size=self.size, cursor=cursor)

    async def _walk(self, where: str, cursor: str | None) -> Page[Any] | None:
        """The page read by walking the sort column's index (``View.walk_statement``), or None
        where the database's own plan reads it: the plan does not sort, the walk is not
        possible, or it found no page within its budget (then the view never walks again).

        A filter that matches many rows, under a sort of another indexed column, is what
        SQLite's planner gets wrong without statistics: it sorts every matching row for each
        page (60 to 340 ms on 1M tasks) where walking the sort's index finds a page in about
        a millisecond. A filter that matches few rows is the reverse, and SQLite's plan is
        right; the budget (``_WALK_STEPS``) finds out which, and keeps a wrong guess to a few
        milliseconds.
        """
        view = self._view
        walk = view.walk_statement()
        key = view.key()
        if walk is None or self._walks.get(key) is False:
            return None
        async with page_session(self._engine) as s:
            if not isinstance(s, InlineSession):
                return None  # only inline reads can be stopped (and only SQLite needs this)
            if key not in self._walks:
                plan = await explain(s, view.page_statement().limit(self.size + 1))
                self._walks[key] = plan.temp_sort
                if not plan.temp_sort:
                    return None
            if cursor is not None and self._page is not None and self._page._stmt is not walk:
                return None  # a page of the plain statement: keep to its cursors
            try:
                async with step_limit(s, _WALK_STEPS):
                    return await self._read(s, walk, where, cursor)
            except OperationalError as exc:
                if not interrupted(exc):
                    raise
        self._walks[key] = False
        self._whole.add(key)  # the database's plan sorts every matching row
        if self.notice != "\u2026":  # else the plan's verdict is still to come, and says so
            self.notice = _SORTS
        return None

    def _reads_inline(self) -> bool:
        """Whether pages may be read in the kernel's thread (see ``explore.source``): not for
        a text search, nor for a view whose plan reads or sorts the whole table."""
        return "search" not in self._view.filters and self._view.key() not in self._whole

    @traitlets.observe("sql_open")
    def _sql_opened(self, _change: Any) -> None:
        self._show_sql()

    def _show_sql(self) -> None:
        page = self._page
        if self.sql_open and page is not None and page._query is not None:
            self.sql = show_sql(page._query[0], self._engine)
        else:
            self.sql = ""
        self.sql_note = _REVERSED.format(n=self.size + 1) if self._reversed else ""

    def _describe_view(self) -> None:
        """Columns, order, filters and code of the view; a new count and plan verdict."""
        view = self._view
        stmt = view.statement()
        self.columns = view.columns()
        self.headers = [
            "project" if c == "project_id" and self.row_key else header(c, stmt)
            for c in self.columns
        ]
        self.sortable = view.sortable()
        self.order = view.order or ("-created_at" if view.is_tasks else "")
        self.filters = dict(view.filters)
        self.code_text = view.code()
        self.plan = ""
        self.detail = {}
        self.total = -1
        self.notice = "…"
        if self._background is not None:
            self._background.cancel()
            self._background = None

    def _start_background(self) -> None:
        self._background = asyncio.get_running_loop().create_task(self._count_and_judge(self._view))

    async def _count_and_judge(self, view: View) -> None:
        """Count the rows and say whether an index serves the order (after the page shows).

        Cancelled while it waits, nothing was asked; cancelled later, the statement in flight
        finishes (shielded, its result dropped) and :meth:`settled` waits for it."""
        # Let the answer leave first: the kernel sends it from another thread, which the
        # count's Python work would otherwise compete with for the interpreter.
        await asyncio.sleep(_COUNT_AFTER_S)
        work = asyncio.get_running_loop().create_task(self._counted(view))
        self._in_flight.add(work)
        work.add_done_callback(self._in_flight.discard)
        await asyncio.shield(work)

    async def _counted(self, view: View) -> None:
        try:
            if self._one_connection:
                async with self._lock:
                    await self._judge_and_count(view)
            else:
                await self._judge_and_count(view)
        except Exception as exc:  # paging goes on without a count
            log.warning("explore: counting %s failed: %s", self.code, exc)
            if view is self._view:
                self.total = -2  # the bar stops saying "counting"; the notice says why
                self.notice = f"The rows could not be counted ({type(exc).__name__}: {exc})."

    async def _judge_and_count(self, view: View) -> None:
        # Results for a view the user has since left are dropped.
        stmt = view.statement()
        # The plan of the statement the pages run: the walk's, where the grid walks.
        walk = view.walk_statement() if self._walks.get(view.key()) else None
        plan = await explain(
            self._engine, (walk if walk is not None else stmt).limit(self.size + 1)
        )
        if plan.reads_every_row or plan.temp_sort:
            self._whole.add(view.key())
        if view is not self._view:
            return
        grouped = view.rows is not None and bool(view.rows.unique)
        self.notice = (_GROUPS if grouped else _SORTS) if plan.temp_sort else ""
        async with session(self._engine) as s:
            total = await count(s, stmt)
        if view is self._view:
            self.total = total
            self._describe_position()

    def _describe_position(self) -> None:
        pages = math.ceil(self.total / self.size) if self.total >= 0 else None
        if self._from_end:
            if pages is not None:
                self.position = f"page {max(1, pages - self._place + 1):,} of {max(pages, 1):,}"
            else:
                self.position = "last page" if self._place == 1 else f"{self._place} before last"
        else:
            of = f" of {max(pages, 1):,}" if pages is not None else ""
            self.position = f"page {self._place:,}{of}"
        # Which rows these are (as itables says "Showing 11 to 20"), where it is known.
        shown = len(self.rows)
        if not shown:
            self.span = ""
        elif not self._from_end:
            first = (self._place - 1) * self.size + 1
            self.span = f"{first:,}\u2013{first + shown - 1:,}"
        elif self.total >= 0:
            last = self.total - (self._place - 1) * self.size
            self.span = f"{last - shown + 1:,}\u2013{last:,}"
        else:
            self.span = ""

    # -- display -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        # Only what the user chose: the position changes when the background count lands.
        return f"<taskkit explore: {self.code}, {len(self.rows)} rows shown>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        # Shown where no kernel renders the widget (a notebook on the web, nbconvert HTML of a
        # notebook saved without widget state).
        caption = f"{self.code} \u00b7 first {len(self.rows)} rows"
        data["text/html"] = static_html(self.headers, self.rows, caption, copy_id=self.copy_id)
        data["text/plain"] = repr(self)
        return data, metadata

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display the grid as two outputs: the page as a static table, then the widget.

        One output holding both would not do: nbconvert picks the widget's view over the
        table whenever the notebook holds the widget's state, which ``nbconvert --execute``
        always records (and JupyterLab can save), and that view is blank without a kernel.
        As an output of its own, the table is what nbconvert's HTML, GitHub and nbviewer show;
        where the grid runs, it hides the table once it is drawn.
        """
        from IPython import get_ipython
        from IPython.display import display

        bundle = self._repr_mimebundle_(**kwargs)
        if bundle is None:
            return
        data, metadata = bundle
        if getattr(get_ipython(), "kernel", None) is None:  # a terminal: no widget, no HTML
            display({"text/plain": data["text/plain"]}, raw=True)
            return
        plain = f"a static copy of {data['text/plain']}"
        display({"text/html": data.pop("text/html"), "text/plain": plain}, raw=True)
        display(data, metadata=metadata, raw=True)


def _check_size(size: Any) -> int:
    return positive_int("size", size, high=MAX_PAGE_SIZE)


async def open_grid(source: Any, stmt: Select[Any] | None, *, size: int) -> Explorer:
    """The grid of ``taskkit.explore``, with its first page fetched."""
    size = _check_size(size)
    if isinstance(source, AsyncSession):
        engine = source.bind
        if not isinstance(engine, AsyncEngine):
            raise InvalidArgumentError("source must be an engine, or a session bound to one")
    elif isinstance(source, AsyncEngine):
        engine = source
    else:
        raise InvalidArgumentError(
            f"source must be an engine (taskkit.connect()) or a session; got "
            f"{type(source).__name__}"
        )
    view = View.of(None if stmt is None else check_select(stmt))
    grid = Explorer(engine, view, size)
    await grid.handle({"action": "first"})
    if grid.error:
        raise InvalidArgumentError(grid.error)
    return grid


__all__ = ["FILTERS", "Explorer", "open_grid"]
