"""Data-derived text for the report, made safe for Markdown and HTML outputs.

Names come from users (``taskkit import``): a worker called ``<img src=x onerror=...>`` or
``*a*`` must read literally in the report, never run or render as markup.
"""

import html
import string

__all__ = ["html_text", "markdown_text"]

_MARKDOWN_SPECIALS = frozenset(string.punctuation) - set("&<>\"'")


def markdown_text(value: object) -> str:
    """``value`` as Markdown that renders to exactly its characters.

    HTML specials become entities (no tag, no script); every other ASCII punctuation mark is
    backslash-escaped (CommonMark allows it for all of them), so ``*``, ``_``, `` ` ``, ``[``,
    ``#`` and ``$`` (math) keep their literal meaning. Line breaks become spaces, so a name
    cannot start a heading or a list.
    """
    out = []
    for ch in str(value):
        if ch in "&<>\"'":
            out.append(html.escape(ch, quote=True))
        elif ch in _MARKDOWN_SPECIALS:
            out.append("\\" + ch)
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def html_text(value: object) -> str:
    """``value`` escaped for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)
