"""A CSV file as text columns, read by Arrow, with every refusal naming what and where.

* The header is read first, by Python's ``csv`` module (quoted names, names on several lines,
  any length): it gives the separator (the one of ``, ; tab`` that splits the first line most),
  the column count (more than :data:`MAX_COLUMNS` is refused before Arrow reads anything) and
  the names that an import's ``select`` picks columns by.
* Arrow then reads the file (every column as text, the header as the first row, so repeated
  names or a BOM change nothing), transcoding UTF-16 and UTF-32 on the way. Arrow cuts a file
  into blocks of 1 MiB; a row longer than that ("straddling object") is read again with one
  block for the whole file, so a value can be as long as the file.
* A file that ends inside a quoted value (truncated in the middle of a cell) is refused: Arrow
  would take everything up to the end, newline included, as the last value.
* When Arrow refuses a file, Python's ``csv`` module reads it again to name the row and line.

This module imports only the standard library and pyarrow (``taskkit import`` reads ahead with
it while the rest of the program is still loading).
"""

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv

from taskkit._errors import LoadError
from taskkit._importers.source import Source

__all__ = [
    "DELIMITERS",
    "MAX_COLUMNS",
    "CsvFile",
    "arrow_csv",
    "delimiter_of",
    "read_header",
    "table_of",
    "unique_names",
]

DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 4096  # a Jira export "with all fields" has about 100
MAX_HEADER_CHARS = 16 << 20  # a first line longer than this, without a line break: not a header
ARROW_BLOCK = 1 << 20  # Arrow's default block size
ARROW_MAX_BLOCK = (1 << 31) - 1  # Arrow's block size is a 32-bit integer
_SHOWN = 200  # characters of a row quoted in a message
_NO_ROWS = "no rows"


@dataclass(frozen=True)
class CsvFile:
    """A CSV file's header as its first record holds it."""

    source: Source
    header: list[str]  # names as written (trimmed), repeated names included
    delimiter: str


