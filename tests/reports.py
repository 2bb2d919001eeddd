"""Reports made as a user makes them: ``taskkit report``, run through the public click group
(``taskkit.cli``) in this process."""

from pathlib import Path

from click.testing import CliRunner

from taskkit import cli


def write_report(url: str, out: Path, **params: str) -> tuple[Path, list[str]]:
    """``taskkit report --db URL --out OUT --param NAME=VALUE ...``: the report's path (the
    last line it prints) and the lines it printed before it (what it seeded, the paper)."""
    args = ["report", "--db", url, "--out", str(out)]
    for name, value in params.items():
        args += ["--param", f"{name}={value}"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    *said, path = result.stdout.strip().splitlines()
    return Path(path), said
