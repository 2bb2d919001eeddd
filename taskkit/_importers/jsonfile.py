"""A JSON document read in pieces, so that its memory is the parsed values' and little more.

``json.loads`` of a whole file holds the file's bytes, their decoded text (up to four bytes a
character when one character needs it) and the parsed values at once; a 128 MB GitHub export
imported that way peaked at 5.9 to 8.5 times the file. Here the file is decoded a megabyte
at a time and the elements of a top-level array (and of the arrays a top-level object holds,
such as a Trello board's ``cards`` and ``actions``) are parsed a window's worth at a time
with the standard library's parser, keys shared (a key repeated in every object is stored
once) and, in a big file, short repeated values too. Any encoding
:mod:`~taskkit._importers.source` recognises is read.

Measured on a 128 MB GitHub REST export (seconds; peak memory over the process's own, in
times the file): ``json.loads`` 0.9 s, 3.2x; orjson 0.7 to 1.3 s, 5.1x (it holds the bytes
and builds the same objects); ijson (a streaming parser, C backend) 1.4 to 1.8 s, 3.7x (its
objects share no keys); this reader 0.8 to 1.3 s, 2.2x with keys shared, and 1.4 to 1.9 s,
1.2x with short values shared too. So no parser is added: streaming alone does not shrink
the objects, sharing does.

Every refusal is a :class:`LoadError` naming the line and column: invalid JSON, text that is
not in the file's encoding, nesting deeper than Python's parser goes (``RecursionError``).
"""

import codecs
import json
import re
import sys
from collections.abc import Iterator
from json import JSONDecodeError, JSONDecoder
from typing import Any

from taskkit._errors import LoadError
from taskkit._importers.source import Source

__all__ = ["NESTED", "read_json"]

CHUNK = 1 << 20
_SPACE = re.compile(r"[ \t\r\n]*")
NESTED = (
    f"nested too deeply for Python's JSON parser (it stops at about "
    f"{sys.getrecursionlimit():,} levels; an export nests a few)"
)
# From this size on, short strings that repeat (a user's login and URLs in every issue, label
# names) are stored once: half the memory of a 128 MB GitHub export, for a fifth more time.
SHARE_VALUES_BYTES = 32 << 20
_SHARED_LENGTH = 256
_NEAR_END = 16  # an error this close to the end of the text read so far may be a cut value
_NUMBER_GOES_ON = re.compile(r"[0-9.eE+\-]*\Z")


def read_json(source: Source) -> Any:
    """The JSON document in ``source``, as ``json.loads`` gives it.

    Raises:
        LoadError: not valid JSON (line and column named), not text in the file's encoding,
            or nested too deeply for Python's parser.
    """
    with source.path.open("rb") as f:
        reader = _Reader(source, f)
        reader.skip_space()
        if reader.peek() == "[":
            document: Any = list(reader.array())
        elif reader.peek() == "{":
            document = dict(reader.members())
        else:
            document = reader.value()
        reader.skip_space()
        if reader.peek():
            raise reader.error("Extra data", reader.pos)
    return document


# A JSON string, number or literal (NaN and Infinity too, as Python's parser reads them); the
# possessive quantifiers keep a long string from being matched again after a failed boundary.
_SCALAR = r'(?:"(?:[^"\\]++|\\.)*+"|-?[0-9][0-9.eE+\-]*|true|false|null|NaN|-?Infinity)'


def _between(first: dict[str, Any]) -> re.Pattern[str]:
    """The text between two objects of an array that begin as ``first`` does: with its first
    key, and its second one too when the first value is a string, a number or a literal.
    Objects nested in the elements often begin with the same key (``id``: a Trello card's
    labels, as the card), rarely with the same two: a boundary inside an element fails the
    batch, and the rest of the window is then read one element at a time."""
    keys = list(first)[:2]
    start = r"\{[ \t\r\n]*" + re.escape(json.dumps(keys[0]))
    if len(keys) == 2 and (first[keys[0]] is None or isinstance(first[keys[0]], str | int | float)):
        start += r"[ \t\r\n]*:[ \t\r\n]*" + _SCALAR + r"[ \t\r\n]*,[ \t\r\n]*"
        start += re.escape(json.dumps(keys[1]))
    return re.compile(r"\}[ \t\r\n]*,[ \t\r\n]*(" + start + ")")


