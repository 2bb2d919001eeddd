"""The documentation, as the tests read it: README.md, then the site's pages in the order of
mkdocs.yml's nav (the order a reader meets them; the Python blocks share one namespace in
that order, as a notebook's cells share a kernel)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pages() -> list[Path]:
    """README.md and every page of the site, in reading order."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = [next(iter(entry.values())) for entry in config["nav"]]
    return [ROOT / "README.md", *(ROOT / "docs" / page for page in nav)]


def page_name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def text() -> str:
    """Every page, one after another."""
    return "\n".join(path.read_text(encoding="utf-8") for path in pages())


def python_blocks() -> list[tuple[str, str]]:
    """``(name, code)`` of every Python block, named ``docs/queries.md block 0``."""
    found = []
    for path in pages():
        blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
        found += [(f"{page_name(path)} block {i}", block) for i, block in enumerate(blocks)]
    return found
