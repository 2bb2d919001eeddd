"""How the report shows things: titles, words for codes, formatted numbers, figures.

The notebook's cells call these, so the report reads the same wherever it is run.
"""

import io
from typing import Any

import pandas as pd

from taskkit._report.parameters import ReportParameters
from taskkit._report.text import markdown_text

__all__ = [
    "LABELS",
    "count",
    "day",
    "days",
    "figure",
    "heading",
    "percent",
    "scope",
    "title",
]

#: Words for the codes stored in the database and the columns of the aggregates.
LABELS = {
    "pending": "pending",
    "in_progress": "in progress",
    "completed": "completed",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "completed_share": "completed share",
    "worker_id": "worker id",
}


def count(n: Any) -> str:
    """An integer with thousands separators: ``1,000,008``."""
    return f"{int(n):,}"


def percent(x: Any) -> str:
    """A share as a whole percentage: ``95%`` (``-`` when undefined)."""
    return "-" if pd.isna(x) else f"{x:.0%}"


def days(x: Any) -> str:
    """A duration in days with one decimal: ``3.4 days``."""
    return f"{x:,.1f} days"


def day(ts: Any) -> str:
    """A date as ``01 Jun 2025``."""
    return pd.Timestamp(ts).strftime("%d %b %Y")


def scope(parameters: ReportParameters) -> str:
    """What the report covers, in words (plain text, not escaped)."""
    where = f"project {parameters.project}" if parameters.project else "all projects"
    start, end = parameters.date_from, parameters.date_to
    if start and end:
        when = f"tasks created {day(start)} to {day(end)}"
    elif start:
        when = f"tasks created from {day(start)}"
    elif end:
        when = f"tasks created up to {day(end)}"
    else:
        when = "all dates"
    return f"{where}, {when}"


def title(parameters: ReportParameters) -> str:
    """The report's title, naming its scope (plain text: the page's ``<title>``)."""
    return f"Task report: {scope(parameters)}"


def heading(text: str, level: int = 2) -> Any:
    """A Markdown heading of data-derived ``text``, escaped."""
    from IPython.display import Markdown

    return Markdown(f"{'#' * level} {markdown_text(text)}")


def figure(fig: Any, alt: str) -> Any:
    """``fig`` as a PNG image with alternative text, sized by the page; the figure is closed.

    Drawn at twice the screen's density so that it stays sharp when the page scales it.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=140, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return Image(buffer.getvalue(), alt=alt)
