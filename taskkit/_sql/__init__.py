"""The generic SQL layer: what works for any ``select()``, whatever table it reads.

* ``select``: checking that an argument is a select statement, and counting its rows.
* ``functions``: SQL functions written per dialect (case-folded search, week start, UTC day
  number, epoch seconds).
* ``view``: the teaching view, ``show_sql`` (the SQL a statement becomes on a database) and
  ``explain`` (the plan it runs with).

Nothing here imports the task models or task-specific modules: paging and frames build on
this layer, and the task queries (``taskkit._query``) sit above it. A test holds the rule.
"""
