"""Walk through large results a page at a time: keyset (seek) pagination, and OFFSET for teaching.

Keyset pagination remembers where a page ended (the sort-key values of its last row) and asks
for the rows after that point, so a page deep in the result costs about what the first page
costs, and rows inserted or deleted meanwhile do not shift pages. Every row comes exactly once,
including where the usual recipes lose rows:

* NULLs in sort keys. SQLite sorts NULLs first ascending (last descending), PostgreSQL the
  reverse, and ``k > NULL`` is never true. Pages follow the statement: where it says
  ``nulls_first()`` / ``nulls_last()`` that placement, where it leaves it open the database's
  own, so that the pages together are what ``session.exec(stmt)`` returns on that database.
  The seek condition has ``IS NULL`` terms where a key can be NULL.
* Ties. The primary key of every table in FROM is appended to the ORDER BY (unless already
  there), so the order is total. OFFSET over a non-unique order loses rows on PostgreSQL.
* Mixed directions and several keys: the seek condition is the lexicographic expansion
  ``k1 after v1 OR (k1 = v1 AND (k2 after v2 OR ...))``, each key in its own direction.

A cursor is an opaque URL-safe string: the key values (typed: ints, text, datetimes, NULL, ...)
plus a fingerprint of the statement (its SQL and bound values: ordering and filters), with a
checksum. A cursor used with another statement, or edited, truncated or made up, gives an
``InvalidCursorError``. Cursors are JSON, never pickle; they are checksummed, not signed with
a secret: a forged cursor can only seek within the rows the statement itself selects.

Limits: the statement must be a ``select()`` without LIMIT/OFFSET, GROUP BY or DISTINCT (wrap
such a statement in a subquery and page over ``select(subquery)``), and its sort keys must be
computable from its FROM (columns of its tables, or expressions over them). Where FROM holds a
subquery (or the ORM's own alias of a many-to-many link table), the primary keys appended may
not make the order unique: every page then checks, and one that meets two rows with the same
sort key raises ``InvalidArgumentError`` rather than skip rows. Load relationships with
``selectinload``, as ``select_tasks`` does (``joinedload`` of a collection needs
``Result.unique()``, which pagination does not apply).
"""

from taskkit._errors import InvalidCursorError
from taskkit._paging.fetch import MAX_PAGE_SIZE, pages, paginate, paginate_offset
from taskkit._paging.page import Page

__all__ = [
    "MAX_PAGE_SIZE",
    "InvalidCursorError",
    "Page",
    "pages",
    "paginate",
    "paginate_offset",
]
