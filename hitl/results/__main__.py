"""``python -m hitl.results``: see :func:`hitl.results.main`."""

import sys

from hitl.results._cli import main


sys.exit(main())
