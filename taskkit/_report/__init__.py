"""The reproducible report: check its parameters, gather its data, run its notebook to HTML.

``notebooks/03-report.ipynb`` is the report. Its ``parameters`` cell names what a reader may
change; :func:`run_report` checks those values *before* anything runs (unknown names, bad
dates, a project that does not exist, an output directory that cannot be written), makes
sure the database has data (seeding the default dataset into an empty one), executes the
notebook and writes a standalone HTML file, code hidden, figures embedded. The notebook
itself calls :func:`report_data`, so the numbers it shows come from the data.
"""

from taskkit._report.data import ReportData, report_data
from taskkit._report.parameters import PARAMETERS, ReportParameters, check_parameters
from taskkit._report.run import run_report

__all__ = [
    "PARAMETERS",
    "ReportData",
    "ReportParameters",
    "check_parameters",
    "report_data",
    "run_report",
]