def unique_names(header: list[str]) -> list[str]:
    """``Labels, Labels, Labels`` -> ``Labels, Labels.1, Labels.2`` (as pandas names them)."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            names.append(candidate)
        else:
            seen[name] = 0
            names.append(name)
    return names


def delimiter_of(first_line: str) -> str:
    """The separator of the header line: the one of ``, ; tab`` that splits it most."""
    counts = {d: _fields(first_line, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the first, a comma
    return best if counts[best] > 1 else ","


def _fields(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # a field longer than the csv module's limit: not split by this one
        return 1


def read_header(source: Source) -> CsvFile:
    """The header record of ``source`` and its separator.

    Raises:
        LoadError: no header line; a header that is not CSV (a first line over 16 MiB, an
            unclosed quote); more than :data:`MAX_COLUMNS` columns; text that is not in the
            file's encoding.
    """
    name = repr(str(source.path))
    try:
        with _text(source) as f:
            first = f.readline(MAX_HEADER_CHARS + 1)
            if len(first) > MAX_HEADER_CHARS:
                raise LoadError(
                    f"{name} is not a CSV file taskkit can read: its first line is over "
                    f"{MAX_HEADER_CHARS >> 20} MiB characters long (a header names columns)"
                )
            if not first.strip(" \t\r\n,;"):
                raise LoadError(
                    f"{name} has no header line: expected column names, at least 'title'"
                )
            delimiter = delimiter_of(first.rstrip("\r\n"))
        with _text(source) as f:
            names = next(csv.reader(f, delimiter=delimiter, strict=True))
    except UnicodeDecodeError:
        reason = _not_text(source) or f"it is not {source.described} text"
        raise LoadError(f"{name} is not a CSV file taskkit can read: {reason}") from None
    except csv.Error as exc:
        raise LoadError(f"{name} is not a CSV file taskkit can read: its header: {exc}") from None
    if len(names) > MAX_COLUMNS:
        raise LoadError(
            f"{name} has {len(names):,} columns in its header; taskkit reads at most "
            f"{MAX_COLUMNS:,} (a tracker export has about 100)"
        )
    header = [n.removeprefix("\ufeff").strip() for n in names]
    return CsvFile(source=source, header=header, delimiter=delimiter)


def table_of(
    found: CsvFile,
    select: Callable[[list[str]], set[str]] | None,
    ahead: Callable[[list[int] | None], pa.Table | None] = lambda positions: None,
) -> tuple[pa.Table, list[str]]:
    """The rows of the file as text columns named by :func:`unique_names`, and the header.

    ``select(unique names)`` names the columns wanted; the others are not converted.
    ``ahead(positions)``: a table already read (by the read-ahead), or None.

    Raises:
        LoadError: what Arrow refuses (with the row and line named where Python's ``csv``
            module finds it), text not in the file's encoding, or a file that ends inside a
            quoted value.
    """
    names = unique_names(found.header)
    positions: list[int] | None = None
    if select is not None:
        wanted = select(names)
        positions = [i for i, n in enumerate(names) if n in wanted] or None
    last = len(names) - 1
    read = None if positions is None else sorted({*positions, last})  # the last: for the check
    table = ahead(read)
    if table is None:
        try:
            table = arrow_csv(found.source, found.delimiter, read)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise LoadError(_why_not(found, exc)) from None
    arrow_header = [
        str(v).removeprefix("\ufeff").strip() for v in table.slice(0, 1).to_pylist()[0].values()
    ]
    if read is not None and arrow_header != [found.header[i] for i in read]:
        return table_of(found, None)  # a header the csv module read differently: every column
    if table.num_rows > 1:
        last_value = table.column(table.num_columns - 1)[-1].as_py()
        _require_closed_quotes(found, last_value, table.num_rows - 1)
    table = table.slice(1)
    if read is None:  # Arrow's reading of the header is the one that goes with its columns
        return table.rename_columns(unique_names(arrow_header)), arrow_header
    table = table.rename_columns([names[i] for i in read])
    if positions is not None and last not in positions:
        table = table.drop_columns([names[last]])
    return table, found.header


def arrow_csv(source: Source, delimiter: str, positions: list[int] | None) -> pa.Table:
    """The file as text columns named ``f0, f1, ...`` by position, the header as the first
    row; ``positions``: only those columns. A row longer than Arrow's block is read again
    with one block for the whole file. Raises ``pa.ArrowInvalid`` (or ``UnicodeDecodeError``
    for UTF-16/32 text that is not) for what Arrow cannot read."""
    try:
        return _arrow(source, delimiter, positions, ARROW_BLOCK)
    except pa.ArrowInvalid as exc:
        # "straddling object straddles two block boundaries": a row longer than a block;
        # "Empty CSV file or block": a header longer than one.
        message = str(exc)
        if source.size < ARROW_BLOCK // 4 or not (
            "straddling" in message or "Empty CSV file or block" in message
        ):
            raise
    # Transcoded UTF-16 grows by up to half (3 UTF-8 bytes for 2), UTF-32 does not grow.
    return _arrow(source, delimiter, positions, min(ARROW_MAX_BLOCK, source.size * 2 + 1))


def _arrow(source: Source, delimiter: str, positions: list[int] | None, block: int) -> pa.Table:
    encoding = "utf8" if source.encoding in ("utf-8", "utf-8-sig") else source.encoding
    return pacsv.read_csv(
        source.path,
        read_options=pacsv.ReadOptions(
            autogenerate_column_names=True, encoding=encoding, block_size=block
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys((f"f{i}" for i in range(MAX_COLUMNS)), pa.string()),
            strings_can_be_null=False,  # an empty cell is "", turned into None per column
            include_columns=None if positions is None else [f"f{i}" for i in positions],
        ),
    )


def _text(source: Source) -> io.TextIOWrapper:
    return open(source.path, encoding=source.encoding, newline="")


# --- refusals -------------------------------------------------------------------------------


def _require_closed_quotes(found: CsvFile, last_value: str, row: int) -> None:
    """Refuse a file that ends inside a quoted value.

    Arrow ends the last value at the end of the file, newline included. The file's tail tells
    the two apart: a closed value ends with its closing quote (before any line breaks), an
    open one is the opening quote and the value (its quotes doubled) up to the very end.
    """
    escaped = '"' + last_value.replace('"', '""')
    tail = _tail(found.source, len(escaped) + 8)
    if tail.endswith(escaped) and not tail.rstrip("\r\n").endswith(escaped + '"'):
        where = _line_at(found.source, len(escaped))
        raise LoadError(
            f"{str(found.source.path)!r}: row {row:,} (line {where:,}) opens a quoted value "
            "that is never closed: the file ends inside it (cut short?); nothing was stored"
        )


def _tail(source: Source, chars: int) -> str:
    """The last ``chars`` characters of the file (or a few more)."""
    unit = 4 if "32" in source.piece_encoding else 2 if "16" in source.piece_encoding else 1
    wanted = chars * (4 if unit == 1 else unit * 2)
    start = max(0, source.size - wanted)
    start -= start % unit
    with source.path.open("rb") as f:
        f.seek(start)
        data = f.read()
    codec = source.encoding if start == 0 else source.piece_encoding
    return codecs.decode(data, codec, "ignore")


def _line_at(source: Source, chars_from_end: int) -> int:
    """The line number of the character ``chars_from_end`` before the end of the file."""
    lines = sum(piece.count("\n") for piece in _pieces(source))
    # the newlines inside the last chars_from_end characters are after the place asked about
    tail = _tail(source, chars_from_end)[-chars_from_end:]
    return lines - tail.count("\n") + 1


def _pieces(source: Source, size: int = 1 << 20) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(source.encoding)(errors="replace")
    with source.path.open("rb") as f:
        while chunk := f.read(size):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def _why_not(found: CsvFile, exc: BaseException) -> str:
    """Why Arrow could not read the file, as exactly as can be said."""
    name = repr(str(found.source.path))
    not_text = isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in str(exc)
    if not_text and (reason := _not_text(found.source)):
        return f"{name} is not a CSV file taskkit can read: {reason}"
    where = _first_bad_row(found)
    if where == _NO_ROWS:
        return "no rows to load: the data has a header but no rows"
    if where:
        return f"{name} is not a CSV file taskkit can read: {where}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{name} is not a CSV file taskkit can read: {_short(first)}"


def _first_bad_row(found: CsvFile) -> str:
    """The first row that Python's csv module finds wrong (a column count that differs from
    the header's, a quote never closed), with its line; "" if it finds none."""
    columns = len(found.header)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, found.source.size + 1))  # values as long as the file
    try:
        with _text(found.source) as f:
            reader = csv.reader(f, delimiter=found.delimiter, strict=True)
            next(reader)
            row = 0
            while True:
                line = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return "" if row else _NO_ROWS
                except csv.Error as exc:
                    what = str(exc)
                    if "end of data" in what:
                        what = "opens a quoted value that is never closed (the file ends inside it)"
                    return f"row {row + 1:,} (line {line:,}): {what}"
                row += 1
                if record and len(record) != columns:
                    return (
                        f"row {row:,} (line {line:,}) has {len(record):,} values, the header "
                        f"{columns:,} columns: {_short(found.delimiter.join(record))}"
                    )
    except (UnicodeDecodeError, OSError):
        return ""
    finally:
        csv.field_size_limit(limit)


