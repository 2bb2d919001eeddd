"""Installed from its wheel, outside the checkout: the core alone reads and writes SQLite,
names the extra each other feature needs, and with ``[report]`` `taskkit report` works.

The notebook ships inside the wheel and the default database is ``data/taskkit.db`` of the
working directory (no project above it here), never in site-packages. Slow (it builds and
installs taskkit with its dependencies into a fresh virtual environment): one test, marked
`wheel`; it runs in CI (`uv run pytest` runs everything).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.wheel
def test_the_installed_wheel_writes_the_report_outside_the_checkout(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but uv is not on PATH")
        pytest.skip("the wheel test builds with uv")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")}

    def run(*args: str, cwd: Path = tmp_path) -> str:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run(uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT), cwd=ROOT)
    wheel = next((tmp_path / "dist").glob("taskkit-*.whl"))
    run(uv, "venv", "--quiet", "--python", "3.11", str(tmp_path / "venv"))
    python = tmp_path / "venv" / "bin" / "python"
    run(uv, "pip", "install", "--quiet", "--python", str(python), str(wheel))
    work = tmp_path / "work"
    work.mkdir()

    # The core: no report, grid, PostgreSQL or notebook packages, yet SQLite and DataFrames.
    core = run(str(python), "-c", CORE_ONLY, cwd=work)
    assert core.splitlines() == [
        "absent: IPython, anywidget, asyncpg, matplotlib, nbclient, sqlparse",
        "frame: 20 rows, status category",
        "explore: the explore grid needs anywidget, which is not installed: "
        "pip install 'taskkit[explore]' (or 'taskkit[all]')",
        "show_sql: show_sql's layout needs sqlparse, which is not installed: "
        "pip install 'taskkit[explore]' (or 'taskkit[all]')",
        "connect: PostgreSQL needs asyncpg, which is not installed: "
        "pip install 'taskkit[postgres]' (or 'taskkit[all]')",
    ]
    refused = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "taskkit"), "report"], cwd=work, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: the report needs IPython, which is not installed: "
        "pip install 'taskkit[report]' (or 'taskkit[all]')"
    )

    run(
        uv,
        "pip",
        "install",
        "--quiet",
        "--python",
        str(python),
        f"taskkit[report] @ {wheel.as_uri()}",
    )
    output = run(str(tmp_path / "venv" / "bin" / "taskkit"), "report", cwd=work)
    assert "the default database was empty: seeded 10,000 tasks" in output
    report = Path(output.strip().splitlines()[-1])
    assert report.parent == work / "reports" and report.is_file()
    assert "<title>Task report: all projects, all dates</title>" in report.read_text("utf-8")
    assert (work / "data" / "taskkit.db").is_file()
    site = Path(
        run(
            str(python), "-c", "import taskkit, os; print(os.path.dirname(taskkit.__file__))"
        ).strip()
    )
    assert ROOT not in site.parents and (site / "_report" / "03-report.ipynb").is_file()
    shipped = json.loads((site / "_report" / "03-report.ipynb").read_text(encoding="utf-8"))
    assert all(not cell.get("outputs") for cell in shipped["cells"])  # outputs are not shipped
    assert not list(site.rglob("*.db"))


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
