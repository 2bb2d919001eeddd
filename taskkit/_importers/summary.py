"""What an import reports: each bad value (:class:`RowProblem`), the summary of what was
stored, ignored, filled in or skipped (:class:`LoadSummary`), and the grouped listing of
problems that refusals and summaries print."""

from dataclasses import dataclass, field

from taskkit._words import plural

__all__ = ["SHOWN_PROBLEMS", "SHOWN_ROWS", "LoadSummary", "RowProblem", "listing", "row_count"]

SHOWN_PROBLEMS = 20  # distinct (field, value) groups listed; each with its count and rows
SHOWN_ROWS = 5


@dataclass(frozen=True)
class RowProblem:
    """One bad value: the data row (1 = first row after the header), field and reason."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class LoadSummary:
    """What :func:`load_tasks` stored, and what it read, ignored, filled in or skipped."""

    tasks: int  # new tasks
    projects_created: int
    workers_created: int
    links: int
    seconds: float
    skipped: list[RowProblem] = field(default_factory=list)
    updated: int = 0  # tasks with a known key whose values changed
    unchanged: int = 0  # tasks with a known key, same values
    format: str = "taskkit"
    detected: bool = False
    ignored: list[str] = field(default_factory=list)  # source columns and fields not read
    filled: dict[str, str] = field(default_factory=dict)  # field -> what was derived, from what
    notes: list[str] = field(default_factory=list)  # time zone, merged rows, truncations
    read: dict[str, str] = field(default_factory=dict)  # field -> read from which source
    resolutions: dict[str, int] = field(default_factory=dict)  # of the tasks written
    history: int = 0  # status_change rows written
    history_from_export: int = 0  # of them, dated by the export alone (no tracker date)
    labels_created: int = 0
    label_links: int = 0
    left_out: dict[str, int] = field(default_factory=dict)  # records not imported, by kind
    unread: list[str] = field(default_factory=list)  # JSON fields present but not read

    @property
    def skipped_rows(self) -> list[int]:
        return sorted({p.row for p in self.skipped})

    def __str__(self) -> str:
        how = "detected" if self.detected else "as asked"
        text = (
            f"format: {self.format} ({how})\n"
            f"loaded {plural(self.tasks, 'task')} ("
            f"{plural(self.projects_created, 'new project')}, "
            f"{plural(self.workers_created, 'new worker')}, {plural(self.links, 'assignment')}) "
            f"in {self.seconds:.1f} s"
        )
        if self.updated or self.unchanged:
            text += (
                f"\nby key: {self.tasks:,} new, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged"
            )
        if self.resolutions:
            text += "\ncompleted: " + ", ".join(
                f"{count:,} {name}" for name, count in self.resolutions.items()
            )
        if self.history:
            text += f"\nhistory: {plural(self.history, 'status change')}"
            if self.history_from_export:
                text += (
                    f" ({self.history_from_export:,} dated by the export's updated_at: the file "
                    "does not say when)"
                )
        if self.labels_created or self.label_links:
            text += f"\nlabels: {self.labels_created:,} new, {self.label_links:,} on tasks"
        for name, what in self.read.items():
            text += f"\nread: {name}: {what}"
        for name, what in self.filled.items():
            text += f"\nfilled in: {name}: {what}"
        for what, count in self.left_out.items():
            text += f"\nleft out: {what}: {count:,}"
        for note in self.notes:
            text += f"\nnote: {note}"
        if self.ignored:
            text += f"\nignored {plural(len(self.ignored), 'column')} nobody mapped: " + ", ".join(
                repr(c) for c in self.ignored
            )
        if self.unread:
            text += f"\nnot read ({plural(len(self.unread), 'field')}): " + ", ".join(self.unread)
        if self.skipped:
            text += f"\nskipped {plural(len(self.skipped_rows), 'bad row')}:\n" + listing(
                self.skipped
            )
        return text


def listing(problems: list[RowProblem], hints: dict[str, str] | None = None) -> str:
    """Problems grouped by field and value: ``status: 'Blocked' (6 rows: 7, 9, 12, ...),
    'Analyzing' (1 row: 15); map them with ...``, one line per field."""
    groups: dict[str, dict[str, list[int]]] = {}
    for p in problems:
        groups.setdefault(p.field, {}).setdefault(p.reason, []).append(p.row)
    lines = []
    shown = 0
    for name, reasons in groups.items():
        parts = []
        for reason, rows in reasons.items():
            if shown >= SHOWN_PROBLEMS:
                break
            rows = sorted(set(rows))
            listed = ", ".join(map(str, rows[:SHOWN_ROWS])) + (
                ", ..." if len(rows) > SHOWN_ROWS else ""
            )
            parts.append(f"{reason} ({plural(len(rows), 'row')}: {listed})")
            shown += 1
        more = len(reasons) - len(parts)
        line = (
            f"  {name}: "
            + ", ".join(parts)
            + (f", and {plural(more, 'more value')}" if more > 0 else "")
        )
        if hints and hints.get(name):
            line += f"; {hints[name]}"
        lines.append(line)
    return "\n".join(lines)


def row_count(count: int) -> str:
    return plural(count, "row")
