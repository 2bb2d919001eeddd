"""Query results as pandas DataFrames, with dtypes taken from the models, at Arrow speed.

``await to_dataframe(engine, select(Task))`` gives every column the dtype its model declares,
whatever the values: ``Status``/``Priority`` fields become ordered ``Categorical`` columns with
the declared categories, timestamps ``datetime64[us, UTC]``, NOT NULL integers ``int64``,
nullable integers ``Int64``, text pandas' ``str``, booleans ``boolean``, floats ``float64``;
``related=["workers"]`` and ``related=["labels"]`` add ``object`` columns of lists.
An empty result has the same columns and dtypes as a full one. Types are read from the
statement (``selected_columns``), followed through labels, subqueries, unions, casts and
aggregates, so any select works, not only whole models.

Four readers, behind one interface, give the same frame (``reader`` says which serves what:
small SQLite results in this process through ``sqlite3``, larger ones through ADBC in the
SQLite helper process, PostgreSQL through ADBC in a worker thread, and the rest through
SQLAlchemy). They all hand raw columns to the same conversion code (``typed_columns.finish``),
which is what keeps their frames identical, and which refuses values a model does not allow
instead of turning them into NaN.

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
