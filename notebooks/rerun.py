"""Re-execute notebooks and store their outputs, the ones the test suite compares (nbval).

    uv run python notebooks/rerun.py                  # every notebook but 03-report
    uv run python notebooks/rerun.py 02a-models 04-api

For each notebook: the paired ``.py`` file (jupytext ``py:percent``) is synced into the
``.ipynb`` first (the newer of the two wins, outputs are kept), the notebook is executed from a
clean kernel with ``notebooks/`` as its working directory (as nbval runs it), its cells' run
timestamps are dropped (they change on every run and nothing reads them), and the pair is
synced again. Prints the time each notebook took. ``03-report`` is the report template: it is
executed by ``taskkit report`` with parameters, and only on request here.
"""

import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
SKIPPED_BY_DEFAULT = {"03-report"}


def sync(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)], check=True, cwd=HERE
    )


def rerun(name: str) -> float:
    """Execute notebook ``name`` (without extension) and store its outputs; seconds taken."""
    notebook_path, text_path = HERE / f"{name}.ipynb", HERE / f"{name}.py"
    sync(text_path if text_path.exists() else notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    )
    client.execute()
    seconds = time.perf_counter() - started
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, notebook_path)
    sync(notebook_path)
    return seconds


def main(names: list[str]) -> int:
    if not names:
        names = sorted(p.stem for p in HERE.glob("*.ipynb") if p.stem not in SKIPPED_BY_DEFAULT)
    failed = []
    for name in names:
        try:
            seconds = rerun(name.removesuffix(".ipynb").removesuffix(".py"))
        except CellExecutionError as e:
            print(f"{name}: a cell failed; its outputs were kept\n{e}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name}: {seconds:.1f} s")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
