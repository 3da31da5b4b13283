"""Results a person can look at: a contact sheet of the rated outputs and Optuna's plots.

A study's ratings are numbers in a database; what a person wants after a session is to *see*
them. :func:`write_results` puts three files into a folder, named after the study:

- ``<study>-contact-sheet.png``: every rated trial's output in trial order, each labelled with
  its trial number and rating (a choice widget's label, e.g. ``Good``), the best ones framed;
- ``<study>-history.html``: Optuna's optimization history;
- ``<study>-parallel.html``: Optuna's parallel-coordinate plot (from 2 ratings on).

The HTML files load plotly.js from ``plotly-<version>.min.js``, written once beside them (or, for
a run's output folders, once into ``outputs/``), so they open without internet. For any study in any storage::

    python -m hitl.results --storage sqlite:///hitl.db --study sunset-slider --artifacts artifacts

(``--storage`` also takes a PostgreSQL URL or a journal file ending in ``.log``; ``--out`` the
folder, ``results`` by default.) Problems end with one line on stderr and exit status 2.
"""

from hitl.results._cli import main
from hitl.results._layout import BEST_COLOUR
from hitl.results._layout import BORDER
from hitl.results._layout import GAP
from hitl.results._layout import SheetLayout
from hitl.results._sheet import contact_sheet
from hitl.results._write import result_names
from hitl.results._write import shared_plotlyjs_folder
from hitl.results._write import write_plots
from hitl.results._write import write_results


__all__ = [
    "BEST_COLOUR",
    "BORDER",
    "GAP",
    "SheetLayout",
    "contact_sheet",
    "main",
    "result_names",
    "shared_plotlyjs_folder",
    "write_plots",
    "write_results",
]
