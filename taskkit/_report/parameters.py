"""The report's parameters: what a reader may change, checked before anything runs."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from taskkit._database.engine import database_url
from taskkit._errors import InvalidArgumentError

__all__ = ["PARAMETERS", "ReportParameters", "check_parameters"]

#: The report's parameters, with their meaning (the notebook's ``parameters`` cell).
PARAMETERS = {
    "database_url": "the database to report on (default: DATABASE_URL or the default database)",
    "date_from": "first day of tasks to include, YYYY-MM-DD (default: the first task)",
    "date_to": "last day of tasks to include, YYYY-MM-DD (default: the last task)",
    "project": "a project name: report on that project only (default: all projects)",
}


@dataclass(frozen=True)
class ReportParameters:
    """Checked report parameters."""

    database_url: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    project: str | None = None

    def as_notebook_parameters(self) -> dict[str, Any]:
        return {
            "database_url": self.database_url,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "project": self.project,
        }


def _day(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidArgumentError(
            f"{name} must be a date in the form YYYY-MM-DD, got {value!r}"
        ) from None


def check_parameters(values: dict[str, Any]) -> ReportParameters:
    """Check report parameters given by name (from ``--param NAME=VALUE`` or a notebook).

    Raises:
        InvalidArgumentError: an unknown name, a date that is not YYYY-MM-DD, ``date_from``
            after ``date_to``, a project name that is blank.
    """
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        allowed = "; ".join(f"{k}: {v}" for k, v in PARAMETERS.items())
        raise InvalidArgumentError(
            f"unknown report parameter(s) {', '.join(unknown)}; allowed: {allowed}"
        )
    start = _day("date_from", values.get("date_from"))
    end = _day("date_to", values.get("date_to"))
    if start and end and start > end:
        raise InvalidArgumentError(f"date_from ({start}) must not be after date_to ({end})")
    project = values.get("project")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise InvalidArgumentError(f"project must be a project name, got {project!r}")
    url = values.get("database_url")
    if url is not None:
        database_url(url)  # a clear error for a bad URL, password hidden
    return ReportParameters(database_url=url or None, date_from=start, date_to=end, project=project)
