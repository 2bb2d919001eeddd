"""Reading files as they come: quoted multi-line values at any size, a BOM, `;` separators,
text that is not UTF-8; each problem one clear message, and nothing stored."""

import pytest

from taskkit import LoadError
from taskkit._load import load_tasks
from tests.helpers import snapshot
from tests.test_load import tasks_of


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
    assert "ignored 2 column(s) nobody mapped: 'colour', 'statuss'" in str(summary)


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
