"""The revisions taskkit ships: where their scripts live, what they are, how Alembic runs them.

The scripts live inside the package (``taskkit/_alembic/versions``) and are found relative
to this file, so an installed taskkit migrates without a checkout or a config file in the
current directory.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection

from taskkit._errors import MigrationError
from taskkit._migrate.known import SCRIPT_LOCATION, VERSION_TABLE

__all__ = [
    "SCRIPT_LOCATION",
    "VERSION_TABLE",
    "RevisionInfo",
    "alembic_config",
    "check_revision_argument",
    "known_revisions",
    "run_alembic",
    "schema_history",
    "script_directory",
]

_RELATIVE_REVISION = re.compile(r".*[+-]\d+")


@dataclass(frozen=True)
class RevisionInfo:
    """One revision of taskkit's schema, as :func:`schema_history` lists it.

    ``id`` is what ``alembic_version`` records and what the migration functions accept;
    ``down_revision`` the one before it (``None`` for the first); ``message`` its one-line
    description; ``is_head`` whether it is the latest.
    """

    id: str
    down_revision: str | None
    message: str
    is_head: bool


def schema_history() -> list[RevisionInfo]:
    """Every revision this taskkit ships, oldest first; the last one is the head.

    Reads the revision scripts inside the package: no database is involved, nothing raises
    on a normal install.

    Example::

        for r in taskkit.schema_history():
            print(r.id, r.message, "(head)" if r.is_head else "")
        head = taskkit.schema_history()[-1].id
    """
    scripts = list(script_directory().walk_revisions("base", "heads"))
    return [
        RevisionInfo(
            id=s.revision,
            down_revision=s.down_revision if isinstance(s.down_revision, str) else None,
            message=(s.doc or "").strip(),
            is_head=s.is_head,
        )
        for s in reversed(scripts)
    ]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def run_alembic(conn: Connection, run: Callable[[Config], None]) -> None:
    """Run an Alembic command on ``conn`` (env.py uses it instead of connecting)."""
    config = alembic_config()
    config.attributes["connection"] = conn
    run(config)


def known_revisions() -> str:
    revisions = ", ".join(
        f"{r.id} {r.message!r}{' (head)' if r.is_head else ''}" for r in schema_history()
    )
    return f"known revisions: base, {revisions}"


def check_revision_argument(revision: Any) -> None:
    if not isinstance(revision, str) or not revision.strip():
        raise MigrationError(
            f"revision must be a non-empty string, got {revision!r}; {known_revisions()}"
        )
    if _RELATIVE_REVISION.fullmatch(revision):
        return  # relative to the database's revision: Alembic resolves it there
    try:
        script_directory().get_revisions(revision)
    except (CommandError, RevisionError) as exc:
        # Alembic's message adds something only when a prefix matches several revisions.
        reason = "does not exist" if "Can't locate" in str(exc) else str(exc)
        raise MigrationError(f"revision {revision!r} {reason}; {known_revisions()}") from None
