"""Query results as pandas DataFrames, with dtypes taken from the models, at Arrow speed.

``await to_dataframe(engine, select(Task))`` gives every column the dtype its model declares,
whatever the values: ``Status``/``Priority`` fields become ordered ``Categorical`` columns with
the declared categories, timestamps ``datetime64[us, UTC]``, NOT NULL integers ``int64``,
nullable integers ``Int64``, text pandas' ``str``, booleans ``boolean``, floats ``float64``;
``related=["workers"]`` and ``related=["labels"]`` add ``object`` columns of lists.
An empty result has the same columns and dtypes as a full one. Types are read from the
statement (``selected_columns``), followed through labels, subqueries, unions, casts and
aggregates, so any select works, not only whole models.

Two readers produce the same frame:

* the fast reader, ADBC (C drivers reading straight into Arrow): PostgreSQL in a worker thread
  of this process; SQLite in a helper process (ADBC carries its own copy of SQLite, and two
  copies in one process break SQLite's file locks: see taskkit._sqlite_child.worker); small
  SQLite results (a LIMIT of at most SMALL_ROWS, or a result that ends within PROBE_ROWS or
  that SQLite then counts to at most SMALL_ROWS rows) are read in this process through
  Python's ``sqlite3`` instead (``sqlite_inline_reader``), whose values become pandas arrays
  directly (``sqlite_inline_values``);
* the SQLAlchemy reader (the engine's own async driver), for what the fast reader cannot
  serve: in-memory SQLite (a second driver cannot reach it), a session or connection inside a
  transaction (its uncommitted writes are visible only to its own connection), columns of types
  without an exact Arrow match (JSON, bytes, ...), and any failure of the fast reader.

Both hand raw columns to the same conversion code (``typed_columns.finish``), which is what
keeps their frames identical, and which refuses values a model does not allow instead of
turning them into NaN.

The modules, in the order a read goes through them: ``arguments`` (defaults, limits and
checks), ``column_types`` (what each selected column becomes), ``reader_choice`` (where to
read from, and with which reader), ``statement_sql`` (the SQL a reader runs), the readers,
each behind the one interface of ``reader`` (``sqlalchemy_reader``, ``postgres_adbc_reader``,
``sqlite_adbc_reader``, ``sqlite_inline_reader`` with ``sqlite_inline_values``),
``typed_columns`` (raw values into typed columns, and the frame), ``related_columns`` (the
``related=`` columns) and ``list_columns`` (the list column's form, which survives Parquet and
CSV). The entry points: ``run_select`` (``to_dataframe``) and ``in_memory``
(``models_to_frame``).
"""

from taskkit._frames.arguments import RELATED
from taskkit._frames.in_memory import models_to_frame
from taskkit._frames.run_select import to_dataframe

__all__ = ["RELATED", "models_to_frame", "to_dataframe"]
