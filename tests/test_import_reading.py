"""Reading files as they come: quoted multi-line values at any size, a BOM, `;` separators,
text that is not UTF-8; each problem one clear message, and nothing stored."""

import asyncio
import codecs
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import taskkit
from taskkit import LoadError, cli, load_tasks
from tests.conftest import make_engine, postgres_url
from tests.helpers import snapshot
from tests.test_load import EXAMPLE, tasks_of, write_csv


async def test_quoted_multiline_values_load_in_a_file_of_several_megabytes(engine, tmp_path):
    # Arrow cuts a file into blocks of about 1 MB; without newlines_in_values a block boundary
    # inside a quoted value fails ("CSV parser got out of sync with chunker").
    lines = ["title,description"]
    for i in range(20_000):
        multi = f'"line one of {i}\n' + "long line, with a comma " * 4 + '\n""quoted"" line three"'
        lines.append(f"task {i},{multi if i % 2 == 0 else 'plain text ' * 8}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 2_000_000
    summary = await load_tasks(engine, path, progress=False)
    assert summary.tasks == 20_000
    first = (await tasks_of(engine))[0]
    assert first.description == (
        "line one of 0\n" + "long line, with a comma " * 4 + '\n"quoted" line three'
    )


@pytest.mark.parametrize("first", ["id", "created_at"])
async def test_a_bom_before_a_numeric_or_date_first_column_is_read(engine, tmp_path, first):
    value = {"id": "7", "created_at": "2025-01-02T03:04:05Z"}[first]
    path = tmp_path / "bom.csv"
    path.write_bytes(f"\ufeff{first},title\n{value},x\n".encode())
    summary = await load_tasks(engine, path, progress=False)
    assert summary.tasks == 1 and summary.ignored == []
    task = (await tasks_of(engine))[0]
    assert (task.id == 7) if first == "id" else (task.created_at.year == 2025)


async def test_semicolon_separated_files_are_recognised(engine, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("title;status;workers\nshort, with comma;completed;Ann\n", encoding="utf-8")
    await load_tasks(engine, path, progress=False)
    task = (await tasks_of(engine))[0]
    assert (task.title, task.status) == ("short, with comma", "completed")


async def test_a_latin1_file_is_refused_naming_line_byte_and_how_to_resave(engine, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("title\nok\nCafé crème\n".encode("cp1252"))
    before = await snapshot(engine)
    with pytest.raises(LoadError) as info:
        await load_tasks(engine, path, progress=False)
    message = str(info.value)
    assert "not UTF-8 text (line 3, byte 12: 0xe9, which is 'é' in Windows-1252" in message
    assert "CSV UTF-8" in message and "iconv -f cp1252 -t utf-8" in message
    assert "\n" not in message
    assert await snapshot(engine) == before


async def test_unmapped_columns_are_ignored_and_listed(engine, tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("title,colour,statuss\nx,red,done\n", encoding="utf-8")
    summary = await load_tasks(engine, path, progress=False)
    assert summary.ignored == ["colour", "statuss"]
    assert "ignored 2 columns nobody mapped: 'colour', 'statuss'" in str(summary)


READ_AHEAD_CASES = {
    "bom.csv": "\ufeffid,title\n7,x\n".encode(),
    "multiline.csv": b'title,description\nx,"one\ntwo, ""three"""\ny,plain\n',
    "semicolons.csv": b"title;status\nx;pending\n",
    "repeated.csv": b"Summary,Issue key,Labels,Labels\nx,A-1,a,b\n",
    "latin1.csv": "title\ncaf\u00e9\n".encode("cp1252"),
    "ragged.csv": b"title,status\nx,pending,extra\n",
    "header-only.csv": b"title,status\n",
}


@pytest.mark.parametrize("name", sorted(READ_AHEAD_CASES))
def test_a_file_read_ahead_reads_as_a_file_read_then(tmp_path, name):
    """`taskkit import` starts Arrow on the file before it has imported the rest: the table
    (or the error) is the same as reading it when asked."""
    from taskkit._importers import readahead
    from taskkit._importers.reading import read_file

    path = tmp_path / name
    path.write_bytes(READ_AHEAD_CASES[name])

    def read() -> object:
        try:
            raw = read_file(path, select=lambda header: set(header[:1]))
        except LoadError as exc:
            return str(exc)
        return raw.header, raw.table.to_pydict()

    plain = read()
    readahead.start(path)
    assert read() == plain
    assert readahead.take(path, ",", None) is None  # used once, then gone


def test_read_ahead_holds_the_whole_file_as_text_columns(tmp_path):
    from taskkit._importers import readahead

    path = tmp_path / "in.csv"
    path.write_bytes(b"title,Labels,Labels\nx,a,b\n")
    readahead.start(path)
    table = readahead.take(path, ",", [0, 2])
    assert table is not None and table.to_pydict() == {"f0": ["title", "x"], "f2": ["Labels", "b"]}
    readahead.start(tmp_path / "missing.csv")  # never raises; the reader says what is wrong
    assert readahead.take(tmp_path / "missing.csv", ",", None) is None


# --- encodings, field sizes, headers, quotes (issue 23) --------------------------------------

TEXTS = ["Café crème", "naïve 😀 emoji", "plain"]


@pytest.fixture
async def sqlite_engine(tmp_path):
    """Reading does not depend on the database: one backend is enough."""
    eng = await make_engine("sqlite-file", tmp_path)
    yield eng
    await eng.dispose()


def encoded(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding``; ``-bom`` names a BOM written before a byte order given."""
    if encoding.endswith("-bom"):
        codec = encoding.removesuffix("-bom")
        mark = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}[codec]
        return mark + text.encode(codec)
    return text.encode(encoding)


ENCODINGS = [
    "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-16-be-bom",
    "utf-32", "utf-32-le", "utf-32-be", "utf-32-be-bom",
]  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("kind", ["csv", "tsv", "json"])
async def test_utf16_and_utf32_files_with_or_without_a_bom_are_read(
    sqlite_engine, tmp_path, encoding, kind
):
    if kind == "json":
        text = json.dumps([{"title": t, "status": "pending"} for t in TEXTS], ensure_ascii=False)
    else:
        sep = "\t" if kind == "tsv" else ","
        text = f"title{sep}status\n" + "".join(f"{t}{sep}pending\n" for t in TEXTS)
    path = tmp_path / f"in.{kind}"
    path.write_bytes(encoded(text, encoding))
    summary = await load_tasks(sqlite_engine, path, progress=False)
    assert summary.tasks == 3 and summary.ignored == []
    assert [t.title for t in await tasks_of(sqlite_engine)] == TEXTS


def test_excels_unicode_text_imports_from_the_command_line(tmp_path):
    """Excel's "Unicode text" (*.txt): UTF-16LE with a BOM, tab separated, CRLF."""
    path = tmp_path / "export.txt"
    path.write_bytes(("title\tdescription\r\nCafé\tmit Ümlaut\r\n").encode("utf-16"))
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = CliRunner().invoke(cli, ["import", str(path), "--db", url, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "loaded 1 task (" in result.output


async def test_text_that_is_not_utf16_names_the_encoding_line_and_byte(sqlite_engine, tmp_path):
    path = tmp_path / "bad16.csv"
    data = "title\nok\n".encode("utf-16-le") + b"\x00\xd8" + "x\n".encode("utf-16-le")
    path.write_bytes(codecs.BOM_UTF16_LE + data)  # a high surrogate, then no low one
    with pytest.raises(LoadError) as info:
        await load_tasks(sqlite_engine, path, progress=False)
    message = str(info.value)
    assert "it is not UTF-16LE text (line 3, byte 20)" in message and "\n" not in message


def test_the_hint_for_a_windows_1252_file_works_when_followed(tmp_path):
    """The refusal says to run iconv: doing so gives a file that imports with the right text."""
    path = tmp_path / "latin1.csv"
    path.write_bytes("title\nCafé crème à 5 €\n".encode("cp1252"))
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    refused = CliRunner().invoke(cli, ["import", str(path), "--db", url, "--no-progress"])
    assert refused.exit_code == 1
    command = re.search(r"(iconv [^)]*)\)", refused.output)
    assert command is not None, refused.output
    fixed = tmp_path / "utf8.csv"
    argv = shlex.split(command.group(1).replace("IN.csv", str(path)).replace("OUT.csv", ""))
    with fixed.open("wb") as out:
        subprocess.run(argv[: argv.index(">")], stdout=out, check=True)
    done = CliRunner().invoke(cli, ["import", str(fixed), "--db", url, "--no-progress"])
    assert done.exit_code == 0, done.output
    engine = taskkit.connect(url)
    try:
        titles = [t.title for t in asyncio.run(all_tasks(engine))]
    finally:
        asyncio.run(engine.dispose())
    assert titles == ["Café crème à 5 €"]


async def all_tasks(engine) -> list[taskkit.Task]:
    return await tasks_of(engine)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_a_value_longer_than_arrows_block_is_read_whole(sqlite_engine, tmp_path, encoding):
    # Arrow reads blocks of 1 MiB: a longer row failed with "straddling object straddles two
    # block boundaries (try to increase block size?)".
    # A row over two blocks long, under the model's 1 Mi characters: 2.6 MB in UTF-8.
    long = "€" * 800_000 + "\n" + "x" * 200_000
    path = tmp_path / "long.csv"
    path.write_bytes(encoded(f'title,description\nshort,"{long}"\nnext,plain\n', encoding))
    summary = await load_tasks(sqlite_engine, path, progress=False)
    assert summary.tasks == 2
    assert [t.description for t in await tasks_of(sqlite_engine)] == [long, "plain"]


async def test_a_header_longer_than_arrows_block_is_read(sqlite_engine, tmp_path):
    names = ["title", *(f"extra column {i} " + "n" * 400 for i in range(3_000))]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + "x" + "," * 3_000 + "\n", encoding="utf-8")
    assert path.stat().st_size > 1 << 20
    summary = await load_tasks(sqlite_engine, path, progress=False)
    assert summary.tasks == 1 and len(summary.ignored) == 3_000


async def test_a_million_columns_are_refused_with_the_count(sqlite_engine, tmp_path):
    path = tmp_path / "million.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\nx\n", encoding="utf-8")
    with pytest.raises(
        LoadError, match="has 1,000,000 columns in its header; taskkit reads at most 4,096"
    ):
        await load_tasks(sqlite_engine, path, progress=False)


UNCLOSED = {  # file -> (row, line) of the value whose quote is never closed
    'title,description\nx,"abc\n': (1, 2),
    'title,description\nx,"abc': (1, 2),
    'title,description\nx,y\nz,"one\ntwo ""quoted""\n\n': (2, 3),
    'title,description\nx,""""\ny,"': (2, 3),
    'title,description\n"x,abc\n': (1, 2),  # in the first column: the row is short too
}


@pytest.mark.parametrize("text", sorted(UNCLOSED))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_a_file_that_ends_inside_a_quoted_value_is_refused_naming_the_row(
    sqlite_engine, tmp_path, text, encoding
):
    path = tmp_path / "cut.csv"
    path.write_bytes(encoded(text, encoding))
    row, line = UNCLOSED[text]
    with pytest.raises(LoadError) as info:
        await load_tasks(sqlite_engine, path, progress=False)
    message = str(info.value)
    assert f"row {row} (line {line})" in message and "never closed" in message, message
    assert await snapshot(sqlite_engine) == {t: [] for t in (await snapshot(sqlite_engine))}


CLOSED = {  # files whose last value is closed, however it looks: read as written
    'title,description\nx,"a"""\n': 'a"',
    'title,description\nx,""\n\n\n': None,
    'title,description\nx,""""': '"',
    'title,description\nx,5" screen\n': '5" screen',
    'title,description\nx,"multi\nline"': "multi\nline",
    'title,description\r\nx,"crlf"\r\n': "crlf",
}


@pytest.mark.parametrize("text", sorted(CLOSED))
async def test_a_last_value_that_is_closed_is_read_as_written(sqlite_engine, tmp_path, text):
    path = tmp_path / "ok.csv"
    path.write_text(text, encoding="utf-8", newline="")
    await load_tasks(sqlite_engine, path, progress=False)
    assert [t.description for t in await tasks_of(sqlite_engine)] == [CLOSED[text]]


async def test_a_ragged_row_is_named_with_its_line(sqlite_engine, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('title,status\na,pending\n"b\nc",pending\nd,pending,extra\n', encoding="utf-8")
    with pytest.raises(LoadError, match=r"row 3 \(line 5\) has 3 values, the header 2 columns"):
        await load_tasks(sqlite_engine, path, progress=False)


# --- what is not a file ----------------------------------------------------------------------

SPECIAL = ["fifo", "directory", "/dev/zero", "/dev/null"]


def special(tmp_path: Path, kind: str) -> Path:
    if kind.startswith("/"):
        return Path(kind)
    path = tmp_path / f"{kind}.csv"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    return path


@pytest.mark.parametrize("kind", SPECIAL)
def test_load_tasks_refuses_fifos_devices_and_directories_at_once(tmp_path, kind):
    """In a child process with a deadline: a FIFO with no writer blocks its first open."""
    path = special(tmp_path, kind)
    code = (
        "import asyncio, sys, taskkit\n"
        "async def main():\n"
        f"    engine = taskkit.connect('sqlite:///{tmp_path / 'db.sqlite'}')\n"
        "    await taskkit.create_db_and_tables(engine)\n"
        "    try:\n"
        f"        await taskkit.load_tasks(engine, {str(path)!r})\n"
        "    except taskkit.LoadError as exc:\n"
        "        print(exc)\n"
        "    finally:\n"
        "        await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    what = {"fifo": "a named pipe (FIFO)", "directory": "a directory"}.get(
        kind, "a character device"
    )
    assert f"is {what}, not a file" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("option", ["FILE", "--mapping"])
def test_the_cli_refuses_fifos_devices_and_directories_in_one_line(tmp_path, kind, option):
    path = special(tmp_path, kind)
    db = tmp_path / "db.sqlite"
    args = [str(path)] if option == "FILE" else [str(EXAMPLE), "--mapping", str(path)]
    done = subprocess.run(
        [sys.executable, "-m", "taskkit", "import", *args, "--db", f"sqlite:///{db}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode in (1, 2), done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and lines[-1].startswith("Error:"), done.stderr
    assert "directory" in lines[-1] or "not a file" in lines[-1], lines[-1]
    assert not db.exists()


# --- a refused import creates nothing --------------------------------------------------------


@pytest.mark.parametrize("content", ["title,status\nx,done\n", '[{"title": "\\ud800"}]', "title\n"])
def test_a_refused_import_into_a_new_sqlite_file_creates_nothing(tmp_path, content):
    path = tmp_path / ("in.json" if content.startswith("[") else "in.csv")
    path.write_text(content, encoding="utf-8")
    db = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["import", str(path), "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.postgres
def test_a_refused_import_into_an_empty_postgres_database_creates_no_table(tmp_path):
    url = postgres_url()

    async def on_server(*statements: str) -> list[str]:
        engine = taskkit.connect(url)  # one engine per event loop (asyncpg)
        try:
            async with engine.begin() as conn:
                for sql in statements:
                    result = await conn.execute(text(sql))
                return [r[0] for r in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def restore() -> None:
        engine = taskkit.connect(url)
        try:
            await taskkit.ensure_schema(engine)  # as the other tests expect it
        finally:
            await engine.dispose()

    path = write_csv(tmp_path, "title,status\nx,done\n")
    try:
        asyncio.run(on_server("DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
        result = CliRunner().invoke(cli, ["import", str(path), "--db", url])
        assert result.exit_code == 1, result.output
        tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        assert asyncio.run(on_server(tables)) == []
    finally:
        asyncio.run(on_server("DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
        asyncio.run(restore())


# --- JSON: nesting, surrogates, memory, read in pieces ---------------------------------------


@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_json_nested_deeper_than_pythons_parser_is_a_load_error(
    sqlite_engine, tmp_path, depth
):
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    with pytest.raises(LoadError, match=r"nested too deeply .* \(line 1, column 2\)"):
        await load_tasks(sqlite_engine, path, progress=False)


def test_a_value_too_deep_to_write_as_json_text_is_a_load_error():
    """A nested value becomes its JSON text for its column; too deep for that: a LoadError."""
    from taskkit._importers.reading import records_table

    deep: list = []
    for _ in range(sys.getrecursionlimit() + 10):
        deep = [deep]
    with pytest.raises(LoadError, match="nested too deeply"):
        records_table([{"title": "x", "extra": deep}])


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "ok \\ud83d then"])
async def test_a_lone_surrogate_in_json_names_the_row_and_field(sqlite_engine, tmp_path, escape):
    path = tmp_path / "surrogate.json"
    path.write_text(f'[{{"title": "fine"}}, {{"title": "{escape}"}}]', encoding="utf-8")
    with pytest.raises(LoadError, match=r"row 2: title: .* is half of a UTF-16 surrogate pair"):
        await load_tasks(sqlite_engine, path, progress=False)


async def test_a_lone_surrogate_in_a_dataframe_is_a_load_error(sqlite_engine):
    frame = pd.DataFrame({"title": ["ok", "bad \ud800"]}, dtype=object)  # pandas' str refuses it
    with pytest.raises(LoadError, match="row 2: title: '\\\\ud800' is half of a UTF-16"):
        await load_tasks(sqlite_engine, frame, progress=False)


def github_issues(n: int) -> list[dict]:
    """REST API issues, each with the nested objects the API writes."""
    user = {f"field_{k}": f"https://api.example.com/users/someone/{k}" for k in range(18)}
    return [
        {
            "url": f"https://api.github.com/repos/acme/app/issues/{i}",
            "html_url": f"https://github.com/acme/app/issues/{i}",
            "number": i,
            "title": f"Issue {i} ünïcode 😀",
            "state": "open",
            "user": {**user, "login": f"dev{i % 9}"},
            "assignees": [{**user, "login": f"dev{i % 7}"}],
            "labels": [{"id": i % 5, "name": "bug", "color": "d73a4a", "description": "Bug"}],
            "body": "Steps to reproduce, and what happened. " * 8,
            "created_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-02T10:00:00Z",
            "closed_at": None,
            "reactions": {"total_count": 0, "+1": 0, "-1": 0},
        }
        for i in range(1, n + 1)
    ]


def test_a_json_export_is_read_in_at_most_three_times_its_size(tmp_path):
    """Peak memory of reading and checking a 45 MB GitHub export, over the same process's
    peak after a small one (the libraries, the interpreter): 5 to 8.5 times the file before."""
    small, big = tmp_path / "small.json", tmp_path / "big.json"
    small.write_text(json.dumps(github_issues(20), ensure_ascii=False), encoding="utf-8")
    with big.open("w", encoding="utf-8") as f:
        json.dump(github_issues(16_000), f, ensure_ascii=False, indent=1)
    size = big.stat().st_size
    assert size > 40 << 20, size
    code = (
        "import resource, sys\n"
        "from taskkit._importers.load import prepare_import\n"
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "assert prepare_import(sys.argv[1]).converted.rows == 20\n"
        "before = peak()\n"
        "assert prepare_import(sys.argv[2]).converted.rows == 16_000\n"
        "print(peak() - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(small), str(big)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) <= 3 * size, f"{int(done.stdout) / size:.2f}x the file"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
documents = st.one_of(
    st.lists(
        st.dictionaries(st.sampled_from(["id", "a", "b"]), json_values, max_size=3), max_size=8
    ),
    st.dictionaries(st.sampled_from(["cards", "lists", "x"]), st.lists(json_values, max_size=6)),
    json_values,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    document=documents,
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32-be"]),
    chunk=st.integers(1, 64),
    cut=st.integers(0, 200),
)
def test_json_read_in_pieces_is_what_json_loads_gives(
    tmp_path, monkeypatch, document, indent, ascii_only, encoding, chunk, cut
):
    """Pieces of a few bytes cut values, strings, escapes, numbers and characters anywhere;
    a broken document is refused where json.loads refuses it (line and column)."""
    from taskkit._importers import jsonfile
    from taskkit._importers.source import open_source

    monkeypatch.setattr(jsonfile, "CHUNK", chunk)
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    broken = cut < len(text) and cut % 3 == 0
    if broken:
        text = text[:cut] + "}" + text[cut:]
    path = tmp_path / "doc.json"
    path.write_bytes(text.encode(encoding))
    try:
        expected: object = json.loads(text)
    except json.JSONDecodeError as exc:
        expected = f"(line {exc.lineno:,}, column {exc.colno:,})"
    try:
        got: object = jsonfile.read_json(open_source(path))
    except LoadError as exc:
        got = re.search(r"\(line [\d,]+, column [\d,]+\)$", str(exc)).group(0)  # type: ignore[union-attr]
    assert got == expected
