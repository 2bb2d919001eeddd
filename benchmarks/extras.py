"""What each install of taskkit brings: distributions and megabytes, core and each extra.

    uv run python benchmarks/extras.py

Builds the wheel, then installs it into a fresh virtual environment per choice (the core,
``[postgres]``, ``[report]``, ``[explore]``, ``[api]``, ``[all]``) and prints, for each, the
number of distributions installed besides pip and the size of site-packages. uv's cache makes
the installs quick after the first.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHOICES = ["", "postgres", "report", "explore", "api", "all"]


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    uv = shutil.which("uv") or sys.exit("needs uv on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run(uv, "build", "--wheel", "--out-dir", str(work / "dist"), str(ROOT))
        wheel = next((work / "dist").glob("taskkit-*.whl"))
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e3:,.0f} kB")
        print(f"{'install':<20} {'distributions':>13} {'site-packages MB':>17}")
        for extra in CHOICES:
            venv = work / f"venv-{extra or 'core'}"
            run(uv, "venv", "--quiet", "--python", "3.11", str(venv))
            python = str(venv / "bin" / "python")
            spec = f"taskkit[{extra}] @ {wheel.as_uri()}" if extra else str(wheel)
            run(uv, "pip", "install", "--quiet", "--python", python, spec)
            names = run(uv, "pip", "freeze", "--python", python).splitlines()
            site = next((venv / "lib").glob("python*/site-packages"))
            label = f"taskkit[{extra}]" if extra else "taskkit (core)"
            print(f"{label:<20} {len(names):>13} {size_mb(site):>17,.0f}")


if __name__ == "__main__":
    main()