class _Reader:
    """The decoded text of a file, a window at a time, with a position in it."""

    def __init__(self, source: Source, f: Any) -> None:
        self.source, self.file = source, f
        self.decoder = codecs.getincrementaldecoder(source.encoding)()
        self.text, self.pos, self.eof = "", 0, False
        self.dropped = 0  # characters of text before the window
        self.wanted = CHUNK
        self.batching = True
        shared: dict[str, str] = {}
        if source.size >= SHARE_VALUES_BYTES:

            def share(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
                return {
                    shared.setdefault(k, k): shared.setdefault(v, v)
                    if v.__class__ is str and len(v) <= _SHARED_LENGTH
                    else v
                    for k, v in pairs
                }

            self.json = self.plain = JSONDecoder(object_pairs_hook=share)
        else:  # keys only; a window's elements parsed together share them anyway

            def share_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
                return {shared.setdefault(k, k): v for k, v in pairs}

            self.json = JSONDecoder(object_pairs_hook=share_keys)
            self.plain = JSONDecoder()

    # --- the window -------------------------------------------------------------------------

    def more(self) -> None:
        """Read on: drop the text before ``pos``, add the next piece of the file."""
        self.dropped += self.pos
        self.text = self.text[self.pos :]
        self.pos = 0
        self.batching = True
        pending = len(self.decoder.getstate()[0])  # bytes of a character the last piece cut
        data = self.file.read(self.wanted)
        self.eof = not data
        try:
            self.text += self.decoder.decode(data, final=self.eof)
        except UnicodeDecodeError as bad:
            at = self.file.tell() - len(data) - pending + bad.start
            raise LoadError(
                f"{str(self.source.path)!r} is not a JSON file taskkit can read: it is not "
                f"{self.source.described} text (byte {at:,}); save it as UTF-8"
            ) from None

    def peek(self) -> str:
        """The character at ``pos`` ("" at the end of the file)."""
        while self.pos >= len(self.text) and not self.eof:
            self.more()
        return self.text[self.pos : self.pos + 1]

    def skip_space(self) -> None:
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text) or self.eof:
                return
            self.more()

    def expect(self, char: str, expecting: str) -> None:
        self.skip_space()
        if self.peek() != char:
            raise self.error(f"Expecting {expecting}", self.pos)
        self.pos += 1

    # --- values -------------------------------------------------------------------------------

    def value(self) -> Any:
        """The value at ``pos``; reads on while the window ends inside it."""
        tries = 0
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.pos)
            except JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - _NEAR_END or exc.msg.startswith("Unterminated")
                if self.eof or not cut:
                    raise self.error(exc.msg, exc.pos) from None
            except RecursionError:
                raise self.error(NESTED, self.pos) from None
            else:
                # A number the window ends in may go on ("0." then "5"): read on to be sure.
                number = isinstance(value, int | float)
                if self.eof or not (number and _NUMBER_GOES_ON.match(self.text, end)):
                    self.pos = end
                    self.wanted = CHUNK
                    return value
            tries += 1
            self.wanted = CHUNK << min(tries, 20)  # a long value: read more each time
            self.more()

    def array(self) -> Iterator[Any]:
        """The elements of the array at ``pos``, one by one (or a window's worth at a time)."""
        self.expect("[", "'['")
        self.skip_space()
        if self.peek() == "]":
            self.pos += 1
            return
        between: re.Pattern[str] | None = None
        while True:
            self.skip_space()
            if between is not None and (batch := self.batch(between)) is not None:
                yield from batch
                continue
            value = self.value()
            if between is None and isinstance(value, dict) and value:
                between = _between(value)
            yield value
            self.skip_space()
            char = self.peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise self.error("Expecting ',' delimiter", self.pos - 1)

    def batch(self, between: re.Pattern[str]) -> list[Any] | None:
        """The elements from ``pos`` to the last place in the window that looks like the
        boundary between two of them (``}, {"first key"``), parsed in one call, which is
        faster and shares keys; None when there is no such place or it was not a boundary.

        A place that is not a boundary (inside a string, or between two nested objects) makes
        ``[`` + the text + ``]`` fail to parse, and the elements are read one by one up to it.
        """
        if not self.batching:
            return None
        found = None
        for found in between.finditer(self.text, self.pos):  # noqa: B007 (the last one)
            pass
        if found is None:
            return None
        try:
            values: list[Any] = self.plain.decode(
                "[" + self.text[self.pos : found.start() + 1] + "]"
            )
        except (JSONDecodeError, RecursionError):
            self.batching = False  # one by one until the window moves on
            return None
        self.pos = found.end() - len(found.group(1))
        return values

    def members(self) -> Iterator[tuple[str, Any]]:
        """The members of the object at ``pos``; arrays among them read element by element."""
        self.expect("{", "'{'")
        self.skip_space()
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            self.skip_space()
            if self.peek() != '"':
                raise self.error("Expecting property name enclosed in double quotes", self.pos)
            key = self.value()
            self.expect(":", "':' delimiter")
            self.skip_space()
            yield key, (list(self.array()) if self.peek() == "[" else self.value())
            self.skip_space()
            char = self.peek()
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                raise self.error("Expecting ',' delimiter", self.pos - 1)

    def error(self, message: str, pos: int) -> LoadError:
        line, column = _line_and_column(self.source, self.dropped + pos)
        return LoadError(
            f"{str(self.source.path)!r} is not valid JSON: {message} "
            f"(line {line:,}, column {column:,})"
        )


def _line_and_column(source: Source, offset: int) -> tuple[int, int]:
    """Line and column (1-based) of the character at ``offset`` in the file's text."""
    decoder = codecs.getincrementaldecoder(source.encoding)(errors="replace")
    line, start, seen = 1, 0, 0  # start: the offset where the current line begins
    with source.path.open("rb") as f:
        while seen <= offset and (data := f.read(CHUNK)):
            text = decoder.decode(data)[: offset - seen]
            newlines = text.count("\n")
            if newlines:
                line += newlines
                start = seen + text.rfind("\n") + 1
            seen += len(text) if len(text) < offset - seen else offset - seen + 1
    return line, offset - start + 1
