"""The local engine: stream a sample to one file, or to a partitioned Parquet dataset, here.

Chunks are generated in worker threads (numpy releases the GIL for most of the work) while this
thread writes, so generating and writing overlap; chunks are written in order, so the output
does not depend on the number of threads. Memory holds a few chunks and one Parquet row group.

Example:
    >>> import synthgen
    >>> from synthgen.engines import local
    >>> model = synthgen.load("adult.synthgen")                      # doctest: +SKIP
    >>> local.sample_to_file(model, "big.parquet", 10_000_000, seed=1)  # doctest: +SKIP
    10000000
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from synthgen.models.base import Synthesizer, chunk_bounds, one_blas_thread

#: Rows a partition of a dataset holds by default.
PARTITION_ROWS = 2_000_000
#: Bytes a Parquet row group holds (about, before encoding); rows per group follow from it.
ROW_GROUP_BYTES = 128 * 1024**2
_MAX_ROW_GROUP_ROWS = 1_000_000
_MIN_ROW_GROUP_ROWS = 50_000

Progress = Callable[[int], None]


def default_threads() -> int:
    """Generator threads: one per core (the writer mostly waits on them), at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def output_schema(model: Synthesizer) -> Any:
    """The Parquet schema of the model's samples: from the model alone (a sample of no rows),
    never from the data of one chunk, so every chunk and every partition agrees."""
    from synthgen.io import arrow_schema

    return arrow_schema(model.sample_rows(0, 0, seed=0, categorical=True))


