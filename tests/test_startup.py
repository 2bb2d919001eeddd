"""`taskkit --help` starts fast because the CLI imports what each command uses, when it runs.

Not a timed test (benchmarks/report.py prints the times): it checks what gets imported.
"""

import subprocess
import sys

HEAVY = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "alembic", "pydantic", "matplotlib")

CODE = f"""
import sys
from click.testing import CliRunner
from taskkit import cli
result = CliRunner().invoke(cli, ["--help"])
assert result.exit_code == 0, result.output
result = CliRunner().invoke(cli, ["--version"])
assert result.exit_code == 0 and "taskkit" in result.output, result.output
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_help_and_version_import_no_heavy_library():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_api_loads_on_first_use():
    code = "import sys, taskkit; a = 'pandas' in sys.modules; taskkit.to_dataframe; print(a)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_public_name_shared_with_a_submodule_stays_the_function():
    import taskkit._seed  # the submodule, imported by its full name

    assert callable(taskkit.seed) and taskkit.seed.__module__ == "taskkit._seed"


def test_an_import_into_a_new_sqlite_file_loads_neither_alembic_nor_asyncpg(tmp_path):
    """Alembic (and the scripts it loads) and the PostgreSQL driver were a third of a second to
    a second of a small `taskkit import`; a new SQLite file gets the head schema without them."""
    path = tmp_path / "tasks.csv"
    path.write_text("title,status\nx,pending\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from taskkit import cli\n"
        f"result = CliRunner().invoke(cli, ['import', {str(path)!r}, "
        f"'--db', 'sqlite:///{tmp_path / 'new.db'}', '--no-progress'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('alembic', 'asyncpg', 'mako') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
