"""Everything about reaching a database, in one package.

* ``engine``: where the data lives and how taskkit connects to it (``connect``, sessions,
  read and write transactions, the URLs).
* ``owner``: the one owner per engine (what taskkit keeps beside it) and how a SQLite
  connection is set up.
* ``access``: whether a database may be touched (exists for reading, is taskkit's for writing).
* ``pooler``: PostgreSQL behind a pooler in transaction mode.
* ``messages``: how taskkit names a database and its errors in messages, secrets hidden.
"""
