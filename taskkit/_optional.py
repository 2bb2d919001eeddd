"""The optional extras, and the one-line hint when a feature needs one that is not installed.

``pip install taskkit`` is the core: models, sessions, queries, paging, DataFrames and import
on SQLite. The rest comes with an extra, as httpx installs ``[http2]`` on request:

* ``postgres``: asyncpg, ADBC's PostgreSQL driver, and pgpq (bulk writes in COPY's binary
  format);
* ``report``: the report (IPython, nbclient, ipykernel, mistune, matplotlib) and charts;
* ``explore``: the grid (anywidget) and ``show_sql`` (sqlparse);
* ``api``: notebooks/04-api's FastAPI app; ``all``: every one of them.
"""

import importlib
import importlib.util
from types import ModuleType

from taskkit._errors import MissingExtraError

__all__ = ["require", "require_installed"]


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """``module``, imported; or :class:`MissingExtraError` naming the extra that installs it.

    Args:
        module: the module to import (``"anywidget"``, ``"IPython.display"``).
        extra: the extra of taskkit that installs it (``"explore"``).
        feature: what needs it, for the message (``"the explore grid"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise _missing(module, extra, feature) from None


def require_installed(module: str, *, extra: str, feature: str) -> None:
    """Check that top-level ``module`` is installed, without importing it; or raise
    :class:`MissingExtraError` naming the extra that installs it.

    For modules a feature may need later or only on one path: importing them costs time
    (nbclient pulls in jsonschema, whose grammars take a second and more to build) that a run
    which never uses them should not pay.
    """
    if importlib.util.find_spec(module.partition(".")[0]) is None:
        raise _missing(module, extra, feature)


def _missing(module: str, extra: str, feature: str) -> MissingExtraError:
    package = module.partition(".")[0]
    return MissingExtraError(
        f"{feature} needs {package}, which is not installed: "
        f"pip install 'taskkit[{extra}]' (or 'taskkit[all]')"
    )
