"""The revisions taskkit ships, as far as they can be known without Alembic.

Their ids in order come from each script's ``revision`` and ``down_revision`` lines (Alembic's
own reading, :func:`~taskkit._migrate.revisions.schema_history`, is tested to agree).
Importing Alembic and loading the scripts costs a third of a second to a second, most of a
small ``taskkit import``; a database at head, or an empty SQLite file, needs none of it
(:mod:`~taskkit._migrate.ensure`). This module imports only the standard library.
"""

import re
from functools import cache
from pathlib import Path

__all__ = ["SCRIPT_LOCATION", "VERSION_TABLE", "head_revision", "revision_ids"]

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "_alembic"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r"""^revision\s*(?::[^=\n]*)?=\s*["'](\w+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision\s*(?::[^=\n]*)?=\s*(?:["'](\w+)["']|None)""", re.MULTILINE)


@cache
def revision_ids() -> tuple[str, ...]:
    """Every revision id, oldest first; empty when the scripts do not form one line (a
    branch, a script these patterns cannot read): then only Alembic can say."""
    down_of: dict[str, str | None] = {}
    for script in sorted((SCRIPT_LOCATION / "versions").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision is None or down is None:
            return ()
        down_of[revision[1]] = down[1]
    order: list[str] = []
    current = None
    while children := [r for r, d in down_of.items() if d == current]:
        if len(children) > 1:
            return ()
        current = children[0]
        order.append(current)
    return tuple(order) if len(order) == len(down_of) else ()


def head_revision() -> str | None:
    """The latest revision's id (None when :func:`revision_ids` cannot tell)."""
    ids = revision_ids()
    return ids[-1] if ids else None
