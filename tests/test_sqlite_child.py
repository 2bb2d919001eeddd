"""The SQLite child: its framing, the worker's requests (served in this process, over
in-memory streams, so that every branch runs under the test suite's eye), and the client's
lifecycle of real child processes.

The worker's tests open files with ADBC's own SQLite in this process; each file is made and
checked with Python's sqlite3 only while ADBC does not have it open (two SQLite copies must
not hold one file at once: see taskkit._sqlite_child.worker).
"""

import io
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from taskkit._sqlite_child import client, protocol
from taskkit._sqlite_child.client import ChildError, SQLiteChild
from taskkit._sqlite_child.worker import GROUP_BATCHES, Worker, describe_error

SCHEMA = """
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES parent (id),
    note TEXT CHECK (note != 'bogus')
);
CREATE INDEX ix_child_note ON child (note);
"""


def make_db(path: Path, parents: int = 0) -> str:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany("INSERT INTO parent VALUES (?, ?)", [(i, f"p{i}") for i in range(parents)])
    con.commit()
    con.close()
    return str(path)


def rows_of(path: str, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def serve(*messages: tuple[dict[str, Any], pa.Table | None]) -> tuple[int, list[Any]]:
    """Run a worker over ``messages``; its exit code and its replies (with their rows)."""
    source = io.BytesIO()
    for message, data in messages:
        protocol.write(source, message, data)
    source.seek(0)
    out = io.BytesIO()
    code = Worker(source, out).serve()
    out.seek(0)
    replies = []
    while (received := protocol.read(out)) is not None:
        message, payload = received
        replies.append((message, None if payload is None else protocol.decode(payload)))
    return code, replies


def read(path: str) -> tuple[dict[str, Any], None]:
    return {"op": "read", "path": path, "busy_timeout_ms": 1000}, None


def query(*sql: str | None, checks: list[Any] | None = None, params: list[Any] | None = None):
    request = {"op": "query", "sql": list(sql), "params": params or [], "batch_rows": 2}
    return {**request, "checks": checks or []}, None


def write(path: str, *, check: bool = True, empty: list[str] | None = None):
    request = {
        "op": "write",
        "path": path,
        "busy_timeout_ms": 1000,
        "tables": ["parent", "child"],
        "empty": empty or [],
        "describe": ["SELECT count(*) FROM parent", "SELECT id, name FROM parent ORDER BY id"],
        "defer_indexes_if_empty": "child",
        "check_foreign_keys": check,
    }
    return request, None


def ingest(table: str, **columns: list[Any]) -> tuple[dict[str, Any], pa.Table]:
    return {"op": "ingest", "table": table}, pa.table(columns)


COMMIT = ({"op": "commit"}, None)


# --- the framing -----------------------------------------------------------------------------


def test_a_message_and_its_rows_come_back_as_sent() -> None:
    stream = io.BytesIO()
    table = pa.table({"n": [1, 2, None], "s": ["a", None, "c"]})
    protocol.write(stream, {"op": "ingest", "table": "t"}, table)
    protocol.write(stream, {"op": "commit"})
    stream.seek(0)
    message, payload = protocol.read(stream) or ({}, None)
    assert message == {"op": "ingest", "table": "t", "arrow": len(payload or b"")}
    assert protocol.decode(payload or b"").equals(table)
    assert protocol.read(stream) == ({"op": "commit"}, None)
    assert protocol.read(stream) is None  # the end, between messages


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"op": "commit"}', "ended inside a message"),
        (b'{"arrow": 100}\n\xff\xff', "inside a message's data"),
        (b"[1, 2]\n", "not a message"),
        (b"garbage\n", "not a message"),
    ],
)
def test_input_that_ends_or_breaks_inside_a_message_is_an_error(raw: bytes, problem: str) -> None:
    with pytest.raises(protocol.ProtocolError, match=problem):
        protocol.read(io.BytesIO(raw))


def test_an_error_is_described_in_one_line_with_its_notes() -> None:
    error = ValueError("first line\nsecond line")
    error.add_note("and the rollback failed too: x")
    assert describe_error(error) == "first line; and the rollback failed too: x"
    assert describe_error(KeyError()) == "KeyError"


# --- the worker: reads -----------------------------------------------------------------------


