"""Run a coroutine to its end from synchronous code: the commands, the report, a new file's
bulk write.

``asyncio.run`` refuses to start inside a running event loop, and a Jupyter notebook's cells
run inside one: ``taskkit.cli`` run from a cell (click's ``CliRunner``) would fail with
``RuntimeError``. There the coroutine runs to its end in a thread of its own, with a loop of
its own, while the caller waits: what a synchronous call means. (The caller's loop is blocked
meanwhile, as by any synchronous call; nothing of it is used.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["off_running_loop", "run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, or, inside a running event loop, the same in a thread of its
    own; its result or exception comes back here."""
    return off_running_loop(lambda: asyncio.run(coro))


def off_running_loop(call: Callable[[], T]) -> T:
    """``call()``, which may start an event loop of its own (``asyncio.run``, an in-process
    IPython running a notebook): here, or in a thread of its own when an event loop runs in
    this one; its result or exception comes back here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="taskkit-run") as pool:
        return pool.submit(call).result()
