"""How the report shows things: titles, words for codes, formatted numbers, rankings, figures.

The notebook's cells call these, so the report reads the same wherever it is run.
"""

import base64
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from taskkit._report.parameters import ReportParameters
from taskkit._report.text import markdown_text
from taskkit._words import plural

__all__ = [
    "LABELS",
    "PHONE_WIDTH",
    "Figure",
    "Ranked",
    "at_phone_size",
    "count",
    "day",
    "days",
    "figure",
    "heading",
    "percent",
    "plural",
    "ranked",
    "scope",
    "short",
    "title",
]

#: Words for the codes stored in the database and the columns of the aggregates.
LABELS = {
    "pending": "pending",
    "in_progress": "in progress",
    "completed": "completed",
    "done": "done",
    "dropped": "dropped",
    "open": "open",
    "wont_do": "won't do",
    "duplicate": "duplicate",
    "cancelled": "cancelled",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "done_share": "done share",
    "worker_id": "worker id",
}


def count(n: Any) -> str:
    """An integer with thousands separators: ``1,000,008``."""
    return f"{int(n):,}"


def short(text: Any, width: int = 24) -> str:
    """``text`` cut to ``width`` characters with an ellipsis: a chart's label, whose full text
    is in the table beside the chart (a long name would squeeze the chart to nothing)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def percent(x: Any) -> str:
    """A share as a whole percentage: ``95%`` (``-`` when undefined); a share that is not
    zero but rounds to it reads ``<1%``, one short of all ``>99%``."""
    if pd.isna(x):
        return "-"
    if 0 < x < 0.005:
        return "<1%"
    if 0.995 <= x < 1:
        return ">99%"
    return f"{x:.0%}"


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


@dataclass
class Ranked:
    """The first rows of a ranking, and the rows beyond them that tie with the last one shown
    (cut by the ranking's tiebreak): ``tied_beyond`` of them, each at ``tie_value``."""

    shown: pd.DataFrame
    tied_beyond: int
    tie_value: Any
    #: How many rows share the first place (1 when one leads alone).
    leaders: int


def ranked(frame: pd.DataFrame, column: str, n: int, tiebreak: str) -> Ranked:
    """The ``n`` rows with the largest ``column`` (ties in ``tiebreak`` order), and what the
    cut leaves out: a ranking that cuts through a tie must say so."""
    order = frame.sort_values([column, tiebreak], ascending=[False, True], kind="stable")
    shown = order.head(n)
    if not len(shown):
        return Ranked(shown, 0, None, 0)
    last = shown[column].iloc[-1]
    beyond = int((order[column].iloc[len(shown) :] == last).sum())
    leaders = int((order[column] == order[column].iloc[0]).sum())
    return Ranked(shown, beyond, last, leaders)


#: The page shows a figure's phone rendering up to this width (CSS pixels).
PHONE_WIDTH = 640
# Figures are SVG at both widths: sharp at any pixel density and in print, and cheaper than
# PNG (no pixels, no glyphs: the text is text, in the browser's sans-serif where DejaVu Sans is
# missing; its anchors keep it aligned). Measured on the 10,000-task report, the nine charts
# took 0.80 s as PNG and 0.33 s as SVG. A scatter of many points is rasterized by the chart
# itself (``rasterized=True``): the SVG then embeds that layer as an image at this resolution.
_DPI = 120  # 10 inches -> 1,200 px for the rasterized layers, sharp at the page's 62rem column
# Ids are salted and the date left out, so that two runs write the same bytes.
_SVG: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "taskkit-report"}


def _svg(fig: Any) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    fig.set_dpi(_DPI)  # of the rasterized layers; the drawing itself is in points
    buffer = io.StringIO()
    with matplotlib.rc_context(_SVG):
        FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None})
    return buffer.getvalue().encode("utf-8")


def at_phone_size(fig: Any, size: tuple[float, float]) -> None:
    """Resize ``fig`` for a phone, keeping its margins in inches (labels and legends keep
    their size in inches, so they need the same room), without laying it out again (that is
    another pass through every artist). A figure of several axes is laid out again."""
    width, height = fig.get_size_inches()
    if len(fig.axes) == 1:
        (ax,) = fig.axes
        box = ax.get_position()
        left, right = box.x0 * width, (1 - box.x1) * width
        bottom, top = box.y0 * height, (1 - box.y1) * height
        fig.set_layout_engine("none")
        fig.set_size_inches(*size)
        new_width, new_height = size
        ax.set_position(
            [
                left / new_width,
                bottom / new_height,
                1 - (left + right) / new_width,
                1 - (bottom + top) / new_height,
            ]
        )
    else:
        fig.set_layout_engine("constrained")
        fig.set_size_inches(*size)


def _png(fig: Any) -> bytes:
    """``fig`` drawn once (with its layout) and written as PNG.

    ``savefig`` draws a figure with a layout engine twice, a first pass for the layout only;
    drawing the canvas lays out and draws in one pass, with the same pixels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(_DPI)
    canvas = FigureCanvasAgg(fig)  # Agg whatever the figure was made with
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    # Opaque (the figure's background is white), lightly compressed: zlib's default level took
    # longer than drawing the chart, for a file a third smaller.
    image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _in_jupyter_kernel() -> bool:
    """Whether a Jupyter kernel runs the notebook (a reader's JupyterLab, nbclient), rather
    than ``taskkit report``'s own shell."""
    import sys

    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    return type(get_ipython()).__module__.startswith("ipykernel")


class Figure:
    """A chart as the report shows it: an SVG for wide screens and print, and one drawn for a
    phone's width (in the output's metadata, which the page puts in a ``<picture>``). Its text
    is the alternative text. In a Jupyter kernel it carries a PNG as well: JupyterLab shows no
    SVG from a notebook it does not trust (a notebook opened with its outputs stored)."""

    def __init__(
        self, wide: bytes, phone: bytes | None, alt: str, png: bytes | None = None
    ) -> None:
        self.wide, self.phone, self.alt, self.png = wide, phone, alt, png

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        meta: dict[str, Any] = {"alt": self.alt}
        if self.phone is not None:
            meta["phone"] = base64.b64encode(self.phone).decode("ascii")
        data = {"image/svg+xml": self.wide.decode("utf-8"), "text/plain": self.alt}
        if self.png is not None:
            data["image/png"] = base64.b64encode(self.png).decode("ascii")
        return data, {"image/svg+xml": meta}


def figure(fig: Any, alt: str, phone: tuple[float, float] | None = None) -> Figure:
    """``fig`` as a :class:`Figure` with alternative text ``alt``; the figure is closed.

    Args:
        fig: a matplotlib figure of one axes (a figure of several is laid out again at the
            phone's size).
        alt: what the chart shows, in words.
        phone: the figure's size on a phone (inches): drawn again at that size, its margins
            kept, so that its text stays legible at 390 px instead of shrinking with the chart.
    """
    import matplotlib.pyplot as plt

    try:
        png = _png(fig) if _in_jupyter_kernel() else None
        wide = _svg(fig)
        small = None
        if phone is not None:
            at_phone_size(fig, phone)
            small = _svg(fig)
    finally:
        plt.close(fig)
    return Figure(wide, small, alt, png)