def test_a_read_sends_the_rows_in_batches_then_done(tmp_path: Path) -> None:
    path = make_db(tmp_path / "r.db", parents=5)
    code, replies = serve(
        read(path),
        query("SELECT id, name FROM parent WHERE id >= ? ORDER BY id", params=[1]),
        ({"op": "close"}, None),
    )
    assert code == 0
    assert [m for m, _ in replies] == [
        {"ok": True},
        {"batch": 2, "arrow": replies[1][0]["arrow"]},
        {"batch": 2, "arrow": replies[2][0]["arrow"]},
        {"done": True},
        {"ok": True},
    ]
    ids = [i for _, rows in replies[1:3] for i in rows.column("id").to_pylist()]
    assert ids == [1, 2, 3, 4]


def test_batches_after_the_first_go_several_to_a_message(tmp_path: Path) -> None:
    path = make_db(tmp_path / "g.db", parents=2 * (GROUP_BATCHES + 2) + 1)
    _, replies = serve(read(path), query("SELECT id FROM parent ORDER BY id"))
    sizes = [m["batch"] for m, _ in replies[1:-1]]
    assert sizes == [2, 2 * GROUP_BATCHES, 3]  # batch_rows 2: one, GROUP_BATCHES, the rest
    ids = [i for _, rows in replies[1:-1] for i in rows.column("id").to_pylist()]
    assert ids == list(range(2 * (GROUP_BATCHES + 2) + 1))


def test_a_first_batch_without_a_checked_type_switches_to_the_flagged_sql(tmp_path: Path) -> None:
    path = make_db(tmp_path / "s.db")
    # A full first batch (batch_rows is 2): a later batch might hold text the guess refuses.
    plain = "SELECT NULL AS note UNION ALL SELECT NULL"
    flagged = "SELECT coalesce(NULL, '') AS note, 1 AS n0 UNION ALL SELECT '', 1"
    _, replies = serve(read(path), query(plain, flagged, checks=[[0, "text"]]))
    assert [m.get("switch") for m, _ in replies[1:2]] == [True]
    assert replies[2][1].column("n0").to_pylist() == [1, 1]
    typed = "SELECT 'x' AS note UNION ALL SELECT NULL"
    _, replies = serve(read(path), query(typed, flagged, checks=[[0, "text"]]))
    assert "switch" not in replies[1][0]  # typed already: the plain SQL's rows


def test_a_result_sqlite_sorts_first_is_read_with_the_flagged_sql_from_the_start(
    tmp_path: Path,
) -> None:
    """A retry after an untyped first batch would sort the whole result again: the worker asks
    SQLite's plan, and a sorted result is read once, flagged, even when typed."""
    path = make_db(tmp_path / "sorted.db", parents=5)
    plain = "SELECT name AS note FROM parent ORDER BY name DESC"
    flagged = "SELECT coalesce(name, '') AS note, 0 AS n0 FROM parent ORDER BY name DESC"
    _, replies = serve(read(path), query(plain, flagged, checks=[[0, "text"]]))
    assert replies[1][0] == {"switch": True}
    assert [m.get("batch") for m, _ in replies[2:5]] == [2, 3, None]  # the first, then the rest
    assert replies[2][1].column_names == ["note", "n0"]  # the flagged SQL's rows
    in_order = "SELECT name AS note FROM parent ORDER BY id"  # the primary key: no sort
    _, replies = serve(read(path), query(in_order, flagged, checks=[[0, "text"]]))
    assert "switch" not in replies[1][0]


def test_a_first_batch_that_is_the_whole_result_is_sent_as_it_is(tmp_path: Path) -> None:
    path = make_db(tmp_path / "w.db")
    flagged = "SELECT coalesce(NULL, '') AS note, 1 AS n0"
    # One row of batch_rows 2: no later batch can disagree with its guessed type.
    _, replies = serve(read(path), query("SELECT NULL AS note", flagged, checks=[[0, "text"]]))
    assert [m for m, _ in replies[1:]] == [
        {"batch": 1, "arrow": replies[1][0]["arrow"]},
        {"done": True},
    ]
    assert replies[1][1].column("note").to_pylist() == [None]


def test_a_failed_request_answers_an_error_and_the_worker_stays_ready(tmp_path: Path) -> None:
    path = make_db(tmp_path / "e.db", parents=1)
    code, replies = serve(
        query("SELECT 1"),
        read(str(tmp_path / "missing" / "nowhere.db")),
        ({"op": "vacuum"}, None),
        read(path),
        query("SELECT * FROM no_such_table"),
        query("SELECT count(*) AS n FROM parent"),
    )
    assert code == 0
    errors = [m["error"] for m, _ in replies if "error" in m]
    assert errors[0] == "query before read: no database is open"
    assert "failed to open" in errors[1]
    assert errors[2] == "unknown request 'vacuum'"
    assert "no such table" in errors[3]
    assert replies[-2][1].column("n").to_pylist() == [1]


