"""``python -m taskkit``: the same command line as the ``taskkit`` script."""

from taskkit._cli import main

main()
