"""Mappings: which source column is which taskkit field, and which source value is which
status or priority. Given as options (``--map "Summary=title"``) or a small TOML file::

    format = "jira"            # optional: the export's format
    [columns]
    "Issue Summary" = "title"
    [status]
    Blocked = "in_progress"
    [priority]
    Blocker = "high"
    [resolution]
    "Ready for Release" = "done"
    [workers]
    separator = ","

Value keys match case-insensitively and around blanks (``blocked`` maps ``Blocked``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskkit._errors import InvalidArgumentError
from taskkit._importers.source import regular_file
from taskkit._rules import Priority, Resolution, Status

__all__ = ["FIELDS", "ImportMapping", "fold"]

FIELDS = (
    "key", "id", "title", "description", "status", "priority", "project", "workers",
    "created_at", "updated_at", "completed_at", "resolution", "started_at", "kind", "labels",
)  # fmt: skip
STATUSES = tuple(s.value for s in Status)
PRIORITIES = tuple(p.value for p in Priority)
RESOLUTIONS = tuple(r.value for r in Resolution)


def fold(value: str) -> str:
    """How values are compared: case and surrounding blanks do not count."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class ImportMapping:
    """A user's mapping; empty by default (each format brings its own defaults)."""

    columns: dict[str, str] = field(default_factory=dict)  # source column -> taskkit field
    status: dict[str, str] = field(default_factory=dict)  # folded source value -> Status
    priority: dict[str, str] = field(default_factory=dict)  # folded source value -> Priority
    # folded resolution or status name -> Resolution (what a completed task's end means)
    resolution: dict[str, str] = field(default_factory=dict)
    separator: str | None = None  # between worker names in one cell
    format: str | None = None

    def __post_init__(self) -> None:
        for source, target in self.columns.items():
            if target not in FIELDS:
                raise InvalidArgumentError(
                    f"column mapping {source!r}={target!r}: {target!r} is not a taskkit field; "
                    f"allowed: {', '.join(FIELDS)}"
                )
        for name, values, allowed in (
            ("status", self.status, STATUSES),
            ("priority", self.priority, PRIORITIES),
            ("resolution", self.resolution, RESOLUTIONS),
        ):
            for source, target in values.items():
                if target not in allowed:
                    raise InvalidArgumentError(
                        f"{name} mapping {source!r}={target!r}: {target!r} is not a {name}; "
                        f"allowed: {', '.join(allowed)}"
                    )
        if self.separator is not None and not self.separator:
            raise InvalidArgumentError("the worker separator must not be empty")

    @classmethod
    def build(
        cls,
        *,
        columns: dict[str, str] | Iterable[str] = (),
        status: dict[str, str] | Iterable[str] = (),
        priority: dict[str, str] | Iterable[str] = (),
        resolution: dict[str, str] | Iterable[str] = (),
        separator: str | None = None,
        file: str | Path | None = None,
    ) -> "ImportMapping":
        """A mapping from ``SOURCE=TARGET`` strings or dicts, over a TOML file's (the
        options win)."""
        base = cls.from_toml(Path(file)) if file is not None else cls()
        return cls(
            columns={**base.columns, **_pairs(columns, "--map", fold_keys=False)},
            status={**base.status, **_pairs(status, "--status")},
            priority={**base.priority, **_pairs(priority, "--priority")},
            resolution={**base.resolution, **_pairs(resolution, "--resolution")},
            separator=separator if separator is not None else base.separator,
            format=base.format,
        )

    @classmethod
    def from_toml(cls, path: Path) -> "ImportMapping":
        """The mapping a TOML file holds (see the module docstring for its tables)."""
        import tomllib  # only with a mapping file: not a cost of every import

        regular_file(path, "a TOML mapping file", InvalidArgumentError)  # a FIFO would block
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidArgumentError(f"mapping file {str(path)!r} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidArgumentError(f"mapping file {str(path)!r} is not TOML: {exc}") from None
        unknown = set(data) - {"format", "columns", "status", "priority", "resolution", "workers"}
        if unknown:
            raise InvalidArgumentError(
                f"mapping file {str(path)!r}: unknown table(s) {', '.join(sorted(unknown))}; "
                "allowed: format, columns, status, priority, resolution, workers"
            )
        workers = data.get("workers", {})
        return cls(
            columns=_table(data, "columns", path),
            status={fold(k): v for k, v in _table(data, "status", path).items()},
            priority={fold(k): v for k, v in _table(data, "priority", path).items()},
            resolution={fold(k): v for k, v in _table(data, "resolution", path).items()},
            separator=workers.get("separator") if isinstance(workers, dict) else None,
            format=data.get("format"),
        )


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InvalidArgumentError(
            f'mapping file {str(path)!r}: [{name}] must hold SOURCE = "target" lines'
        )
    return table


def _pairs(
    pairs: dict[str, str] | Iterable[str], option: str, *, fold_keys: bool = True
) -> dict[str, str]:
    if isinstance(pairs, dict):
        items = list(pairs.items())
    else:
        items = []
        for pair in pairs:
            source, sep, target = pair.rpartition("=")
            # "--status =pending": blank cells (only for statuses, where a blank is refused).
            blank_ok = option == "--status" and sep and not source.strip()
            if not sep or (not source.strip() and not blank_ok):
                raise InvalidArgumentError(
                    f"{option} {pair!r}: expected SOURCE=TARGET, "
                    f'e.g. {option} "Blocked=in_progress"'
                )
            items.append((source, target))
    return {(fold(s) if fold_keys else s.strip()): t.strip() for s, t in items}