def row_group_rows(schema: Any, rows: int | None = None) -> int:
    """Rows per Parquet row group: about ROW_GROUP_BYTES of data (estimated from the types,
    text counted as 32 bytes), between 50,000 and 1,000,000 rows, a multiple of 10,000; and
    for a file of `rows` rows, at most a quarter of them (rounded up), so the writer can write
    one group while the threads make the next (1M adult rows in one group: nothing overlaps,
    and `synthgen sample` took 1.1-1.4 s; in four, 0.93-1.0 s).

    Example:
        >>> import pyarrow as pa
        >>> row_group_rows(pa.schema([("x", pa.float64())] * 10))
        1000000
        >>> row_group_rows(pa.schema([("x", pa.float64())] * 10), rows=1_000_000)
        250000
    """
    import pyarrow as pa

    width = 0
    for field in schema:
        kind = field.type.index_type if pa.types.is_dictionary(field.type) else field.type
        width += kind.bit_width // 8 if pa.types.is_primitive(kind) and kind.bit_width > 1 else 32
    fit = ROW_GROUP_BYTES // max(width, 1)
    if rows is not None:
        fit = min(fit, -(-rows // (4 * 10_000)) * 10_000)
    return max(_MIN_ROW_GROUP_ROWS, min(_MAX_ROW_GROUP_ROWS, fit // 10_000 * 10_000))


def partition_bounds(n: int, partitions: int) -> list[tuple[int, int]]:
    """The (first, stop) rows of each partition: as even as whole rows allow.

    Example:
        >>> partition_bounds(10, 3)
        [(0, 3), (3, 6), (6, 10)]
    """
    return [(i * n // partitions, (i + 1) * n // partitions) for i in range(partitions)]


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def iter_chunks(
    model: Synthesizer,
    start: int,
    stop: int,
    *,
    seed: int,
    total: int,
    chunk_rows: int,
    threads: int,
    schema: Any = None,
    ahead: int | None = None,
) -> Iterator[Any]:
    """The rows start .. stop-1 in order, in chunks made by `threads` threads: pyarrow Tables
    of `schema` when given (for Parquet), else DataFrames (for CSV; text columns of few values
    as Categoricals, which write the same text faster). At most `ahead` chunks (default: one
    more than the threads) are made before the writer takes them."""

    def make(lo: int, hi: int) -> Any:
        frame = model.sample_rows(lo, hi, seed=seed, total=total, categorical=True)
        if schema is None:
            return frame
        import pyarrow as pa

        return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)

    bounds = chunk_bounds(start, stop - start, chunk_rows)
    threads = max(1, threads) if model.thread_safe_sampling else 1
    # one BLAS thread, set here: OpenBLAS ignores a limit set from a worker thread. It keeps
    # the rows those of `model.sample` (see one_blas_thread), and BLAS threads on top of ours
    # fought for the cores (1M adult rows to Parquet on 2 cores: 1.5 s and 2.1 CPU s; so,
    # 1.05 s and 1.15 CPU s)
    with one_blas_thread():
        yield from _in_order(make, bounds, threads, ahead or threads)


def _in_order(
    make: Callable[[int, int], Any], bounds: list[tuple[int, int]], threads: int, ahead: int
) -> Iterator[Any]:
    """The chunks of `bounds`, made by `threads` threads, in order; at most `ahead` are made
    before the writer takes them."""
    pool = ThreadPoolExecutor(threads, thread_name_prefix="synthgen-sample")
    window: deque[Future] = deque()
    try:
        for lo, hi in bounds:
            window.append(pool.submit(make, lo, hi))
            if len(window) > ahead:  # a few chunks ahead of the writer, no more
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def write_rows(
    model: Synthesizer,
    dest: str | os.PathLike[str],
    start: int,
    stop: int,
    *,
    seed: int,
    total: int | None = None,
    fmt: str | None = None,
    force: bool = False,
    chunk_rows: int = 100_000,
    threads: int = 1,
    progress: Progress | None = None,
) -> int:
    """Write rows start .. stop-1 of the sample for `seed` to `dest` (a file, or "-" for CSV on
    stdout) atomically; returns the rows written (fewer only if stdout's reader went away)."""
    from synthgen.io import open_stream_writer, output_format

    parquet = output_format(dest, fmt) == "parquet"
    schema = output_schema(model) if parquet else None
    extra = {}
    if parquet:
        extra = {"schema": schema, "row_group_rows": row_group_rows(schema, stop - start)}
    with open_stream_writer(dest, fmt, force, **extra) as writer:
        chunks = iter_chunks(
            model,
            start,
            stop,
            seed=seed,
            total=stop if total is None else total,
            chunk_rows=chunk_rows,
            threads=threads,
            schema=schema,
            # while a Parquet row group is written the threads go on making the next one's
            # chunks (with a window of `threads` chunks they stalled: 10M adult rows 4.3 s)
            ahead=threads + extra["row_group_rows"] // chunk_rows if parquet else None,
        )
        try:
            for chunk in chunks:
                writer.write(chunk)
                if progress is not None:
                    progress(len(chunk))
                if writer.broken_pipe:
                    break
        finally:
            chunks.close()
        return writer.rows


def sample_to_file(
    model: Synthesizer,
    dest: str | os.PathLike[str],
    n: int,
    *,
    seed: int,
    fmt: str | None = None,
    force: bool = False,
    chunk_rows: int = 100_000,
    threads: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Stream `n` rows to one CSV or Parquet file (or "-"); returns the rows written."""
    return write_rows(
        model,
        dest,
        0,
        n,
        seed=seed,
        fmt=fmt,
        force=force,
        chunk_rows=chunk_rows,
        threads=default_threads() if threads is None else threads,
        progress=progress,
    )


def sample_to_dataset(
    model: Synthesizer,
    directory: str | os.PathLike[str],
    n: int,
    *,
    seed: int,
    partitions: int | None = None,
    force: bool = False,
    chunk_rows: int = 100_000,
    threads: int | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write `n` rows as a partitioned Parquet dataset (directory/part-00000.parquet, ...),
    one partition after the other; the directory appears whole at the end, or not at all.
    Returns the partition files. The dask engine writes the same files for the same seed."""
    from synthgen.io import atomic_directory

    partitions = partitions or default_partitions(n)
    threads = default_threads() if threads is None else threads
    with atomic_directory(directory, force) as tmp:
        for i, (lo, hi) in enumerate(partition_bounds(n, partitions)):
            write_rows(
                model,
                tmp / part_name(i),
                lo,
                hi,
                seed=seed,
                total=n,
                chunk_rows=chunk_rows,
                threads=threads,
                progress=progress,
            )
    return [Path(directory) / part_name(i) for i in range(partitions)]


def default_partitions(n: int, at_least: int = 1) -> int:
    """Partitions for n rows: PARTITION_ROWS each (the last fewer), and at least `at_least`."""
    return max(at_least, -(-n // PARTITION_ROWS), 1)
