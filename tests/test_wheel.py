"""Installed from its wheel, outside the checkout: the core alone reads and writes SQLite and
names the extra each other feature needs; with ``[report]``, `taskkit report` works, and so does
notebook 06 (the import lesson), which needs only an installed taskkit.

The notebook ships inside the wheel (without its outputs) and the default database is
``data/taskkit.db`` of the working directory (no project above it here), never in
site-packages. Slow (it builds and installs taskkit with its dependencies into a fresh virtual
environment, once for this module): marked `wheel`; it runs in CI.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Installed:
    """taskkit installed from its wheel into a fresh virtual environment (the core only, until
    :meth:`install` adds an extra)."""

    def __init__(self, root: Path) -> None:
        uv = shutil.which("uv")
        if uv is None:
            if os.environ.get("CI") == "true":
                pytest.fail("CI=true but uv is not on PATH")
            pytest.skip("the wheel test builds with uv")
        self.uv, self.root = uv, root
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")}
        self.run(uv, "build", "--wheel", "--out-dir", str(root / "dist"), str(ROOT), cwd=ROOT)
        self.wheel = next((root / "dist").glob("taskkit-*.whl"))
        self.run(uv, "venv", "--quiet", "--python", "3.11", str(root / "venv"))
        self.python = root / "venv" / "bin" / "python"
        self.taskkit = root / "venv" / "bin" / "taskkit"
        self.run(uv, "pip", "install", "--quiet", "--python", str(self.python), str(self.wheel))

    def install(self, extra: str) -> None:
        spec = f"taskkit[{extra}] @ {self.wheel.as_uri()}"
        self.run(self.uv, "pip", "install", "--quiet", "--python", str(self.python), spec)

    def run(self, *args: str | Path, cwd: Path | None = None) -> str:
        done = self.call(*args, cwd=cwd)
        assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def call(self, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        return subprocess.run(
            command, cwd=cwd or self.root, env=self.env, capture_output=True, text=True
        )

    def work(self, name: str) -> Path:
        """An empty directory outside the checkout."""
        path = self.root / name
        path.mkdir()
        return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return Installed(tmp_path_factory.mktemp("wheel"))


CORE_ONLY = """
import asyncio, importlib.util
import taskkit
from sqlmodel import select

optional = ["IPython", "anywidget", "asyncpg", "matplotlib", "nbclient", "sqlparse"]
print("absent:", ", ".join(m for m in optional if importlib.util.find_spec(m) is None))

async def main():
    engine = taskkit.connect("sqlite:///core.db")
    await taskkit.ensure_schema(engine)
    await taskkit.seed(engine, tasks=20, progress=False)
    frame = await taskkit.to_dataframe(engine, select(taskkit.Task))
    print(f"frame: {len(frame)} rows, status {frame['status'].dtype}")
    async with taskkit.session(engine) as session:
        page = await taskkit.paginate(session, select(taskkit.Task), size=5)
    shown = page._repr_html_()  # what Jupyter shows
    print(f"page: {len(page)} rows shown, SQL hint {'taskkit[explore]' in shown}")
    for name, call in [
        ("explore", lambda: taskkit.explore(engine)),
        ("show_sql", lambda: taskkit.show_sql(select(taskkit.Task), engine)),
        ("connect", lambda: taskkit.connect("postgresql://u:p@localhost/db")),
    ]:
        try:
            result = call()
            if asyncio.iscoroutine(result):
                await result
        except taskkit.MissingExtraError as exc:
            print(f"{name}: {exc}")
    await engine.dispose()

asyncio.run(main())
"""


@pytest.mark.wheel
def test_the_core_alone_reads_and_writes_sqlite_and_names_the_extras(installed: Installed):
    work = installed.work("core")
    core = installed.run(installed.python, "-c", CORE_ONLY, cwd=work)
    assert core.splitlines() == [
        "absent: IPython, anywidget, asyncpg, matplotlib, nbclient, sqlparse",
        "frame: 20 rows, status category",
        "page: 5 rows shown, SQL hint True",
        "explore: the explore grid needs anywidget, which is not installed: "
        "pip install 'taskkit[explore]' (or 'taskkit[all]')",
        "show_sql: show_sql's layout needs sqlparse, which is not installed: "
        "pip install 'taskkit[explore]' (or 'taskkit[all]')",
        "connect: PostgreSQL needs asyncpg, which is not installed: "
        "pip install 'taskkit[postgres]' (or 'taskkit[all]')",
    ]
    refused = installed.call(installed.taskkit, "report", cwd=work)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: the report needs IPython, which is not installed: "
        "pip install 'taskkit[report]' (or 'taskkit[all]')"
    )


@pytest.mark.wheel
def test_the_installed_wheel_writes_the_report_outside_the_checkout(installed: Installed):
    installed.install("report")
    work = installed.work("report")
    output = installed.run(installed.taskkit, "report", cwd=work)
    assert "the default database was empty: seeded 10,000 tasks" in output
    report = Path(output.strip().splitlines()[-1])
    assert report.parent == work / "reports" and report.is_file()
    assert "<title>Task report: all projects, all dates</title>" in report.read_text("utf-8")
    assert (work / "data" / "taskkit.db").is_file()
    site = Path(
        installed.run(
            installed.python, "-c", "import taskkit, os; print(os.path.dirname(taskkit.__file__))"
        ).strip()
    )
    assert ROOT not in site.parents and (site / "_report" / "03-report.ipynb").is_file()
    shipped = json.loads((site / "_report" / "03-report.ipynb").read_text(encoding="utf-8"))
    assert all(not cell.get("outputs") for cell in shipped["cells"])  # outputs are not shipped
    assert not list(site.rglob("*.db"))


@pytest.mark.wheel
def test_the_import_lesson_runs_from_the_installed_wheel(installed: Installed):
    """Notebook 06 reads its example export from the package (importlib.resources), so it runs
    with nothing of the checkout but the notebook itself, in the wheel's own kernel."""
    installed.install("report")  # a kernel (ipykernel) and nbclient
    work = installed.work("lesson")
    shutil.copy(ROOT / "notebooks" / "06-import-tracker.ipynb", work)
    installed.run(
        installed.python,
        "-c",
        "import nbformat, sys\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read('06-import-tracker.ipynb', as_version=4)\n"
        "NotebookClient(nb, timeout=300, kernel_name='python3').execute()\n"
        "print(sum(1 for c in nb.cells if c.cell_type == 'code'), 'cells ran')",
        cwd=work,
    )
