"""Tracker exports in: reading files, recognising formats, mapping columns and values, dates.

The package is private plumbing under :func:`taskkit.load_tasks`; its pieces, one concept each:

* ``source``: what a path names (a regular file, or refused before it is opened) and the
  encoding of its text (UTF-8, UTF-16, UTF-32);
* ``csvfile`` and ``jsonfile``: a CSV file read by Arrow (any value length, refusals naming
  the row), a JSON document read in pieces (memory about that of its values);
* ``readahead``: a CSV file read in a thread while ``taskkit import`` starts;
* ``reading``: a CSV or JSON file (or a DataFrame) as a table of text columns;
* ``dates``: the date and time forms real exports write;
* ``mapping``: column, status, priority and resolution mappings (options or a TOML file);
* ``formats``: what each tracker's export holds; ``jira``, ``github`` and ``trello`` the
  shapes of their exports (Jira's languages, JSON documents as rows, Trello's actions);
* ``resolutions``: how a completed task ended, as the trackers spell it;
* ``convert``: a source's rows as taskkit's columns, by a format and the user's mapping;
* ``history``: the status history an import writes, and the tracker's starts and completions;
* ``checks``: values checked by the models' rules (once per distinct value, or in bulk);
* ``columns``: the columns with rules of their own (keys, workers, ids, timestamps);
* ``rows``: every column of an import checked, bad rows flagged (``check_rows``);
* ``summary``: what an import reports (``LoadSummary``, ``RowProblem``, grouped listings);
* ``batches``: checked rows as bulk batches (names resolved to ids);
* ``changes`` and ``sync``: re-imports by key (what changed; writing it).
"""
