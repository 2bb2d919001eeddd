"""The explore grid in a real browser: from a click to the new rows drawn, per action.

    uv run python benchmarks/explore_browser.py [--db FILE | --pg URL] [--n 1000000]
                                                [--clicks 20] [--shots DIR]

Starts JupyterLab on loopback (a temporary root holding one notebook), opens it in Debian's
headless Chromium driven by Playwright, runs ``taskkit.explore`` on the SQLite file (seeded
with N tasks when it holds none; --db keeps it for the next run) and clicks each control
--clicks times: next, prev, last, first, a header sort (title, alternately ascending and
descending) and a status checkbox (on, off). Each time is measured in the page, from the
click to the grid leaving its loading state, which happens in the same task that draws the
rows of the answer. Beside it, the same clicks answered by the kernel without touching the
database (project id 0, refused before any query): the floor that
JupyterLab's message round trip and the drawing put under every click. Prints median and p95
in ms; the issue's target is p95 at most 100 ms. --shots saves the grid at 1280 and 390 px.
With --pg URL the grid reads that PostgreSQL database instead (re-seeded with reset=True when
it does not hold N tasks: never point it at data you want to keep).
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

import taskkit

# JupyterLab on loopback and the click timing are the browser test's own (tests/browser.py):
# the benchmark measures a click exactly as the test does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import CHROMIUM_ARGS, jupyterlab, timed_click

CHROMIUM = "/usr/bin/chromium"
TARGET_MS = 100.0


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def ensure_seeded(url: str, n: int) -> None:
    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    async with taskkit.session(engine) as s:
        held = await taskkit.count(s, taskkit.select_tasks())
    if held != n:
        started = time.perf_counter()
        await taskkit.seed(engine, tasks=n, seed=0, reset=True, progress=False)
        print(f"seeded {n:,} tasks in {time.perf_counter() - started:.1f} s", flush=True)
    await engine.dispose()


def run_browser(url: str, clicks: int, shots: Path | None) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        cell = page.locator(".jp-Notebook .jp-Cell").first
        grid = page.locator(".tk-explore")
        for _ in range(12):  # the kernel may still be connecting: run again until it takes it
            cell.locator(".jp-InputPrompt").click()
            page.locator("[data-command='notebook:run-cell-and-select-next']").first.click()
            try:
                grid.locator("tbody tr").first.wait_for(timeout=15_000)
                break
            except Exception:
                continue
        page.wait_for_function(
            "() => !document.querySelector('.tk-total').innerText.startsWith('counting')"
        )
        news = page.get_by_role("button", name="No")  # "get notified about Jupyter news?"
        if news.count():
            news.first.click()

        def click(name: str, locator: Any) -> None:
            times.setdefault(name, []).append(timed_click(page, grid, locator))

        button = grid.locator
        for _ in range(clicks):
            click("next", button("button[data-action='next']"))
            click("prev", button("button[data-action='prev']"))
        for _ in range(clicks):
            click("last", button("button[data-action='last']"))
            click("first", button("button[data-action='first']"))
        for _ in range(clicks):
            click("sort by title", button("th[data-column='title']"))
        box = button("input[data-filter='status'][value='pending']")
        for _ in range(clicks):
            click("status filter", box)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            grid.screenshot(path=str(shots / "explore-1280.png"))
        # The floor: a project id of 0, which the kernel refuses before it reaches the
        # database (one line in the grid's error box).
        grid.locator("input[data-filter='project']").fill("0")
        for _ in range(clicks):
            click("refused at once (floor)", button("button[data-action='apply']"))
        if shots is not None:
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "page-390.png"))
            grid.screenshot(path=str(shots / "explore-390.png"))
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="the SQLite file (seeded when it lacks N tasks; kept)")
    parser.add_argument("--pg", help="a PostgreSQL URL to explore instead (re-seeded if needed)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--shots", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = args.pg or f"sqlite:///{args.db or root / 'tasks.db'}"
        asyncio.run(ensure_seeded(url, args.n))
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(
                f"import taskkit\nengine = taskkit.connect({url!r})\n"
                "grid = await taskkit.explore(engine, size=50)\ngrid"
            )
        ]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, root / "explore.ipynb")
        with jupyterlab(root, "explore.ipynb") as url:
            try:
                times = run_browser(url, args.clicks, args.shots)
            except Exception:
                # JupyterLab's log goes with the temporary directory: show its end first.
                print((root / "lab.log").read_text()[-3000:], file=sys.stderr)
                raise
    where = "PostgreSQL" if args.pg else "SQLite file"
    print(f"browser, {where}, {args.n:,} tasks, pages of 50, {args.clicks} clicks each (ms):")
    for name, values in times.items():
        verdict = "ok" if p95(values) <= TARGET_MS else f"over {TARGET_MS:.0f} ms"
        if name.startswith("refused"):
            verdict = "reference"
        print(
            f"  {name:28s} median {statistics.median(values):6.1f}   p95 {p95(values):6.1f}"
            f"   {verdict}"
        )


if __name__ == "__main__":
    main()
