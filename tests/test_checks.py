"""The argument checks every module shares (taskkit._checks), and the callers that use them."""

from typing import Any

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import taskkit
from taskkit import InvalidArgumentError, Task
from taskkit._checks import int_in_range, one_of, positive_int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "size must be an integer from 1 to 10; got 0"),
        (11, "size must be an integer from 1 to 10; got 11"),
        (True, "size must be an integer from 1 to 10; got True"),
        (2.0, "size must be an integer from 1 to 10; got 2.0"),
        ("3", "size must be an integer from 1 to 10; got '3'"),
        (None, "size must be an integer from 1 to 10; got None"),
    ],
)
def test_int_in_range_names_the_field_the_rule_and_the_value(value: Any, message: str):
    with pytest.raises(InvalidArgumentError) as info:
        int_in_range("size", value, low=1, high=10)
    assert str(info.value) == message


def test_int_in_range_accepts_its_bounds_and_numpy_integers_as_plain_ints():
    assert int_in_range("n", 0, low=0, high=5) == 0
    assert int_in_range("n", 5, low=0, high=5) == 5
    value = int_in_range("n", np.int64(3), low=0, high=5)
    assert value == 3
    assert type(value) is int


def test_a_bool_is_never_an_integer_even_numpys():
    for value in (True, False, np.bool_(True)):
        with pytest.raises(InvalidArgumentError):
            int_in_range("n", value, low=0, high=5)


def test_positive_int_says_positive_and_adds_its_note():
    assert positive_int("task_id", 7) == 7
    with pytest.raises(InvalidArgumentError) as info:
        positive_int("chunksize", -1, note="(or None for 10,000)")
    assert str(info.value) == "chunksize must be a positive integer (or None for 10,000); got -1"
    with pytest.raises(InvalidArgumentError, match="an integer from 0; got -1"):
        int_in_range("offset", -1)


def test_one_of_lists_what_is_allowed():
    assert one_of("format", "pdf", ("html", "pdf")) == "pdf"
    with pytest.raises(InvalidArgumentError) as info:
        one_of("format", "PDF", ("html", "pdf"))
    assert str(info.value) == "format must be one of html, pdf; got 'PDF'"


async def test_a_numpy_integer_page_size_works_like_an_int(engine: AsyncEngine):
    # Sizes computed in a notebook are often NumPy integers; the shared check accepts them.
    async with taskkit.session(engine) as s:
        for n in range(3):
            await taskkit.create_task(s, {"title": f"t{n}"})
        page = await taskkit.paginate(s, select(Task).order_by(Task.id), size=np.int64(2))
        assert len(page.items) == 2
        offset = await taskkit.paginate_offset(s, select(Task), page=np.int64(2), size=2)
        assert [t.title for t in offset.items] == ["t2"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: taskkit.get_task(None, 0), "task_id must be a positive integer; got 0"),  # type: ignore[arg-type]
        (
            lambda: taskkit.seed(None, tasks=-1),  # type: ignore[arg-type]
            "tasks must be an integer from 0 to 50,000,000; got -1",
        ),
    ],
)
async def test_callers_speak_with_the_shared_message(call: Any, message: str):
    with pytest.raises(InvalidArgumentError) as info:
        await call()
    assert str(info.value) == message


URL = "sqlite:///data/taskkit.db"


@pytest.mark.parametrize(
    "call",
    [
        lambda: taskkit.seed(URL),  # type: ignore[arg-type]
        lambda: taskkit.load_tasks(URL, "no-such-file.csv"),  # type: ignore[arg-type]
        lambda: taskkit.ensure_schema(URL),  # type: ignore[arg-type]
        lambda: taskkit.upgrade_schema(URL),  # type: ignore[arg-type]
        lambda: taskkit.schema_revision(URL),  # type: ignore[arg-type]
        lambda: taskkit.check_schema(URL),  # type: ignore[arg-type]
    ],
)
async def test_a_url_where_an_engine_belongs_is_refused_saying_so(call: Any):
    with pytest.raises(InvalidArgumentError) as info:
        await call()
    assert str(info.value) == (
        "engine must be an AsyncEngine, as taskkit.connect() makes (pass "
        "taskkit.connect(url), not the URL); got str"
    )
