"""Execute the report notebook in this process, outputs captured as a notebook's would be.

papermill starts a kernel (a second Python that imports pandas and matplotlib again) and talks
to it over ZeroMQ: seconds before the first cell runs. The report's cells run here instead,
in an IPython shell, which gives them what a kernel does: top-level ``await``, rich display
(``display``, the value of a cell's last line, inline matplotlib figures). Inside a running
Jupyter kernel (a user calling :func:`taskkit._report.run_report` from a notebook) the shell is
taken, so the notebook runs in a kernel of its own through nbclient.
"""

import copy
import functools
from typing import Any

from taskkit._errors import TaskkitError

__all__ = ["execute_notebook", "parameters_cell"]


def parameters_cell(parameters: dict[str, Any]) -> str:
    """The code that sets the report's parameters (run after the ``parameters`` cell)."""
    return "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())


def _with_parameters(nb: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``nb`` with an ``injected-parameters`` cell after the ``parameters`` one.

    Its id is fixed (papermill would draw a random one), so two runs give the same notebook.
    """
    nb = copy.deepcopy(nb)
    cell: dict[str, Any] = {
        "cell_type": "code",
        "id": "injected-parameters",
        "metadata": {"tags": ["injected-parameters"]},
        "source": parameters_cell(parameters),
        "outputs": [],
        "execution_count": None,
    }
    cells = nb["cells"]
    where = next(
        (i + 1 for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])),
        0,
    )
    cells.insert(where, cell)
    return nb


def execute_notebook(nb: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Run every code cell of ``nb`` (an nbformat 4 dict) with ``parameters`` injected; return
    the executed copy.

    Raises:
        whatever a cell raised (a taskkit error keeps its type and message).
    """
    from IPython.core.interactiveshell import InteractiveShell

    nb = _with_parameters(nb, parameters)
    if InteractiveShell.initialized() and not isinstance(
        InteractiveShell.instance(), _shell_class()
    ):
        return _in_kernel(nb)
    return _in_process(nb)


def _in_kernel(nb: dict[str, Any]) -> dict[str, Any]:
    import json

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    node = nbformat.reads(json.dumps(nb), as_version=4)  # sources as strings, as nbclient wants
    client = NotebookClient(
        node,
        kernel_name="python3",
        kernel_manager_class=_quiet_shutdown_kernel_manager(),
        # The kernel talks to us over loopback only; its "TCP without encryption" warning
        # would be the only line a user sees.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        # As in process: a taskkit error keeps its type and message (the kernel sends back
        # only their names); anything else stays nbclient's error, with the cell and traceback.
        kind = _taskkit_error(exc.ename)
        if kind is not None:
            raise kind(exc.evalue) from None
        raise
    return dict(node)


def _taskkit_error(name: str) -> type[TaskkitError] | None:
    """The taskkit error class called ``name``, or None."""
    found: list[type[TaskkitError]] = [TaskkitError]
    while found:
        kind = found.pop()
        if kind.__name__ == name:
            return kind
        found += kind.__subclasses__()
    return None


def _quiet_shutdown_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdown(AsyncKernelManager):
        """jupyter_client interrupts the kernel (SIGINT to its process group) before asking it
        to shut down; a kernel still finishing a message then logs "[IPKernelApp] ERROR |
        KeyboardInterrupt caught in kernel" after a successful run. When the notebook has run,
        there is nothing to interrupt: shut down without the signal. (This overrides a
        private jupyter_client method: tests/test_report_kernel.py notices if it changes.)"""

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return QuietShutdown


@functools.cache
def _shell_class() -> Any:
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell

    class Hook(DisplayHook):
        """A cell's last value goes out as a rich output, not as ``Out[n]:`` text."""

        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: Any, md_dict: Any = None) -> None:
            assert self.shell is not None
            self.shell.display_pub.publish(data=format_dict, metadata=md_dict or {})

    class ReportShell(InteractiveShell):
        displayhook_class = Hook

        def enable_gui(self, gui: Any = None) -> None:
            pass  # figures are drawn off-screen (Agg) and displayed as images

    return ReportShell


def _shell() -> Any:
    # No output cache (``_``, ``Out[n]``): the report displays every output, and with the cache
    # IPython's reset ends in a full gc.collect(), 0.2 s of CPU with pandas and matplotlib
    # loaded, once before and once after every run.
    shell = _shell_class().instance(cache_size=0)
    shell.reset(new_session=False)
    return shell


def _in_process(nb: dict[str, Any]) -> dict[str, Any]:
    import matplotlib
    from IPython.utils.capture import capture_output

    matplotlib.use("Agg")  # off-screen: the report shows figures as images

    shell = _shell()
    count = 0
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            count += 1
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            with capture_output(stdout=True, stderr=True, display=True) as captured:
                result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                raise error
            outputs: list[dict[str, Any]] = []
            for name in ("stdout", "stderr"):
                text = getattr(captured, name)
                if text:
                    outputs.append({"output_type": "stream", "name": name, "text": text})
            for shown in captured.outputs:
                outputs.append(
                    {"output_type": "display_data", "data": shown.data, "metadata": shown.metadata}
                )
            cell["outputs"] = outputs
            cell["execution_count"] = count
    finally:
        shell.reset(new_session=False)  # drop the run's objects, even after an error
    return nb
