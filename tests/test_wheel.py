"""Installed from its wheel, outside the checkout, `taskkit report` works.

The notebook ships inside the wheel and the default database is ``data/taskkit.db`` of the
working directory (no project above it here), never in site-packages. Slow (it builds and
installs taskkit with its dependencies into a fresh virtual environment): one test, marked
`wheel`; it runs in CI (`uv run pytest` runs everything).
"""

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
    assert not list(site.rglob("*.db"))