# --- the worker: writes ----------------------------------------------------------------------


def test_a_write_describes_the_database_then_commits_its_rows(tmp_path: Path) -> None:
    path = make_db(tmp_path / "w.db", parents=2)
    code, replies = serve(
        write(path),
        ingest("parent", id=[7], name=["p7"]),
        ingest("child", id=[1, 2], parent_id=[7, 0], note=["a", "b"]),
        COMMIT,
    )
    assert code == 0
    messages = [m for m, _ in replies]
    assert messages[0] == {"ok": True, "rows": [[[2]], [[0, "p0"], [1, "p1"]]]}
    assert messages[1:3] == [{"table": "parent", "rows": 1}, {"table": "child", "rows": 2}]
    assert messages[3]["done"] == {"parent": 1, "child": 2}
    # The index was dropped (no child rows yet) and built again before the commit.
    phases = set(messages[3]["seconds"])
    assert {"insert child", "index ix_child_note", "foreign key check"} <= phases
    assert rows_of(path, "SELECT count(*) FROM child") == [(2,)]
    assert rows_of(path, "SELECT name FROM sqlite_master WHERE name = 'ix_child_note'")
    assert rows_of(path, "PRAGMA integrity_check") == [("ok",)]


def test_a_write_that_empties_first_keeps_indexes_of_tables_with_rows(tmp_path: Path) -> None:
    path = make_db(tmp_path / "k.db", parents=3)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO child VALUES (1, 0, 'kept')")
    con.commit()
    con.close()
    _, replies = serve(write(path), ingest("child", id=[2], parent_id=[1], note=["new"]), COMMIT)
    assert not any(name.startswith("index") for name in replies[-1][0]["seconds"])
    _, replies = serve(write(path, empty=["child", "parent"]), COMMIT)
    assert replies[0][0]["rows"][0] == [[0]]
    assert rows_of(path, "SELECT count(*) FROM child") == [(0,)]


def test_a_missing_parent_is_refused_before_commit_and_nothing_is_stored(tmp_path: Path) -> None:
    path = make_db(tmp_path / "fk.db", parents=1)
    rows = ingest("child", id=[1, 2], parent_id=[0, 99], note=["a", "b"])
    code, replies = serve(write(path), rows, COMMIT)
    assert code == 1  # the worker exits: the parent may still have been sending
    assert replies[-1][0] == {
        "error": "FOREIGN KEY constraint failed: 1 reference(s) to missing rows, "
        "e.g. child row 2 -> parent"
    }
    assert rows_of(path, "SELECT count(*) FROM child") == [(0,)]
    code, replies = serve(write(path, check=False), rows, COMMIT)  # the caller vouches
    assert code == 0 and rows_of(path, "SELECT count(*) FROM child") == [(2,)]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([ingest("child", id=[1], parent_id=[0], note=["bogus"])], "CHECK constraint failed"),
        ([ingest("other", id=[1])], "unexpected message while writing"),
        ([ingest("child", id=[1], parent_id=[0], note=["a"])], "input ended without a commit"),
    ],
    ids=["constraint", "unknown-table", "parent-gone"],
)
def test_a_write_that_fails_midway_stores_nothing_and_ends_the_worker(
    tmp_path: Path, messages: list[Any], error: str
) -> None:
    path = make_db(tmp_path / "f.db", parents=1)
    code, replies = serve(write(path), *messages)
    assert code == 1
    assert error in replies[-1][0]["error"]
    assert rows_of(path, "SELECT count(*) FROM child") == [(0,)]
    assert rows_of(path, "SELECT name FROM sqlite_master WHERE name = 'ix_child_note'")


def test_an_aborted_write_rolls_back_and_the_worker_stays_ready(tmp_path: Path) -> None:
    path = make_db(tmp_path / "a.db", parents=1)
    code, replies = serve(
        write(path, empty=["child", "parent"]),
        ingest("child", id=[1], parent_id=[0], note=["a"]),
        ({"op": "abort"}, None),
        read(path),
        query("SELECT count(*) AS n FROM parent"),
    )
    assert code == 0
    assert replies[2][0] == {"aborted": True}
    assert replies[4][1].column("n").to_pylist() == [1]  # the emptying was rolled back too
    assert rows_of(path, "SELECT count(*) FROM child") == [(0,)]


def test_a_write_refused_before_its_rows_leaves_the_worker_ready(tmp_path: Path) -> None:
    path = make_db(tmp_path / "b.db")
    request, _ = write(path)
    code, replies = serve(
        ({**request, "describe": ["SELECT * FROM missing_table"]}, None), read(path)
    )
    assert code == 0
    assert "no such table: missing_table" in replies[0][0]["error"]
    assert replies[1][0] == {"ok": True}


