"""Installed from its wheel, outside the checkout, `taskkit report` works, and so does
notebook 06 (the import lesson), which needs only an installed taskkit.

The notebook ships inside the wheel and the default database is ``data/taskkit.db`` of the
working directory (no project above it here), never in site-packages. Slow (it builds and
installs taskkit with its dependencies into a fresh virtual environment, once for this module):
marked `wheel`; it runs in CI (`uv run pytest` runs everything).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Installed:
    """taskkit installed from its wheel into a fresh virtual environment."""

    def __init__(self, root: Path) -> None:
        uv = shutil.which("uv")
        if uv is None:
            if os.environ.get("CI") == "true":
                pytest.fail("CI=true but uv is not on PATH")
            pytest.skip("the wheel test builds with uv")
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")}
        self.run(uv, "build", "--wheel", "--out-dir", str(root / "dist"), str(ROOT), cwd=ROOT)
        wheel = next((root / "dist").glob("taskkit-*.whl"))
        self.run(uv, "venv", "--quiet", "--python", "3.11", str(root / "venv"))
        self.python = root / "venv" / "bin" / "python"
        self.run(uv, "pip", "install", "--quiet", "--python", str(self.python), str(wheel))

    def run(self, *args: str | Path, cwd: Path | None = None) -> str:
        command = [str(a) for a in args]
        done = subprocess.run(
            command, cwd=cwd or self.root, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def work(self, name: str) -> Path:
        """An empty directory outside the checkout."""
        path = self.root / name
        path.mkdir()
        return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return Installed(tmp_path_factory.mktemp("wheel"))


@pytest.mark.wheel
def test_the_installed_wheel_writes_the_report_outside_the_checkout(installed: Installed):
    work = installed.work("report")
    output = installed.run(installed.root / "venv" / "bin" / "taskkit", "report", cwd=work)
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
    assert not list(site.rglob("*.db"))


@pytest.mark.wheel
def test_the_import_lesson_runs_from_the_installed_wheel(installed: Installed):
    """Notebook 06 reads its example export from the package (importlib.resources), so it runs
    with nothing of the checkout but the notebook itself, in the wheel's own kernel."""
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
