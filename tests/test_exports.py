"""The public API is exactly what is documented (in the style of httpx's exported-members test).

Three lists must agree: docs/api.md's table, ``taskkit.__all__`` and the public names the
package really exposes (``vars(taskkit)``) once every private module has been imported.
"""

import importlib
import pkgutil
import re
from pathlib import Path

import taskkit

API_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def documented_names() -> set[str]:
    """The names in the table at the top of docs/api.md."""
    text = API_PAGE.read_text()
    section = text.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    return {name for row in rows for name in re.findall(r"`([A-Za-z_]\w*)`", row.split("|")[2])}


def import_every_module() -> None:
    for module in pkgutil.walk_packages(taskkit.__path__, "taskkit."):
        if "._alembic." in module.name or module.name == "taskkit.__main__":
            continue  # Alembic's revisions and env.py run inside Alembic, not on import
        importlib.import_module(module.name)


def test_all_is_exactly_the_documented_api():
    assert set(taskkit.__all__) == documented_names()


def test_vars_of_the_package_is_exactly_all():
    for name in taskkit.__all__:
        getattr(taskkit, name)  # loads every lazily imported name
    import_every_module()  # importing a private module must not add a public name
    exposed = sorted(
        (name for name in vars(taskkit) if not name.startswith("_") or name == "__version__"),
        key=str.casefold,
    )
    assert exposed == sorted(taskkit.__all__, key=str.casefold)


def test_no_module_of_the_package_is_public():
    public = [
        module.name
        for module in pkgutil.iter_modules(taskkit.__path__)
        if not module.name.startswith("_")
    ]
    assert public == []


def test_all_is_sorted_and_every_name_exists():
    assert taskkit.__all__ == sorted(taskkit.__all__)
    for name in taskkit.__all__:
        assert getattr(taskkit, name) is not None, name


def test_every_public_callable_has_a_docstring():
    missing = [
        n
        for n in taskkit.__all__
        if callable(getattr(taskkit, n)) and not getattr(taskkit, n).__doc__
    ]
    assert missing == []
