"""Running a notebook for the report: in this process, or in a kernel when inside Jupyter."""

import pytest
from nbclient.exceptions import CellExecutionError

from taskkit import NotFoundError
from taskkit._report.execute import _in_kernel, execute_notebook


def notebook(*sources: list[str], tags: tuple[str, ...] = ()) -> dict:
    cells = [
        {"cell_type": "code", "id": f"c{i}", "metadata": {"tags": list(tags) if i == 0 else []},
         "source": source, "outputs": [], "execution_count": None}
        for i, source in enumerate(sources)
    ]  # fmt: skip
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_cells_run_in_process_with_parameters_rich_outputs_and_top_level_await():
    nb = notebook(
        ["n = 1  # default\n"],
        ["import asyncio\n", "await asyncio.sleep(0)\n", "print('hi')\n", "n * 2\n"],
        tags=("parameters",),
    )
    done = execute_notebook(nb, {"n": 21})
    assert done["cells"][1]["id"] == "injected-parameters"  # fixed: reproducible
    outputs = done["cells"][2]["outputs"]
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    assert outputs[1]["data"]["text/plain"] == "42"
    assert nb["cells"][0]["outputs"] == []  # the input notebook is left as it was


def test_an_error_in_a_cell_keeps_its_type_and_the_next_run_starts_clean():
    with pytest.raises(NotFoundError, match="no such thing"):
        execute_notebook(
            notebook(["leftover = 1\n", "from taskkit import NotFoundError\n"],
                     ["raise NotFoundError('no such thing')\n"]), {}
        )  # fmt: skip
    done = execute_notebook(notebook(["'leftover' in dir()\n"]), {})
    assert done["cells"][1]["outputs"][0]["data"]["text/plain"] == "False"


def test_in_a_kernel_too_a_taskkit_error_keeps_its_type_and_another_error_says_its_cell():
    """Before, run where IPython was already started (another test's shell, a notebook), the
    kernel path raised nbclient's CellExecutionError for every error, a NotFoundError too."""
    with pytest.raises(NotFoundError, match=r"^no such thing$"):
        _in_kernel(notebook(["from taskkit import NotFoundError\n"],
                            ["raise NotFoundError('no such thing')\n"]))  # fmt: skip
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        _in_kernel(notebook(["1 / 0\n"]))


def test_the_kernel_fallback_runs_cells_whose_source_is_a_list_of_lines():
    done = _in_kernel(notebook(["x = 20\n", "x + 1\n"], ["print(x)\n"]))
    assert done["cells"][0]["outputs"][0]["data"]["text/plain"] == "21"
    assert done["cells"][1]["outputs"][0]["text"] == "20\n"
