"""`taskkit --help` starts fast because the CLI imports what each command uses, when it runs.

Not a timed test (benchmarks/report.py prints the times): it checks what gets imported.
"""

import subprocess
import sys

HEAVY = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "alembic", "pydantic", "matplotlib")

CODE = f"""
import sys
from click.testing import CliRunner
from taskkit._cli import cli
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
