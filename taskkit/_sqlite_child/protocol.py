"""The one framing of the SQLite child's pipes, used both ways.

Every message is one JSON object on one line. A message that carries data says how many bytes
follow its line (``"arrow": size``): exactly that many bytes, holding one Arrow IPC stream.
Requests name an operation (``"op"``); a reply holding ``"error"`` is a failure, in one line.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa

__all__ = [
    "DATA",
    "Message",
    "ProtocolError",
    "batches",
    "decode",
    "encode",
    "read",
    "widen_pipe",
    "write",
]

DATA = "arrow"  # the key whose value is the size of the Arrow IPC stream after the line

Message = dict[str, Any]


class ProtocolError(Exception):
    """The input ended inside a message (the other side died), or a line is not a message."""


def encode(message: Message, data: pa.Table | pa.RecordBatch | None = None) -> list[Any]:
    """The bytes of ``message`` (and of ``data`` as an Arrow IPC stream), as buffers to write
    one after the other; the stream's buffer is not copied into the line's."""
    if data is None:
        return [json.dumps(message).encode() + b"\n"]
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write(data)
    payload = sink.getvalue()
    return [json.dumps({**message, DATA: payload.size}).encode() + b"\n", payload]


def write(out: IO[bytes], message: Message, data: pa.Table | pa.RecordBatch | None = None) -> None:
    """Send one message (and its data) and flush."""
    for part in encode(message, data):
        out.write(memoryview(part))
    out.flush()


def read(source: IO[bytes]) -> tuple[Message, bytes | None] | None:
    """The next message and the bytes of its data (``None`` without data), or ``None`` when the
    input ends between messages."""
    line = source.readline()
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise ProtocolError("the input ended inside a message")
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not a message: {line[:80]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"not a message: {line[:80]!r}")
    size = message.get(DATA)
    if size is None:
        return message, None
    payload = source.read(size)
    if len(payload) < size:
        raise ProtocolError("the input ended inside a message's data")
    return message, payload


def decode(payload: bytes) -> pa.Table:
    """The rows of a message's data."""
    return pa.ipc.open_stream(payload).read_all()


def batches(payload: bytes) -> Iterator[pa.RecordBatch]:
    """The rows of a message's data, batch by batch as they were written."""
    yield from pa.ipc.open_stream(payload)


def widen_pipe(fd: int) -> None:
    """A 1 MiB pipe instead of 64 KiB: fewer wake-ups per batch (Linux; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
            fcntl.fcntl(fd, set_size, 1 << 20)
