"""The course's helpers: what the lessons need that is not what they teach.

* :mod:`taskkit_course.scaffold`: a scratch directory per lesson, printing an expected error,
  throwaway model bases, running pytest, alembic or taskkit's CLI as a terminal would.
* :mod:`taskkit_course.checks`: the exercise checks. Each builds and removes its own state
  (a scratch database or Alembic app), so it can run in any order, any number of times, and
  from the ``solutions`` notebook or the tests with an answer passed in.

An editable install of the checkout (``uv sync``) puts ``notebooks/`` on ``sys.path``, so the
lessons import this package from any working directory. It is not part of the wheel.
"""

from taskkit_course.scaffold import (
    alembic_tools,
    leftovers_collected,
    mypy,
    required_fields,
    run_pytest,
    scratch_base,
    show,
    source_lines,
    taskkit_cli,
    workdir,
)

__all__ = [
    "alembic_tools",
    "leftovers_collected",
    "mypy",
    "required_fields",
    "run_pytest",
    "scratch_base",
    "show",
    "source_lines",
    "taskkit_cli",
    "workdir",
]
