"""``dfm batch``: many uploads in, one report per part and an index out.

Each file is analysed in its own capped, timed process, locally or on a Dask cluster; a
file that crashes, hangs or blows memory fails alone. See :func:`run_batch`.
"""

from __future__ import annotations

from dfm.batch.inputs import ZipLimits
from dfm.batch.runner import BatchConfig, BatchResult, run_batch

__all__ = ["BatchConfig", "BatchResult", "ZipLimits", "run_batch"]
