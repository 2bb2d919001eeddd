"""One translation of database errors (taskkit._database.messages): what went wrong, which database,
secrets hidden; and the callers that used to carry their own copy."""

import sqlite3

from sqlalchemy.exc import OperationalError

import taskkit
import taskkit._database.pooler as pooler
from taskkit import DatabaseUnavailableError
from taskkit._database.messages import database_error, describe_database, shown_url, what_went_wrong


def driver_error(message: str) -> OperationalError:
    """A SQLAlchemy error wrapping a driver's, as a failed statement raises it."""
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_what_went_wrong_is_the_drivers_first_line():
    exc = driver_error("no such column: x\nsecond line")
    assert what_went_wrong(exc) == "no such column: x"
    assert what_went_wrong(exc, named=True) == "OperationalError: no such column: x"


def test_an_error_without_words_is_named_by_its_type():
    assert what_went_wrong(RuntimeError()) == "RuntimeError"
    assert what_went_wrong(RuntimeError("  \n")) == "RuntimeError"


def test_what_went_wrong_hides_secrets_in_the_text_and_the_urls_own():
    url = "postgresql://u:pw-9f2k@h/d"
    exc = driver_error("auth failed for postgresql://u:pw-9f2k@h/d, password=pw-9f2k here")
    said = what_went_wrong(exc, url)
    assert "pw-9f2k" not in said
    assert said == "auth failed for postgresql://u:***@h/d, password=*** here"


def test_database_error_names_what_failed_the_database_and_why():
    error = database_error(
        DatabaseUnavailableError,
        "cannot connect to",
        "postgresql://u:pw@h:6543/d",
        driver_error("connection refused"),
    )
    assert isinstance(error, DatabaseUnavailableError)
    assert str(error) == "cannot connect to PostgreSQL database 'd' on h:6543: connection refused"


class _Clash(Exception):
    sqlstate = "42P05"  # duplicate_prepared_statement, as asyncpg reports it behind a pooler


async def test_a_pooler_clash_names_the_database_like_every_other_message():
    url = "postgresql://u:pw@h:6543/d"
    engine = taskkit.connect(url)
    try:
        error = pooler.clash_error(
            engine, _Clash("prepared statement exists (from postgresql://admin:t0p-s3cret@h/d)")
        )
    finally:
        await engine.dispose()
    assert error is not None
    assert str(error).startswith(f"{describe_database(url)} failed with ")
    assert "t0p-s3cret" not in str(error)  # redacted by the shared rule, not only the password


def test_a_url_is_shown_whole_with_its_secrets_hidden():
    assert shown_url("postgresql+asyncpg://u:pw@h:6543/d?ssl=require&passfile=/p/x") == (
        "postgresql+asyncpg://u:***@h:6543/d?passfile=***&ssl=require"
    )
    assert shown_url("sqlite+aiosqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"
