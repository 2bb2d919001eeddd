"""Build hook: the wheel carries the report notebook (edited and tested in notebooks/) without
its stored outputs, which are two thirds of the file and are made again on every run."""

import json
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "notebooks/03-report.ipynb"
TARGET = "taskkit/_report/03-report.ipynb"


def without_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook with every code cell's outputs and execution count cleared."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return notebook


class ReportNotebookHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        notebook = json.loads(Path(self.root, SOURCE).read_text(encoding="utf-8"))
        stripped = Path(tempfile.mkdtemp(prefix="taskkit-build-")) / "03-report.ipynb"
        text = json.dumps(without_outputs(notebook), indent=1, ensure_ascii=False) + "\n"
        stripped.write_text(text, encoding="utf-8")
        build_data["force_include"][str(stripped)] = TARGET
