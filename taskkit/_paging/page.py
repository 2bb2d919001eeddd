"""Page: one page of a result, with its text and Jupyter (HTML) reprs."""

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Row
from sqlalchemy.sql import Select

from taskkit._errors import MissingExtraError

T = TypeVar("T")

_HTML_ROWS = 60  # pandas shows up to 60 rows before it elides; so does a Page
_HTML_TEXT = 80


@dataclass(frozen=True, repr=False)
class Page(Generic[T]):
    """One page of a result, and how to reach its neighbours.

    Attributes:
        items: the rows, as ``session.exec(stmt)`` returns them (``Task`` objects for
            ``select(Task)``, rows for a select of several columns).
        size: the page size asked for (``len(items)`` may be smaller on the last page).
        has_next / has_prev: whether rows follow / precede this page.
        next_cursor / prev_cursor: pass to ``paginate(..., cursor=...)`` for the next or the
            previous page (``None`` when there is none, and always for OFFSET pages).
        number: the page number, 1 for the first page; for keyset pages it is counted along
            the walk from the first page.
        total / pages: the row and page counts (OFFSET pages only; keyset pages do not count).
    """

    items: list[T]
    size: int
    has_next: bool
    has_prev: bool
    next_cursor: str | None = None
    prev_cursor: str | None = None
    number: int = 1
    total: int | None = None
    pages: int | None = None
    _first_row: int | None = field(default=None, compare=False)
    _stmt: Any = field(default=None, compare=False)  # for DataFrame columns and dtypes
    _rows: list[Any] | None = field(default=None, compare=False)  # items as rows
    _query: tuple[Any, Any] | None = field(default=None, compare=False)  # (SQL run, dialect)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def _where(self) -> tuple[str, str]:
        """("Page 2 of 6", "rows 21-40 of 110"): which page, and what it holds."""
        if self.total is None or self.pages is None:
            return f"Page {self.number}", f"{len(self.items):,} rows"
        if self.items and self._first_row is not None:
            last = self._first_row + len(self.items) - 1
            held = f"rows {self._first_row:,}-{last:,} of {self.total:,}"
        else:
            held = f"no rows here, {self.total:,} in all"
        return f"Page {self.number} of {self.pages}", held

    def __repr__(self) -> str:
        title, held = self._where()
        moves = [m for m, ok in (("has_prev", self.has_prev), ("has_next", self.has_next)) if ok]
        return f"<{title}: {held} (size {self.size:,}){'; ' + ', '.join(moves) if moves else ''}>"

    def _repr_html_(self) -> str:
        columns, rows = _table(self.items)
        long = len(rows) > _HTML_ROWS
        shown: list[list[str] | None] = [*rows[:10], None, *rows[-10:]] if long else list(rows)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
            if row is not None
            else f"<tr><td colspan='{len(columns)}'>&hellip;</td></tr>"
            for row in shown
        )
        before = "&larr; earlier rows" if self.has_prev else "first page"
        after = "later rows &rarr;" if self.has_next else "last page"
        hint = ""
        if self.next_cursor is not None:
            hint = (
                "<br><small>next: <code>await taskkit.paginate(session, stmt, "
                "cursor=page.next_cursor)</code></small>"
            )
        title, held = self._where()
        return (
            f"<div><b>{title}</b>: {held} (size {self.size:,}) &middot; {before} &middot; {after}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{hint}"
            f"{self._sql_html()}</div>"
        )

    def _sql_html(self) -> str:
        """The SQL that fetched this page, collapsed: a click shows it (``taskkit.show_sql``)."""
        if self._query is None:
            return ""
        from taskkit._sql.view import show_sql  # sqlparse is needed only when a page is shown

        query, dialect = self._query
        summary = (
            f"<summary><small>SQL of this page ({html.escape(dialect.name)})</small></summary>"
        )
        try:
            sql = html.escape(show_sql(query, dialect))
        except MissingExtraError as missing:  # paging is the core; the SQL's layout is not
            return f"<details>{summary}<small>{html.escape(str(missing))}</small></details>"
        return f"<details>{summary}<pre>{sql}</pre></details>"

    def to_dataframe(self) -> Any:
        """The items as a pandas DataFrame (``taskkit._frames.models_to_frame``).

        Columns and dtypes come from the statement's models, so an empty page has them too.
        """
        from taskkit._frames import models_to_frame  # pandas is heavy; load it when asked

        model = _selected_model(self._stmt)
        if model is not None:
            return models_to_frame(self.items, model)
        if self._stmt is not None and self._rows is not None:
            return models_to_frame(self._rows, self._stmt)
        return models_to_frame(self.items)


def _selected_model(stmt: Any) -> type[BaseModel] | None:
    """The model class when ``stmt`` selects exactly one model, as ``select(Task)`` does."""
    if not isinstance(stmt, Select):
        return None
    described = stmt.column_descriptions
    if len(described) != 1:
        return None
    entity = described[0].get("expr")
    return entity if isinstance(entity, type) and issubclass(entity, BaseModel) else None


def _cell(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    text = "" if value is None else str(value)
    if len(text) > _HTML_TEXT:
        text = text[: _HTML_TEXT - 1] + "\u2026"
    return "<i>NULL</i>" if value is None else html.escape(text)


def _table(items: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """Column names and escaped cells for items that are models, rows or plain values."""
    if not items:
        return ["(no rows)"], []
    first = items[0]
    if isinstance(first, BaseModel):
        columns = list(type(first).model_fields)
        return columns, [[_cell(getattr(i, c, None)) for c in columns] for i in items]
    if isinstance(first, Row):
        columns = list(first._fields)
        return columns, [[_cell(v) for v in i] for i in items]
    return ["value"], [[_cell(i)] for i in items]
