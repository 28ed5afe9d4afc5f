"""BLAS on one thread while rows are drawn, so a seed's rows do not depend on how many threads
BLAS has.

A matrix product's last bits depend on BLAS's thread count: OpenBLAS 0.3.31 (numpy 2.4) takes
another kernel for a (10, 10) @ (10, 10,000) float32 product on one thread than on two, and 47%
of the entries differ in the last bit (the copula's draws are such a product). The local engine
used to limit BLAS only when it sampled in several threads, so `--threads 3` wrote other numbers
than `--threads 1` or `model.sample`. One thread is also what sampling in several threads wants:
BLAS threads on top of ours fought for the cores (1M adult rows to Parquet on 2 cores: 1.5 s and
2.1 CPU s; on one BLAS thread, 1.05 s and 1.15 CPU s).

BLAS's setting is process-wide, and threadpoolctl (3.8) lets only the thread that set it first
change it: the thread that owns an operation takes it for the whole operation, and the threads
it starts (engines' workers) draw under it.

Example:
    >>> from synthgen.blas import one_thread
    >>> with one_thread():
    ...     pass
"""

from __future__ import annotations

from typing import Any


def one_thread() -> Any:
    """A context manager: BLAS on one thread inside it, as it was after."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
