"""Progress bars for long work: a widget in Jupyter, a bar in a terminal, silence elsewhere."""

import sys
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "wants_progress"]


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    return bool(get_ipython and type(get_ipython()).__name__ == "ZMQInteractiveShell")


def wants_progress(progress: bool | None) -> bool:
    """``progress`` as asked; ``None`` means: show it in Jupyter or on a terminal only."""
    if progress is not None:
        return bool(progress)
    return _in_jupyter() or sys.stderr.isatty()


def progress_bar(progress: bool | None, *, total: int, desc: str, unit: str = "row") -> Any:
    """A ``tqdm.auto`` bar, disabled unless :func:`wants_progress` says otherwise."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=not wants_progress(progress),
        leave=False,
    )
