"""Progress bars for long work: a widget in Jupyter, a bar in a terminal, silence elsewhere."""

import sys
from typing import Any

__all__ = ["progress_bar", "wants_progress"]


def _in_jupyter() -> bool:
    # Only if IPython is already loaded: importing it to ask would cost a second.
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    return bool(get_ipython and type(get_ipython()).__name__ == "ZMQInteractiveShell")


def wants_progress(progress: bool | None) -> bool:
    """``progress`` as asked; ``None`` means: show it in Jupyter or on a terminal only
    (somewhere a bar is seen, not logged)."""
    if progress is not None:
        return bool(progress)
    # sys.stderr is None under pythonw and in some embedded interpreters.
    return _in_jupyter() or (sys.stderr is not None and sys.stderr.isatty())


def progress_bar(progress: bool | None, *, total: int, desc: str, unit: str = " rows") -> Any:
    """A ``tqdm.auto`` bar (a widget in Jupyter), disabled unless :func:`wants_progress` says
    otherwise. Every bar taskkit draws is made here, so they all look alike."""
    if not wants_progress(progress):
        return _NoBar()
    # Imported only for a bar that is shown: tqdm.auto takes a few milliseconds and a
    # multiprocessing lock, a cost that every small `taskkit import --no-progress` paid.
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)


class _NoBar:
    """The bar when none is shown: the part of tqdm's interface taskkit uses, doing nothing."""

    disable = True  # as a disabled tqdm bar says

    def update(self, n: float = 1) -> None:
        pass

    def close(self) -> None:
        pass
