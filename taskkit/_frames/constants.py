"""Defaults and limits of a read, and the names its arguments accept."""

from __future__ import annotations

DEFAULT_CHUNKSIZE = 65_536
# What `related=` accepts, and the column each name adds.
RELATED = {"project": "project_name", "workers": "worker_ids"}
READERS = ("auto", "adbc", "sqlalchemy")
# Below this many rows an automatic progress bar would only flicker (and would make notebook
# outputs differ from run to run).
PROGRESS_MIN_ROWS = 50_000
# Related rows are looked up by an IN list up to this many ids, else the whole table is read:
# the ids come from the frame itself, so the lookup cannot disagree with it.
IN_LIST_MAX = 1_000
# SQLite files: results up to this many rows are read in this process through sqlite3
# (microseconds to start) rather than by the ADBC helper process (a fixed cost of about
# 5 ms, repaid by its speed on large results): statements whose LIMIT says so at most
# SMALL_ROWS, others when they turn out to end within PROBE_ROWS. benchmarks/frames.py
# --small measures where the two cross.
SMALL_ROWS = 20_000
PROBE_ROWS = 2_000
# A single-statement read of a SQLite file starts on the event loop's thread (a trip to a
# worker thread costs more than a small read), fetching INLINE_BATCH rows at a time: after
# INLINE_SECONDS of its CPU time, or INLINE_ROWS rows, the rest of the read goes on in a
# worker thread; a statement that takes longer than INLINE_SECONDS to give its next rows is
# stopped by SQLite (checked every INLINE_STEPS steps of its virtual machine) and run again
# there (see sqlite3_reader).
INLINE_ROWS = 1_000
INLINE_BATCH = 256
INLINE_SECONDS = 0.002
INLINE_STEPS = 10_000
