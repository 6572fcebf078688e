"""How many threads numpy's BLAS may use: one.

The engine's products are vectors of up to 100,000 atoms (``np.dot`` of weights and coverage),
far too small to share between threads: with OpenBLAS's default of one thread per core, one such
product took ~8 ms at 100,000 atoms against 60 µs with one thread, and on a busy machine an
overlay went from 6 ms to 40-53 ms (issue 25). The server and the CLI call :func:`limit_blas_threads`
once at start-up; parallelism comes from worker processes (``--workers``), not from BLAS.

Examples
--------
>>> limit_blas_threads() >= 0
True
"""

from __future__ import annotations

import os

BLAS_THREADS = 1
DEFAULT_THREADS: int | None = None  # BLAS's own number of threads, read before the first limit
_limiter = None


def limit_blas_threads(threads: int | None = None) -> int:
    """Limit every BLAS library loaded in this process to ``threads`` (default
    ``REGIOMATCH_BLAS_THREADS`` or 1); returns how many libraries were limited (0 when
    threadpoolctl is missing). Kept for the life of the process.

    Examples
    --------
    >>> limit_blas_threads(1) >= 0
    True
    """
    global _limiter
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # an optional speed-up: without it BLAS keeps its defaults
        return 0
    import numpy  # noqa: F401 - loads OpenBLAS, so that there is something to limit

    global DEFAULT_THREADS
    if DEFAULT_THREADS is None:  # what BLAS would use on its own (benchmarks compare with it)
        DEFAULT_THREADS = max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)
    count = threads if threads is not None else int(os.environ.get("REGIOMATCH_BLAS_THREADS", BLAS_THREADS))
    _limiter = threadpool_limits(limits=count, user_api="blas")
    return sum(1 for library in threadpool_info() if library["user_api"] == "blas")
