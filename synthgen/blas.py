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

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class _OneBlasThread:
    """The BLAS limit of `one_thread`, shared by the threads inside it: the first to enter
    sets it, the last to leave restores what was there (each restoring its own would leave the
    limit on when threads leave in another order than they came)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._limiter: Any = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if not self._inside:
                self._limiter = _blas().limit(limits=1, user_api="blas")
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if not self._inside:
                    self._limiter.restore_original_limits()


#: `with one_thread():` matrix products inside run on one BLAS thread. Within it, matrix products run on one BLAS thread. Their last bits depend on how many threads
#: BLAS splits them over (OpenBLAS on 2 cores, one thread against two: 794 of 45,000 copula
#: incomes a cent apart), and the rows of a seed must not depend on `--threads` or the machine.
#: Enter it in the thread that starts the work: OpenBLAS ignores a limit set from another thread
#: (the local engine sets it before its worker threads sample).
one_thread = _OneBlasThread()
