"""How taskkit speaks about a database in its messages: which database, what went wrong,
secrets hidden.

Every message about a database goes through here: :func:`describe_database` names it the
same way everywhere, :func:`what_went_wrong` turns a driver's error into one line (its first,
the way the driver put it), and :func:`redact` hides whatever secret a URL or a driver's text
can carry. :func:`database_error` puts the three together. This module imports nothing else
from taskkit but the errors, so every other module (the pooler handling included) can use it.
"""

import re
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from taskkit._errors import TaskkitError

__all__ = [
    "HIDDEN",
    "database_error",
    "describe_database",
    "is_memory_sqlite",
    "redact",
    "shown_url",
    "what_went_wrong",
]

E = TypeVar("E", bound=TaskkitError)

# The password of `scheme://user:password@host` (greedy up to the last `@` of the authority:
# an unencoded `@` in the password must not leave its tail visible).
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^\s/?#]*@")
# `name=value` where the name suggests a secret, in a URL's query string or a libpq
# `key=value` string: generous on purpose (hiding a harmless value costs nothing).
_SECRET_NAME = r"[\w.-]*(?:pass|pwd|secret|token|key|auth|cred|signature)[\w.-]*"
_SECRET_PARAMETER_IN_TEXT = re.compile(rf"(?i)(?<![\w.-])({_SECRET_NAME})(\s*=\s*)[^&\s'\"#]*")
_SECRET_NAME_ONLY = re.compile(rf"(?i){_SECRET_NAME}")
HIDDEN = "***"


def redact(text: str, url: str | URL | None = None) -> str:
    """``text`` with every secret a database URL can carry replaced by ``***``.

    Hidden wherever they appear: the password of ``scheme://user:password@``, and the value
    of any ``name=value`` whose name suggests a secret (``password``, ``sslpassword``,
    ``passwd``, ``passfile``, ``token``, ``secret``, ``api_key``, ``auth``..., any case), in a
    query string or a ``key=value`` connection string. With ``url`` (the URL the message is
    about), its password and secret query values are also hidden where they appear alone (a
    driver may echo them without the URL around them). Every message taskkit prints about a
    database goes through this function.
    """
    text = _PASSWORD_IN_TEXT.sub(rf"\1{HIDDEN}@", text)
    text = _SECRET_PARAMETER_IN_TEXT.sub(rf"\1\2{HIDDEN}", text)
    for secret in _secrets_of(url):
        text = text.replace(secret, HIDDEN)
    return text


def _secrets_of(url: str | URL | None) -> list[str]:
    if url is None:
        return []
    if isinstance(url, str):
        try:
            url = make_url(url.strip())
        except (ArgumentError, ValueError):
            return []
    values = [url.password or ""]
    for name, value in url.query.items():
        if _SECRET_NAME_ONLY.fullmatch(name):
            values += [value] if isinstance(value, str) else list(value)
    found = {v for v in values if v} | {quote(v, safe="") for v in values if v}
    return sorted(found, key=len, reverse=True)  # longest first: no half-hidden value


def describe_database(url: str | URL) -> str:
    """Which database ``url`` names, for messages: ``SQLite file '/p/x.db'``, ``SQLite
    database ':memory:'``, ``PostgreSQL database 'db' on host:5432``. Never a password."""
    if isinstance(url, str):
        url = make_url(url)
    if url.get_backend_name() == "sqlite":
        if is_memory_sqlite(url):
            return "SQLite database ':memory:'"
        return f"SQLite file {url.database!r}"
    host = url.host or "localhost"
    return redact(f"PostgreSQL database {url.database!r} on {host}:{url.port or 5432}", url)


def shown_url(url: str | URL) -> str:
    """``url`` whole, for a person to read, with its password and secret values hidden."""
    if isinstance(url, str):
        url = make_url(url)
    return redact(url.render_as_string(hide_password=True))


def is_memory_sqlite(url: URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def what_went_wrong(
    exc: BaseException, url: str | URL | None = None, *, named: bool = False
) -> str:
    """``exc`` in one line, as the driver put it, secrets hidden (``url``'s own too).

    The first line of the driver's message (``.orig`` of SQLAlchemy's wrappers: their own
    text adds the SQL and a link on further lines), or the exception's type when it says
    nothing. ``named`` puts the type first (``OperationalError: no such column: x``).
    """
    error = getattr(exc, "orig", None) or exc
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    if named and text:
        line = f"{type(error).__name__}: {line}"
    return redact(line, url)


def database_error(
    kind: type[E],
    doing: str,
    url: str | URL,
    exc: BaseException,
    *,
    named: bool = False,
    then: str = "",
) -> E:
    """``kind("{doing} {which database}: {what went wrong}{then}")``, secrets hidden
    (``named``: see :func:`what_went_wrong`).

    ``database_error(DatabaseUnavailableError, "cannot connect to", url, exc)`` says
    ``cannot connect to PostgreSQL database 'd' on h:5432: connection refused``.
    """
    reason = what_went_wrong(exc, url, named=named)
    return kind(f"{doing} {describe_database(url)}: {reason}{then}")
