"""The rules of a task's values, in pydantic alone: the text limits, the enums and the checked
text types that the models (``taskkit._models``) declare their fields with.

Kept apart from the SQLModel models so that reading and checking an import needs pydantic
only: ``taskkit import`` into a new SQLite file never loads SQLAlchemy or SQLModel (two fifths
of a second of start-up), and checks every value by these same types.
"""

import enum
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

__all__ = [
    "DESCRIPTION_MAX",
    "KEY_MAX",
    "KIND_MAX",
    "LABEL_MAX",
    "NAME_MAX",
    "TITLE_MAX",
    "WORKER_ID_MAX",
    "ChangeSource",
    "Description",
    "Key",
    "Kind",
    "LabelName",
    "Name",
    "Priority",
    "RequiredText",
    "Resolution",
    "Status",
    "Title",
    "storable_text",
    "utcnow",
]

# Text limits that fit every tracker taskkit reads. Titles: Jira, Azure DevOps, Redmine and
# Plane allow 255 characters, GitHub 256; 512 leaves room and keeps the title's index within
# PostgreSQL's B-tree row limit (2,704 bytes) even at four UTF-8 bytes a character.
# Descriptions: GitHub bodies hold 65,536 characters, Jira's 32,767; 1 Mi characters holds
# both with room for trackers that document none.
TITLE_MAX = 512
DESCRIPTION_MAX = 1_048_576
NAME_MAX = 100
WORKER_ID_MAX = 64
KEY_MAX = 200  # a tracker's own key: HIVE-28515, owner/repo#1404, an Asana id
LABEL_MAX = 255  # Jira's label limit; GitHub's is 50, Trello's and Linear's below 255
KIND_MAX = 100  # the tracker's type of work item: Bug, Story, Epic, "User Story", ...


class Status(enum.StrEnum):
    """Where a task stands. Declaration order is the natural order (used for categories)."""

    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"


class Priority(enum.StrEnum):
    """How urgent a task is, from least to most."""

    low = "low"
    medium = "medium"
    high = "high"


class Resolution(enum.StrEnum):
    """How a completed task ended: ``done`` is finished work, the others are dropped work.

    ``status`` says where a task stands in the flow (Jira's status category); the resolution
    says what its completion means, so that throughput and cycle time count only work that was
    done. Open tasks have none. The trackers' spellings map as: Jira Done/Fixed/Resolved and
    GitHub ``completed`` -> ``done``; Jira Won't Do/Won't Fix/Cannot Reproduce and GitHub
    ``not_planned`` -> ``wont_do``; Duplicate (Jira, Linear) -> ``duplicate``; Canceled or
    Cancelled/Aborted (Jira, Linear, Plane) -> ``cancelled``. Imports also read Jira's Spanish
    and Portuguese resolutions (Listo, Itens concluídos, Não será feito, Duplicado) and the done
    or cancelled list names of real Trello boards (TERMINADO, Concluido, クローズ, 中止); the
    whole list is ``taskkit._importers.resolutions``, and anything else is refused with the
    option that maps it (``--resolution VALUE=done``).
    """

    done = "done"
    wont_do = "wont_do"
    duplicate = "duplicate"
    cancelled = "cancelled"


class ChangeSource(enum.StrEnum):
    """Where a status change was learned from."""

    #: taskkit's own helpers (``create_task``, ``update_task``): the moment is when they ran.
    api = "api"
    #: an import saw a different status than the one stored: the moment is what the export
    #: says (its ``updated_at``, else its completion), not when the move really happened.
    export = "export"
    #: the tracker's own record of the move (Trello actions, Jira's or Linear's dates).
    tracker = "tracker"
    #: synthetic data from ``taskkit.seed``.
    seed = "seed"


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def storable_text(value: str) -> str:
    """``value`` if both SQLite and PostgreSQL can store it; ``ValueError`` otherwise."""
    # SQLite accepts NUL bytes and PostgreSQL rejects them; lone surrogates fail on both, but
    # only at commit time. Rejecting both here keeps the two backends accepting the same data.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\x00)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it contains a lone surrogate)") from None
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(storable_text)
]
RequiredText = Annotated[str, AfterValidator(storable_text), AfterValidator(not_blank)]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX),
    AfterValidator(storable_text),
    AfterValidator(not_blank),
]

LabelName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LABEL_MAX),
    AfterValidator(storable_text),
    AfterValidator(not_blank),
]
Kind = Annotated[
    str,
    StringConstraints(min_length=1, max_length=KIND_MAX),
    AfterValidator(storable_text),
    AfterValidator(not_blank),
]

Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=KEY_MAX),
    AfterValidator(storable_text),
    AfterValidator(not_blank),
]

# A project's or a worker's name (ProjectBase, WorkerBase).
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(storable_text),
    AfterValidator(not_blank),
]
