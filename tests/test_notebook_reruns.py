"""Every notebook survives what a learner does to it: run twice, and a cell run again later.

nbval (``uv run pytest``) runs each notebook once, from a clean kernel, in ``notebooks/``. Here
each runs twice in one kernel, then an earlier cell runs again out of order (the cell a third
of the way in, and every exercise check), then its clean-up cell. Any error fails the test; so
does a cell that waits: a session left holding SQLite's write lock makes the next writer wait
the busy timeout (30 s) and then fail with "database is locked". The kernel's working
directory is the repository root, not ``notebooks/`` (as in VS Code or some JupyterHubs): the
lessons must not depend on it.

Prints the seconds each notebook took (first run, second run, the cells run again):
``uv run pytest tests/test_notebook_reruns.py -s``.
"""

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# No cell of a lesson takes this long; a cell behind a lock takes the busy timeout and fails.
CELL_TIMEOUT_S = 240


def code_cells(notebook: nbformat.NotebookNode) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def earlier_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """The cell a third of the way in, and every cell that runs an exercise check."""
    code = code_cells(notebook)
    sources = {i: notebook.cells[i].source for i in code}
    checks = [i for i, source in sources.items() if "check_" in source and "import" not in source]
    return sorted({code[len(code) // 3], *checks})


def run_like_a_learner(path: Path, cwd: Path) -> tuple[float, float, float]:
    """Run notebook ``path`` twice in one kernel started in ``cwd``, then its earlier cells and
    its clean-up again; raises ``CellExecutionError`` at the first cell that fails. Seconds of
    the first run, the second, and the cells run again."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    code = code_cells(notebook)
    *body, clean_up = code
    seconds: list[float] = []
    with client.setup_kernel():
        for cells in (code, body, [*earlier_cells(notebook), clean_up]):
            started = time.perf_counter()
            for index in cells:
                client.execute_cell(notebook.cells[index], index)
            seconds.append(time.perf_counter() - started)
    first, second, again = seconds
    return first, second, again


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_twice_in_one_kernel_then_earlier_cells_again(path: Path):
    first, second, again = run_like_a_learner(path, cwd=ROOT)
    print(f"\n{path.stem}: first run {first:.1f} s, second {second:.1f} s, again {again:.1f} s")


def test_a_session_that_holds_a_write_across_cells_fails_the_run(tmp_path: Path):
    """What the test above catches: the next writer finds the lock and gives up."""
    cells = [
        "import sqlite3, taskkit\n"
        "from taskkit import Project\n"
        f"engine = taskkit.connect('sqlite:///{tmp_path}/held.db')\n"
        "await taskkit.create_db_and_tables(engine)",
        "held = taskkit.session(engine)  # opened in one cell, never ended\n"
        "held.add(Project(name=f'Held {id(held)}'))\n"
        "await held.flush()",
        "other = sqlite3.connect('{tmp_path}/held.db', timeout=1)  # another process\n"
        "with other:\n"
        "    other.execute(\"INSERT INTO project (name) VALUES ('other')\")".replace(
            "{tmp_path}", str(tmp_path)
        ),
        "await engine.dispose()",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(notebook, tmp_path / "held.ipynb")
    with pytest.raises(CellExecutionError, match="database is locked"):
        run_like_a_learner(tmp_path / "held.ipynb", cwd=tmp_path)
