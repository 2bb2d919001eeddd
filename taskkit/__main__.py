"""``python -m taskkit``: the same command line as the ``taskkit`` script."""

from taskkit.cli import main

main()
