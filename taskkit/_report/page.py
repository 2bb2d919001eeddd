"""The executed report notebook as one self-contained HTML page.

No script and nothing from the network: styles are inline, figures are ``data:`` images, and
JavaScript outputs are never written. A cell's outputs are shown in the order Jupyter would
pick them (HTML, Markdown, SVG, PNG, plain text); Markdown goes through mistune, the renderer
nbconvert uses. Data-derived text is escaped where it is produced (``taskkit._report.text``).
"""

import base64
import html
import re
from pathlib import Path
from typing import Any

from taskkit._report.present import PHONE_WIDTH

__all__ = ["render_page"]

CSS = Path(__file__).with_name("page.css")
#: Cells with this tag are for notebook readers only.
NOTEBOOK_ONLY = "notebook-only"
# A table of more rows than this may run on to the next printed page (its header repeated),
# its heading and introduction kept with its first rows; a shorter one moves whole.
_LONG_TABLE_ROWS = 12
# A section heading, alone in an output (the report's heading() displays one at a time), and
# an output of text (Markdown's paragraphs or a warning's blockquote).
_HEADING = re.compile(r'^<div class="output"><h[23]>')
_TEXT = re.compile(r'^<div class="output">\s*<(?:p|blockquote)>')


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _markdown(source: str) -> str:
    import mistune

    return str(mistune.html(source))


def _output(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(_text(output.get('text', '')))}</pre>"
    data = output.get("data", {})
    if "text/html" in data:
        return _text(data["text/html"])
    if "text/markdown" in data:
        return _markdown(_text(data["text/markdown"]))
    for kind in ("image/svg+xml", "image/png"):
        if kind in data:
            return _image(kind, data[kind], output.get("metadata", {}).get(kind, {}))
    if "text/plain" in data:
        return f"<pre>{html.escape(_text(data['text/plain']))}</pre>"
    return ""


def _image(kind: str, value: Any, meta: dict[str, Any]) -> str:
    """An image output as a ``data:`` image; with a phone rendering in its metadata, a
    ``<picture>`` that gives phones the chart drawn for their width (text legible, nothing cut
    off) and wide screens and print the wide one."""
    alt = html.escape(meta.get("alt") or "Figure")
    if kind == "image/svg+xml":  # text in a notebook, base64 in a data: URL
        encoded = base64.b64encode(_text(value).encode("utf-8")).decode("ascii")
    else:
        encoded = _text(value).replace("\n", "")
    image = f'<img src="data:{kind};base64,{encoded}" alt="{alt}">'
    if not meta.get("phone"):
        return image
    phone = _text(meta["phone"]).replace("\n", "")
    return (
        f'<picture><source media="(max-width: {PHONE_WIDTH}px)" type="image/svg+xml" '
        f'srcset="data:image/svg+xml;base64,{phone}">{image}</picture>'
    )


def _kind(part: str) -> str:
    """``heading``, ``text`` (paragraphs, a warning) or ``block`` (a chart, a table)."""
    if _HEADING.search(part):
        return "heading"
    return "text" if _TEXT.search(part) else "block"


def _keep_headings_with_content(parts: list[str]) -> list[str]:
    """A heading, and the sentences that introduce a chart or a table, in one unbreakable
    block with the chart or table they introduce, so that a printed page never ends on a
    heading or an introduction whose content starts on the next (CSS ``break-after: avoid``
    alone does not hold in Chromium's print). A table of more than :data:`_LONG_TABLE_ROWS`
    rows is marked ``long`` (with its heading, or alone): it may run on to the next page,
    row by row, with its header repeated, rather than leave the rest of this one empty."""
    kept: list[str] = []
    group: list[str] = []
    for part in parts:
        kind = _kind(part)
        if kind == "heading" and group:  # a heading with no chart or table: keep it as it is
            kept.extend(group)
            group = []
        long = part.count("<tr") > _LONG_TABLE_ROWS
        if kind == "block" and group:
            cls = "keep long" if long else "keep"
            kept.append(f'<div class="{cls}">\n' + "\n".join([*group, part]) + "\n</div>")
            group = []
        elif kind == "block":
            kept.append(f'<div class="long">\n{part}\n</div>' if long else part)
        else:
            group.append(part)
    if len(group) > 1 and _kind(group[0]) == "heading":  # a last section without a block
        kept.append('<div class="keep">\n' + "\n".join(group) + "\n</div>")
    else:
        kept.extend(group)
    return kept


def render_page(cells: list[dict[str, Any]], *, title: str, show_code: bool) -> str:
    """The page for executed ``cells`` (nbformat 4 dicts), titled ``title`` (plain text)."""
    parts = []
    for cell in cells:
        if NOTEBOOK_ONLY in cell.get("metadata", {}).get("tags", []):
            continue
        if cell["cell_type"] == "markdown":
            parts.append(_markdown(_text(cell["source"])))
        elif cell["cell_type"] == "code":
            if show_code:
                parts.append(f"<pre><code>{html.escape(_text(cell['source']))}</code></pre>")
            for output in cell.get("outputs", []):
                shown = _output(output)
                if shown:
                    parts.append(f'<div class="output">{shown}</div>')
    body = "\n".join(_keep_headings_with_content(parts))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{CSS.read_text(encoding='utf-8')}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
