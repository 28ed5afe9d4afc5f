"""`synthgen sample`: write synthetic rows from a model file, streamed in chunks; optionally only
rows meeting conditions (--where), equal classes (--balance), or given rows filled (--from-rows).

One file (CSV, Parquet, or CSV on stdout), or a partitioned Parquet dataset (a directory of
part-00000.parquet ...) made here or on a Dask cluster. The rows for a seed are the same whatever
the chunk size, the threads, the engine or the partitions.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from typing import Annotated

import typer

from synthgen.cli.common import (
    Delimiter,
    Encoding,
    Force,
    NaValues,
    Progress,
    Quiet,
    Seed,
    TrustPickle,
    na_list,
    status,
    warn_lines,
)

HELP = (
    "Sample synthetic rows from a model file to CSV or Parquet (- for stdout), or to a "
    "partitioned Parquet dataset (a directory; --engine dask runs it on a Dask cluster); "
    "--where, --balance and --from-rows sample conditionally (more rows of a rare class, fill in "
    "missing cells)."
)
EXAMPLE = (
    'synthgen sample penguins.synthgen -n 1000 --where "species=Gentoo" --where '
    '"body_mass_g>=5000" -o big-gentoo.csv'
)

Rows = Annotated[
    int | None, typer.Option("--rows", "-n", help="How many rows (default: as many as trained on).")
]
Format = Annotated[
    str | None, typer.Option("--format", help="csv or parquet (default: from the output's suffix).")
]
ChunkRows = Annotated[
    int,
    typer.Option(
        "--chunk-rows",
        help="Rows generated and written at a time (memory bound; the output does not change).",
    ),
]
Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (this machine) or dask (a Dask cluster; writes a partitioned dataset).",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address, e.g. tcp://host:8786 (default: start a local cluster).",
    ),
]
Partitions = Annotated[
    int | None,
    typer.Option(
        "--partitions",
        help="Write a dataset of this many Parquet files to the output directory (default for "
        "a directory: one per 2,000,000 rows, and with dask at least two per worker).",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="Threads generating rows (local engine; default: one per core, at most 4). The "
        "rows do not change.",
    ),
]
Where = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        "-w",
        help='Only rows meeting a condition (repeatable: all must hold): "income=>50K", "age>=40", '
        '"age between 30 and 40", "occupation in Sales|Tech-support", "sex!=Male". Categories '
        "match ignoring surrounding spaces and case.",
    ),
]
Balance = Annotated[
    str | None,
    typer.Option("--balance", help="Equal counts of every class of this categorical column."),
]
FromRows = Annotated[
    str | None,
    typer.Option(
        "--from-rows",
        help="A CSV/Parquet of rows with empty cells: keep every given cell, fill the empty ones "
        "(one output row per input row).",
    ),
]
AllowUnseen = Annotated[
    bool,
    typer.Option(
        "--allow-unseen",
        help="Accept categories or values never seen in training (the model extrapolates).",
    ),
]


def write_sample(
    model,
    output: str,
    rows: int | None,
    seed: int | None,
    fmt: str | None,
    force: bool,
    chunk_rows: int,
    quiet: bool,
    chunks: Iterator | None = None,
    threads: int | None = None,
) -> int:
    """Stream `rows` synthetic rows (or the frames `chunks`, when given) to `output` atomically;
    returns the number written."""
    from synthgen.engines import local
    from synthgen.io import open_stream_writer
    from synthgen.models.base import new_seed

    n = model.training_rows_ if rows is None else rows
    if chunks is None:  # the local engine: threads, fixed Parquet row groups, fast CSV
        with Progress("sampling", total=n, unit="rows", quiet=quiet) as bar:
            return local.sample_to_file(
                model,
                output,
                n,
                seed=new_seed() if seed is None else seed,
                fmt=fmt,
                force=force,
                chunk_rows=chunk_rows,
                threads=threads,
                progress=_rate(bar),
            )
    total = n if rows is not None else None
    with (
        Progress("sampling", total=total, unit="rows", quiet=quiet) as bar,
        open_stream_writer(output, fmt, force) as writer,
    ):
        advance = _rate(bar)
        for chunk in chunks:
            writer.write(chunk)
            advance(len(chunk))
            if writer.broken_pipe:
                break
        return writer.rows


def _rate(bar: Progress) -> Callable[[int], None]:
    """A progress callback that advances the bar and shows rows per second."""
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        bar.update(advance=rows, extra=f"{done / max(bar.elapsed, 1e-9):,.0f} rows/s")

    return advance


def is_dataset(output: str, engine: str, partitions: int | None) -> bool:
    """A directory output: the dask engine, --partitions, or a path ending in a slash (a
    directory named without one is refused, as for any file output: no dataset by accident)."""
    if output == "-":
        return False
    return engine == "dask" or partitions is not None or output.endswith(("/", os.sep))


def sample(
    model_file: Annotated[str, typer.Argument(help="A model file written by `synthgen fit`.")],
    rows: Rows = None,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Output file (.csv or .parquet), - for stdout, or a directory for a dataset.",
        ),
    ] = "-",
    where: Where = None,
    balance: Balance = None,
    from_rows: FromRows = None,
    allow_unseen: AllowUnseen = False,
    seed: Seed = None,
    fmt: Format = None,
    chunk_rows: ChunkRows = 100_000,
    engine: Engine = "local",
    scheduler: Scheduler = None,
    partitions: Partitions = None,
    threads: Threads = None,
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    force: Force = False,
    trust_pickle: TrustPickle = False,
    quiet: Quiet = False,
) -> None:
    from synthgen.engines import ENGINES
    from synthgen.errors import SynthgenWarning, UsageError
    from synthgen.io import check_writable, output_format
    from synthgen.modelfile import load

    if rows is not None and rows < 0:
        raise UsageError("--rows must be 0 or more")
    if chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    if from_rows is not None and (where or balance or rows is not None):
        raise UsageError(
            "--from-rows gives the rows: it can't be combined with --where, --balance or -n"
        )
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    if partitions is not None and partitions < 1:
        raise UsageError("--partitions must be at least 1")
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler needs --engine dask")
    if output == "-" and (engine == "dask" or partitions is not None):
        raise UsageError("a partitioned dataset is a directory: give -o DIRECTORY/, not -")
    conditional = bool(where or balance or from_rows is not None)
    if threads is not None and (threads < 1 or engine != "local" or conditional):
        raise UsageError("--threads must be at least 1, and is for plain local sampling")
    if is_dataset(output, engine, partitions):
        if conditional:
            raise UsageError("--where, --balance and --from-rows write one file, not a dataset")
        _sample_dataset(
            model_file,
            output,
            rows,
            seed,
            fmt,
            chunk_rows,
            engine,
            scheduler,
            partitions,
            threads,
            force,
            trust_pickle,
            quiet,
        )
        return
    check_writable(output, force, inputs=[model_file])
    output_format(output, fmt)  # a file type it can't tell is refused before any work
    model = load(model_file, trust_pickle=trust_pickle)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthgenWarning)
        if from_rows is not None:
            from synthgen.io import iter_table_chunks

            table = iter_table_chunks(
                from_rows,
                chunk_rows,
                na_values=na_list(na_values),
                encoding=encoding,
                delimiter=delimiter,
            )
            given: deque = deque()
            read = (given.append(chunk) or chunk for chunk in table)
            chunks = model.iter_fill(read, seed=seed, allow_unseen=allow_unseen)
            if output_format(output, fmt) == "csv":
                chunks = _as_written(chunks, given)
        elif where or balance:
            chunks = model.iter_sample(
                rows,
                seed=seed,
                chunk_rows=chunk_rows,
                where=where,
                balance=balance,
                allow_unseen=allow_unseen,
            )
        else:
            chunks = None
        # conditions are checked on the first chunk, before an output file is opened
        chunks = _peeked(chunks) if chunks is not None else None
        shown = len(caught)
        warn_lines(caught, quiet)
        written = write_sample(
            model, output, rows, seed, fmt, force, chunk_rows, quiet, chunks, threads
        )
        warn_lines(caught[shown:], quiet)  # from later blocks of --from-rows
    if output != "-":
        status(f"wrote {written:,} synthetic rows to [bold]{output}[/]", quiet)


def _sample_dataset(
    model_file: str,
    output: str,
    rows: int | None,
    seed: int | None,
    fmt: str | None,
    chunk_rows: int,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
    threads: int | None,
    force: bool,
    trust_pickle: bool,
    quiet: bool,
) -> None:
    """A partitioned Parquet dataset, by the local engine or on a Dask cluster."""
    from synthgen.errors import UsageError
    from synthgen.io import check_dataset_writable, output_format
    from synthgen.modelfile import load
    from synthgen.models.base import new_seed

    if fmt is not None and output_format(output, fmt) != "parquet":
        raise UsageError("a partitioned dataset is written as Parquet; drop --format csv")
    if engine == "dask":
        from synthgen.engines import dask as dask_engine

        dask_engine.require()  # say how to install it before any work
    check_dataset_writable(output, force)
    model = load(model_file, trust_pickle=trust_pickle)
    n = model.training_rows_ if rows is None else rows
    seed = new_seed() if seed is None else seed
    with Progress(f"sampling ({engine})", total=n, unit="rows", quiet=quiet) as bar:
        if engine == "dask":
            files = dask_engine.sample_to_dataset(
                model_file,
                output,
                n,
                seed=seed,
                partitions=partitions,
                scheduler=scheduler,
                force=force,
                trust_pickle=trust_pickle,
                chunk_rows=chunk_rows,
                progress=_rate(bar),
            )
        else:
            from synthgen.engines import local

            files = local.sample_to_dataset(
                model,
                output,
                n,
                seed=seed,
                partitions=partitions,
                force=force,
                chunk_rows=chunk_rows,
                threads=threads,
                progress=_rate(bar),
            )
        elapsed = bar.elapsed
    status(
        f"wrote {n:,} synthetic rows to [bold]{output}[/] ({len(files)} Parquet "
        f"file{'s' if len(files) > 1 else ''}, seed {seed}) in {elapsed:.1f} s",
        quiet,
    )


def _as_written(frames: Iterator, given: deque) -> Iterator:
    """The filled frames with each given cell as its file wrote it (the model writes a given
    `181.0` of an integer column as the number 181): a CSV output keeps every given cell's
    text. `given` holds the chunks of the file as they are read, in order."""
    import pandas as pd

    for frame in frames:
        parts, need = [], len(frame)
        while need:
            head = given[0]
            parts.append(head.iloc[:need])
            need -= len(parts[-1])
            if len(parts[-1]) == len(head):
                given.popleft()
            else:
                given[0] = head.iloc[len(parts[-1]) :]
        if parts:
            cells = pd.concat(parts, ignore_index=True)
            for name in cells.columns.intersection(frame.columns):
                kept = cells[name].notna().to_numpy()
                if kept.any():
                    text = cells[name].to_numpy(dtype=object)
                    frame[name] = frame[name].astype(object).where(~kept, text)
        yield frame


def _peeked(chunks: Iterator) -> Iterator:
    """The same chunks, the first one already made (so a bad condition fails before output)."""
    first = next(chunks, None)

    def gen() -> Iterator:
        if first is not None:
            yield first
        yield from chunks

    return gen()