# --- the client: real child processes --------------------------------------------------------


@pytest.fixture
def no_idle_children():
    SQLiteChild.stop_all()
    yield
    SQLiteChild.stop_all()


def process_exists(pid: int) -> bool:
    """Running, or ended and not yet waited for (a zombie)."""
    return Path(f"/proc/{pid}").exists()


def wait_until(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.usefixtures("no_idle_children")
def test_a_child_is_kept_for_the_next_read_and_write(tmp_path: Path) -> None:
    path = make_db(tmp_path / "c.db", parents=2)
    child = client.open_read(path)
    child.send(query("SELECT count(*) AS n FROM parent")[0])
    assert child.receive()[0]["batch"] == 1
    assert child.receive()[0] == {"done": True}
    client.close(child)
    assert SQLiteChild.idle_pids() == [child.proc.pid]
    writer, (count, _) = client.open_write(
        path,
        tables=["parent"],
        empty=[],
        describe=["SELECT count(*) FROM parent", "SELECT 1"],
        defer_indexes_if_empty=None,
        check_foreign_keys=True,
    )
    assert writer is child and count == [[2]]
    writer.send({"op": "ingest", "table": "parent"}, pa.table({"id": [5], "name": ["p5"]}))
    assert writer.receive()[0] == {"table": "parent", "rows": 1}
    writer.send({"op": "commit"})
    assert writer.receive()[0]["done"] == {"parent": 1}
    writer.release()
    assert rows_of(path, "SELECT count(*) FROM parent") == [(3,)]


@pytest.mark.usefixtures("no_idle_children")
def test_an_idle_child_ends_itself_and_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own timer (this process might hang); the parent waits for it at the next use."""
    path = make_db(tmp_path / "i.db")
    monkeypatch.setattr(SQLiteChild, "EXIT_AFTER_S", 0.3)
    child = client.open_read(path)
    client.close(child)
    assert wait_until(lambda: child.proc.poll() is not None)
    other = client.open_read(path)
    client.close(other)
    assert other is not child
    assert not process_exists(child.proc.pid)  # waited for: no zombie


@pytest.mark.usefixtures("no_idle_children")
def test_ctrl_c_is_left_to_the_parent(tmp_path: Path) -> None:
    path = make_db(tmp_path / "int.db")
    child = client.open_read(path)
    client.close(child)
    os.kill(child.proc.pid, signal.SIGINT)  # as a terminal sends it to the whole group
    time.sleep(0.3)
    again = client.open_read(path)
    client.close(again)
    assert again is child


@pytest.mark.usefixtures("no_idle_children")
@pytest.mark.parametrize("dead_before_the_call", [False, True])
def test_a_child_killed_mid_call_is_an_error_saying_so_and_is_waited_for(
    tmp_path: Path, dead_before_the_call: bool
) -> None:
    """Before, a child already dead when the call wrote to it gave "is gone (Broken pipe)"
    instead of why it ended: the test failed now and then, by which came first."""
    path = make_db(tmp_path / "k.db")
    child = client.open_read(path)
    os.kill(child.proc.pid, signal.SIGKILL)
    if dead_before_the_call:
        child.proc.wait()
    with pytest.raises(ChildError, match=r"process ended \(killed by signal 9\)") as ended:
        child.call({"op": "close"})
    assert ended.value.gone and not process_exists(child.proc.pid)
    with pytest.raises(ChildError, match="process is gone") as gone:
        child.send({"op": "close"})
    assert gone.value.gone
    child.release()  # a dead child is not kept
    assert SQLiteChild.idle_pids() == []


@pytest.mark.usefixtures("no_idle_children")
def test_an_error_reply_keeps_the_child_and_names_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ChildError, match="failed to open") as refused:
        client.open_read(str(tmp_path / "missing" / "x.db"))
    assert not refused.value.gone
    assert len(SQLiteChild.idle_pids()) == 1


@pytest.mark.usefixtures("no_idle_children")
def test_a_child_that_crashes_is_reported_with_its_last_words(tmp_path: Path) -> None:
    child = client.open_read(make_db(tmp_path / "x.db"))
    child.stdin.write(b"garbage\n")  # not a message: the worker cannot go on
    child.stdin.flush()
    with pytest.raises(ChildError, match=r"ended \(.*ProtocolError: not a message") as ended:
        child.receive()
    assert ended.value.gone and child.proc.returncode == 1
    client.close(child)  # ends nothing more, and raises nothing
    assert SQLiteChild.idle_pids() == []
