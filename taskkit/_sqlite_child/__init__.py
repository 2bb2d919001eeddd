"""ADBC's SQLite driver in a child process: the fast DataFrame reader and the bulk writer of
SQLite files both go through it.

``protocol`` is the framing of its pipes (JSON lines, Arrow IPC streams for rows), ``worker``
the child program (``python -m taskkit._sqlite_child.worker``), ``client`` the parent's side:
starting children, keeping idle ones for the next read or write, and ending them. See
``worker`` for why a child process.
"""
