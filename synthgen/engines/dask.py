"""The Dask engine: sample a partitioned Parquet dataset on a Dask cluster.

The model file's bytes go to the workers once (scattered to all of them); partition i holds rows
[i*n//k, (i+1)*n//k) of the same row stream the local engine writes, made with the same code
(`synthgen.engines.local.write_rows`), so for the same seed and partitions the dataset is the
local engine's, file for file. Workers write into a temp directory next to the output, renamed
to it when every partition is done: the output appears whole or not at all. On a cluster of
several machines the output directory must be on a file system every worker can write to.

Without an address it starts a local cluster (one worker process per core, one thread each).
Needs the `dask` extra: pip install 'synthgen[dask]'.

Example:
    >>> from synthgen.engines import dask as engine
    >>> engine.sample_to_dataset("adult.synthgen", "out", 20_000_000, seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthgen.blas import one_thread
from synthgen.engines import local
from synthgen.errors import MissingDependencyError, OutputError, UsageError, option

# Models loaded in this worker process, by the SHA-256 of their file, so a worker that writes
# many partitions parses the model once.
_MODELS: dict[str, Any] = {}
_ONE_AT_A_TIME = threading.Lock()


def require() -> Any:
    """The `distributed` module; MissingDependencyError (how to install it) when missing."""
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            f"{option('--engine dask', 'the dask engine')} needs dask and distributed: "
            "pip install 'synthgen[dask]'"
        ) from None
    return distributed


def _model(data: bytes) -> Any:
    key = hashlib.sha256(data).hexdigest()
    if key not in _MODELS:
        from synthgen.modelfile import loads
        from synthgen.models import model_class

        state = loads(data)
        _MODELS.clear()  # one model at a time is all a worker needs
        _MODELS[key] = model_class(state["model"]).from_state(state)
    return _MODELS[key]


def write_partition(
    data: bytes, path: str, start: int, stop: int, seed: int, total: int, chunk_rows: int
) -> int:
    """On a worker: write rows start .. stop-1 of the sample to `path`; returns the rows."""
    model = _model(data)
    # a worker may run several tasks at once in threads; a model whose sampling touches
    # process-wide state makes its partitions one at a time
    with contextlib.nullcontext() if model.thread_safe_sampling else _ONE_AT_A_TIME:
        return local.write_rows(
            model, path, start, stop, seed=seed, total=total, chunk_rows=chunk_rows, threads=1
        )


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: connected to `scheduler` (an address such as tcp://host:8786), or to a
    new local cluster of `workers` processes (default: one per core) closed at the end."""
    distributed = require()
    if scheduler:
        try:
            dask_client = distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        with dask_client:
            yield dask_client
        return
    import dask

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns glibc's adaptive mmap
    # threshold off: every array over 128 KiB is then mapped and faulted in afresh. With it, and
    # with the workers' stack profiler (no dashboard here to show it), the same rows took the
    # workers 30-50% more CPU than one process (measured on 6M rows); without, about 10% more.
    environ = dask.config.get("distributed.nanny.pre-spawn-environ", {})
    environ = {k: v for k, v in environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    settings = {
        "distributed.nanny.pre-spawn-environ": environ,
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(settings):
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def sample_to_dataset(
    model_file: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    n: int,
    *,
    seed: int,
    partitions: int | None = None,
    scheduler: str | None = None,
    dask_client: Any = None,
    force: bool = False,
    trust_pickle: bool = False,
    chunk_rows: int = 100_000,
    progress: local.Progress | None = None,
) -> list[Path]:
    """Write `n` rows of the model in `model_file` as a partitioned Parquet dataset on a Dask
    cluster (`dask_client`, or one made by `client(scheduler)`). Partitions default to
    `local.default_partitions(n)`, and at least two per worker thread so all of them work.
    Returns the partition files. `trust_pickle`: as for `synthgen.load` (SDV peer models)."""
    from synthgen.io import atomic_directory, check_dataset_writable
    from synthgen.modelfile import load

    load(model_file, trust_pickle=trust_pickle)  # a bad or untrusted file fails here, once
    check_dataset_writable(directory, force)
    data = Path(model_file).read_bytes()
    with contextlib.ExitStack() as stack:
        # workers in this process (a LocalCluster of threads) sample under the limit set here,
        # as the local engine's do; worker processes start with OPENBLAS_NUM_THREADS=1
        stack.enter_context(one_thread())
        if dask_client is None:
            dask_client = stack.enter_context(client(scheduler))
        distributed = require()
        threads = sum(dask_client.nthreads().values()) or 1
        partitions = partitions or local.default_partitions(n, at_least=2 * threads)
        with atomic_directory(directory, force) as tmp:
            shipped = dask_client.scatter(data, broadcast=True)
            futures = [
                dask_client.submit(
                    write_partition,
                    shipped,
                    str(tmp / local.part_name(i)),
                    lo,
                    hi,
                    seed,
                    n,
                    chunk_rows,
                    pure=False,
                )
                for i, (lo, hi) in enumerate(local.partition_bounds(n, partitions))
            ]
            try:
                for future in distributed.as_completed(futures):
                    rows = future.result()
                    if progress is not None:
                        progress(rows)
            except BaseException:
                dask_client.cancel(futures)
                raise
            missing = [i for i in range(partitions) if not (tmp / local.part_name(i)).exists()]
            if missing:
                raise OutputError(
                    f"the workers' files are not in {tmp}: on a cluster of several machines, "
                    "write to a directory all of them share"
                )
    return [Path(directory) / local.part_name(i) for i in range(partitions)]
