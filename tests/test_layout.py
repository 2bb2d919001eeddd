"""The module map holds: layers and boundaries (import-linter), and no private names crossing
modules (each module's underscore names are its own)."""

import ast
import shutil
import subprocess
from pathlib import Path

import taskkit

PACKAGE = Path(taskkit.__file__).parent


def test_import_contracts_hold():
    """`lint-imports` checks pyproject's [tool.importlinter] contracts (the module map in
    docs/development.md)."""
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is a dev dependency"
    done = subprocess.run([lint], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def underscore_imports(source: str) -> list[str]:
    """`from taskkit.x import _name` lines in ``source``: a private name used outside its module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("taskkit"):
            found += [
                f"from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    return found


def test_no_module_imports_another_modules_private_names():
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if (found := underscore_imports(path.read_text()))
    }
    assert offenders == {}


def test_the_private_name_check_sees_one():
    assert underscore_imports("from taskkit._frames.typed_columns import _Column, finish") == [
        "from taskkit._frames.typed_columns import _Column"
    ]


def test_each_dataframe_reader_is_one_module_behind_the_one_interface() -> None:
    """to_dataframe reads through four readers; each lives in a module of its own and is a
    taskkit._frames.reader.Reader, the interface run_select talks to (mypy checks that each
    implements it; this checks that none sits outside it)."""
    import importlib
    import inspect

    from taskkit._frames.reader import Reader

    frames = Path(__file__).resolve().parents[1] / "taskkit" / "_frames"
    found = {}
    for path in sorted(frames.glob("*_reader.py")):
        module = importlib.import_module(f"taskkit._frames.{path.stem}")
        found[path.stem] = [
            name
            for name, value in vars(module).items()
            if inspect.isclass(value)
            and value.__module__ == module.__name__
            and Reader in inspect.getmro(value)  # declared a Reader
        ]
    assert found == {
        "postgres_adbc_reader": ["PostgresReader"],
        "sqlalchemy_reader": ["SQLAlchemyReader"],
        "sqlite_adbc_reader": ["SQLiteReader"],
        "sqlite_inline_reader": ["SQLite3Reader"],
    }
