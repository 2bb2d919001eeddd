"""Names from the data reach the report as text: no script runs, no markup renders, no crash.

A database whose project, worker names and worker ids hold script, HTML, Markdown and mathtext
payloads is reported on (the project parameter holds one too), and the page is opened in
headless Chromium.
"""

import asyncio
from pathlib import Path

import pytest

import taskkit
from tests.browser import browser_page
from tests.reports import write_report

# Each payload marks the page if it ever runs: the test reads the marks back.
PROJECT = "<script>document.body.dataset.pwned='project'</script> *a* $\\undefinedcmd$"
WORKER_ID = "<img src=x onerror=\"document.body.dataset.pwned='id'\">"
WORKER_NAME = "<b>bold</b> _b_ `c` [l](javascript:alert(1)) $\\undefinedcmd$ *a*"
OTHER_ID = "$x$"
OTHER_NAME = "<script>alert('name')</script>"


async def build(url: str) -> None:
    engine = taskkit.connect(url)
    await taskkit.ensure_schema(engine)
    async with taskkit.session(engine) as s:
        project = await taskkit.create_project(s, {"name": PROJECT})
        await taskkit.create_worker(s, {"id": WORKER_ID, "name": WORKER_NAME})
        await taskkit.create_worker(s, {"id": OTHER_ID, "name": OTHER_NAME})
        for i in range(6):
            task = await taskkit.create_task(s, {"title": f"t{i}", "project_id": project.id})
            await taskkit.assign(s, task.id, WORKER_ID)
            if i % 2:
                await taskkit.assign(s, task.id, OTHER_ID)
    await engine.dispose()


@pytest.mark.browser
def test_hostile_names_show_literally_and_run_no_script(tmp_path):
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    asyncio.run(build(url))
    path, said = write_report(url, tmp_path / "out", project=PROJECT)
    assert said == []  # nothing seeded: the database is only read
    html = path.read_text(encoding="utf-8")
    assert "<script>document" not in html and "<img src=x" not in html
    # No completed task: an honest sentence, never "nan days".
    assert "nan days" not in html
    with browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(Path(path).as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("document.body.dataset.pwned") is None
        assert dialogs == []
        text = page.inner_text("body")
        for literal in (PROJECT, WORKER_ID, WORKER_NAME, OTHER_NAME):
            assert literal in text, literal
        assert "No task is done yet" in text
        # The Markdown payloads did not become markup.
        marked = page.eval_on_selector_all(
            "main em, main i, main b, main code, main a", "els => els.map(e => e.textContent)"
        )
        assert not {"a", "b", "bold", "c", "l"} & set(marked), marked
