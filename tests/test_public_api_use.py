"""The notebooks, the README and the user guide use taskkit through its public API only.

What they show is what a reader copies: an import of a private module (``taskkit._migrate``)
or a call into one (``taskkit._database.engine.redact(...)``) teaches code that may break with
any release.
Reading taskkit's source to show it (``inspect.getsource(taskkit._crud._load)``) is allowed:
that is looking inside, not using. ``03-report`` is exempt: it is the report itself, run by
``taskkit._report`` as part of the package.
"""

import ast
from pathlib import Path

import pytest

from tests import documentation

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.py") if p.name != "03-report.py")


def readme_blocks() -> list[tuple[str, str]]:
    return documentation.python_blocks()


def sources() -> list[tuple[str, str]]:
    found = [(f"notebooks/{p.name}", p.read_text(encoding="utf-8")) for p in NOTEBOOKS]
    return found + readme_blocks()


def dotted(node: ast.expr) -> str | None:
    """``taskkit._database.engine.redact`` for that attribute chain; None if it does not start
    at a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    return ".".join([node.id, *parts]) if isinstance(node, ast.Name) else None


def is_private(name: str) -> bool:
    head, *rest = name.split(".")
    return head == "taskkit" and any(part.startswith("_") for part in rest)


def private_uses(source: str, where: str) -> list[str]:
    """Each import of a private taskkit module and each call of a private taskkit name."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # notebook cells await at top
    tree = compile(source, where, "exec", flags=flags)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call):
            names = [dotted(node.func) or ""]
        else:
            continue
        found += [f"{where}:{node.lineno}: {n}" for n in names if is_private(n)]
    return found


def test_the_scan_finds_private_imports_and_calls():
    source = (
        "import taskkit._migrate as migrate\n"
        "from taskkit._database.engine import redact\n"
        "from taskkit import _crud\n"
        "await taskkit._migrate.current(engine)\n"
        "inspect.getsource(taskkit._crud._load)\n"  # reading the source: allowed
        "await taskkit.schema_revision(engine)\n"
    )
    assert [use.split(": ")[1] for use in private_uses(source, "x")] == [
        "taskkit._migrate",
        "taskkit._database.engine",
        "taskkit._database.engine.redact",
        "taskkit._crud",
        "taskkit._migrate.current",
    ]


@pytest.mark.parametrize(("where", "source"), [pytest.param(w, s, id=w) for w, s in sources()])
def test_notebooks_and_readme_use_only_public_names(where: str, source: str):
    assert private_uses(source, where) == []
