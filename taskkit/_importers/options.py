"""The choices an import takes: one public dataclass for :func:`taskkit.load_tasks` and
``taskkit import`` alike, checked once, when it is made."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskkit._errors import InvalidArgumentError

__all__ = ["DEFAULT_OPTIONS", "FORMAT_NAMES", "DateOrder", "ImportOptions"]

#: The formats an import reads, in the order detection tries them (``taskkit`` last: any
#: other file is read with taskkit's own column names).
FORMAT_NAMES = ("trello", "github", "jira", "asana", "linear", "plane", "taskkit")

DateOrder = Literal["dayfirst", "monthfirst"] | None


@dataclass(frozen=True)
class ImportOptions:
    """How an import reads what a file leaves open, and what it does with bad rows.

    The keyword arguments of :func:`taskkit.load_tasks` and the options of ``taskkit
    import`` are these fields (``load_tasks(engine, path, options=ImportOptions(...))`` says
    the same as the keywords); a value outside :attr:`CHOICES` is refused when the options are
    made, naming the field, the value and what is allowed.

    Attributes:
        format: ``jira``, ``github``, ``asana``, ``linear``, ``plane``, ``trello`` or
            ``taskkit``; ``None``: detected from the header or JSON shape (the summary says
            which).
        on_error: ``"raise"``: any bad row stores nothing; ``"skip"``: the good rows are
            stored and the bad ones reported.
        date_order: ``"dayfirst"`` or ``"monthfirst"`` for dates such as ``06-09-2024`` that
            the column's values do not decide (refused otherwise).
        tz: the zone of times written without an offset (an IANA name such as
            ``Europe/Berlin``).
        long_titles: ``"truncate"`` cuts titles longer than 512 characters (refused
            otherwise).
        open_completed: ``"drop"`` drops a completed date or a resolution on a task whose
            status is not completed (refused otherwise).
        archived: what an archived Trello card outside a done list becomes: a completed task
            resolved ``"cancelled"``, ``"done"``, or left out (``"skip"``, counted).
    """

    format: str | None = None
    on_error: Literal["raise", "skip"] = "raise"
    date_order: DateOrder = None
    tz: str = "UTC"
    long_titles: Literal["refuse", "truncate"] = "refuse"
    open_completed: Literal["refuse", "drop"] = "refuse"
    archived: Literal["cancelled", "done", "skip"] = "cancelled"

    #: The values each field allows (``tz``: any IANA zone name). The CLI offers these.
    CHOICES: ClassVar[dict[str, tuple[Any, ...]]] = {
        "format": (None, *FORMAT_NAMES),
        "on_error": ("raise", "skip"),
        "date_order": (None, "dayfirst", "monthfirst"),
        "long_titles": ("refuse", "truncate"),
        "open_completed": ("refuse", "drop"),
        "archived": ("cancelled", "done", "skip"),
    }

    def __post_init__(self) -> None:
        for name, allowed in self.CHOICES.items():
            value = getattr(self, name)
            if (value is not None and not isinstance(value, str)) or value not in allowed:
                said = ", ".join("None" if a is None else a for a in allowed)
                raise InvalidArgumentError(f"{name} must be one of {said}; got {value!r}")
        if not isinstance(self.tz, str):
            raise InvalidArgumentError(f"tz must be a time zone name, got {self.tz!r}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidArgumentError(
                f"tz must be a time zone name such as 'UTC' or 'Europe/Berlin', got {self.tz!r}"
            ) from None

    def changed(self) -> dict[str, Any]:
        """The fields that differ from the defaults, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default
        }


DEFAULT_OPTIONS = ImportOptions()