def _not_text(source: Source) -> str:
    """Why the file is not text in its encoding (line, byte, and how to re-save it), or ""."""
    decoder = codecs.getincrementaldecoder(source.encoding)()
    consumed = lines = 0
    with source.path.open("rb") as f:
        while True:
            chunk = f.read(1 << 20)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the last chunk
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as bad:
                before = bad.object[: bad.start]
                codec = source.encoding if consumed == 0 else source.piece_encoding
                line = lines + codecs.decode(before, codec, "replace").count("\n") + 1
                at = consumed - pending + bad.start
                return _bad_bytes(source, bad.object[bad.start : bad.start + 1], line, at)
            lines += text.count("\n")
            consumed += len(chunk)
            if not chunk:
                return ""


def _bad_bytes(source: Source, byte: bytes, line: int, at: int) -> str:
    if source.piece_encoding != "utf-8":
        return f"it is not {source.described} text (line {line:,}, byte {at:,}); save it as UTF-8"
    value = byte[0] if byte else 0
    if _CONTROL.search(_head_bytes(source)):
        return (
            f"it is not text (byte {at}: 0x{value:02x}; it holds control bytes that no text "
            "file has): export the data as CSV UTF-8"
        )
    return (
        f"it is not UTF-8 text (line {line}, byte {at}: 0x{value:02x}, which is "
        f"{bytes([value]).decode('cp1252', errors='replace')!r} in Windows-1252/Latin-1); "
        "save it as UTF-8 (Excel: Save As > 'CSV UTF-8'; or "
        "iconv -f cp1252 -t utf-8 IN.csv > OUT.csv)"
    )


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _head_bytes(source: Source) -> bytes:
    with source.path.open("rb") as f:
        return f.read(1 << 16)


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f"... ({len(text):,} characters)"
