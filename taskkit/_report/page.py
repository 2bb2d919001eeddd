"""The executed report notebook as one self-contained HTML page.

No script and nothing from the network: styles are inline, figures are ``data:`` images, and
JavaScript outputs are never written. A cell's outputs are shown in the order Jupyter would
pick them (HTML, Markdown, PNG, plain text); Markdown goes through mistune, the renderer
nbconvert uses. Data-derived text is escaped where it is produced (``taskkit._report.text``).
"""

import html
from pathlib import Path
from typing import Any

__all__ = ["render_page"]

CSS = Path(__file__).with_name("page.css")
#: Cells with this tag are for notebook readers only.
NOTEBOOK_ONLY = "notebook-only"


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
    if "image/png" in data:
        alt = output.get("metadata", {}).get("image/png", {}).get("alt") or "Figure"
        png = _text(data["image/png"]).replace("\n", "")
        return f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'
    if "text/plain" in data:
        return f"<pre>{html.escape(_text(data['text/plain']))}</pre>"
    return ""


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
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{CSS.read_text(encoding='utf-8')}</style>\n"
        f"</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
