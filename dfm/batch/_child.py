"""``python -m dfm.batch._child JOB.json WORKDIR``: the exec-based analysis process.

A module of its own (not ``dfm.batch.worker``, which the package imports), so that runpy
runs it as ``__main__`` cleanly. Used where multiprocessing may not fork (daemonic Dask
workers).
"""

from __future__ import annotations

import sys

from dfm.batch.worker import main

if __name__ == "__main__":
    sys.exit(main())
