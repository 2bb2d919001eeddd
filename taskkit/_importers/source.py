"""What a path given to an import names: a regular file, its size, and the encoding of its text.

Nothing here opens a path before :func:`regular_file` has looked at it with ``stat``: a named
pipe (FIFO) would block the open until a writer came (forever, with none), a device never
ends, a directory cannot be read. The encoding is read from the first bytes: a byte order mark
(UTF-8, UTF-16 or UTF-32, as Excel's "Unicode text" writes UTF-16LE with one), or without one
the pattern of zero bytes that UTF-16 and UTF-32 give ASCII text (RFC 4627, section 3), else
UTF-8. This module imports only the standard library: ``taskkit import`` uses it before the
heavy libraries are loaded.
"""

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from taskkit._errors import LoadError, TaskkitError

__all__ = ["SAMPLE", "Source", "open_source", "regular_file"]

SAMPLE = 1 << 16  # bytes read to recognise the encoding, the kind (CSV or JSON) and the header

# (mark, the codec of the whole file, which drops the mark; the codec of a piece after it).
# Longest first: UTF-32LE's mark begins with UTF-16LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def regular_file(
    path: Path,
    expected: str = "a CSV or JSON file",
    error: type[TaskkitError] = LoadError,
) -> int:
    """The size of the regular file at ``path`` (a link to one is fine), looked at without
    opening it. ``expected`` says what the file should be, for the message.

    Raises:
        LoadError (or ``error``): ``path`` does not exist, cannot be looked at, or is not a
            regular file (a directory, a FIFO, a device, a socket); nothing was opened.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise error(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise error(
            f"{str(path)!r} is {kind}, not a file: give the path of {expected} "
            "(nothing was read from it)"
        )
    return info.st_size


@dataclass(frozen=True)
class Source:
    """A regular file to import, as far as its first bytes tell."""

    path: Path
    size: int
    encoding: str  # a Python codec that reads the whole file (it drops the BOM, if any)
    piece_encoding: str  # the codec of a piece of the file after the BOM (byte order named)
    head: str  # the first SAMPLE bytes as text, BOM removed, a character cut at the end dropped

    @property
    def is_json(self) -> bool:
        """An array or an object, or anything in a file named ``*.json``."""
        start = self.head.lstrip(" \t\r\n")[:1]
        return start in ("[", "{") or self.path.suffix.lower() == ".json"

    @property
    def unit(self) -> int:
        """Bytes per code unit: 1 (UTF-8), 2 (UTF-16) or 4 (UTF-32)."""
        return 4 if "32" in self.encoding else 2 if "16" in self.encoding else 1

    @property
    def described(self) -> str:
        """The encoding as people call it: ``UTF-16LE``."""
        return self.piece_encoding.upper().replace("-LE", "LE").replace("-BE", "BE")


def open_source(path: Path) -> Source:
    """Look at ``path`` (:func:`regular_file`), then read its first bytes for the encoding.

    Raises:
        LoadError: as :func:`regular_file`; or the file is empty.
    """
    size = regular_file(path)
    if size == 0:
        raise LoadError(f"{str(path)!r} is empty: expected a header line with at least 'title'")
    try:
        with path.open("rb") as f:
            head = f.read(SAMPLE)
    except OSError as exc:
        raise LoadError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if kind := _binary_kind(head):
        raise LoadError(
            f"{str(path)!r} is {kind}, not a CSV or JSON file: save or export it as CSV UTF-8 "
            "(or give the tracker's JSON export)"
        )
    encoding, piece = encodings_of(head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    return Source(path=path, size=size, encoding=encoding, piece_encoding=piece, head=text)


_MAGIC = (  # the first bytes of files people take for CSV
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls) or Office file"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"%PDF-", "a PDF document"),
    (b"SQLite format 3\x00", "a SQLite database"),
)


def _binary_kind(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return ""


def encodings_of(head: bytes) -> tuple[str, str]:
    """The codecs (whole file, piece after the BOM) of text that begins with ``head``: from its
    BOM; else from where the zero bytes fall in its first four (RFC 4627: the first two
    characters are ASCII, as a header's or a JSON document's are); else UTF-8."""
    for mark, whole, piece in _BOMS:
        if head.startswith(mark):
            return whole, piece
    zero = [b == 0 for b in head[:4]]
    found = "utf-8"
    if zero == [True, True, True, False]:
        found = "utf-32-be"
    elif zero == [False, True, True, True]:
        found = "utf-32-le"
    elif len(zero) == 4 and zero[0] and zero[2] and not zero[1]:
        found = "utf-16-be"
    elif len(zero) == 4 and zero[1] and zero[3] and not zero[0]:
        found = "utf-16-le"
    return found, found
