"""`synthgen sample`: write synthetic rows from a model file, streamed in chunks; optionally only
rows meeting conditions (--where), equal classes (--balance), or given rows filled (--from-rows)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
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
    example,
    na_list,
    status,
)

HELP = (
    "Sample synthetic rows from a model file to CSV or Parquet (- for stdout); --where, --balance "
    "and --from-rows sample conditionally (more rows of a rare class, fill in missing cells)."
    + example(
        'synthgen sample penguins.synthgen -n 1000 --where "species=Gentoo" --where '
        '"body_mass_g>=5000" -o big-gentoo.csv'
    )
)

Rows = Annotated[
    int | None, typer.Option("--rows", "-n", help="How many rows (default: as many as trained on).")
]
Format = Annotated[
    str | None, typer.Option("--format", help="csv or parquet (default: from the output's suffix).")
]
ChunkRows = Annotated[
    int, typer.Option("--chunk-rows", help="Rows generated and written at a time (memory bound).")
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
) -> int:
    """Stream `rows` synthetic rows (or the frames `chunks`, when given) to `output` atomically;
    returns the number written."""
    from synthgen.io import open_stream_writer

    n = model.training_rows_ if rows is None else rows
    total = n if chunks is None or rows is not None else None
    if chunks is None:
        chunks = model.iter_sample(n, seed=seed, chunk_rows=chunk_rows)
    with (
        Progress("sampling", total=total, unit="rows", quiet=quiet) as bar,
        open_stream_writer(output, fmt, force) as writer,
    ):
        for chunk in chunks:
            writer.write(chunk)
            rate = writer.rows / max(bar.elapsed, 1e-9)
            bar.update(advance=len(chunk), extra=f"{rate:,.0f} rows/s")
            if writer.broken_pipe:
                break
        return writer.rows


def sample(
    model_file: Annotated[str, typer.Argument(help="A model file written by `synthgen fit`.")],
    rows: Rows = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file (.csv or .parquet), or - for stdout.")
    ] = "-",
    where: Where = None,
    balance: Balance = None,
    from_rows: FromRows = None,
    allow_unseen: AllowUnseen = False,
    seed: Seed = None,
    fmt: Format = None,
    chunk_rows: ChunkRows = 100_000,
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    force: Force = False,
    trust_pickle: TrustPickle = False,
    quiet: Quiet = False,
) -> None:
    import synthgen
    from synthgen.errors import SynthgenWarning, UsageError
    from synthgen.io import check_writable, output_format

    if rows is not None and rows < 0:
        raise UsageError("--rows must be 0 or more")
    if chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    if from_rows is not None and (where or balance or rows is not None):
        raise UsageError(
            "--from-rows gives the rows: it can't be combined with --where, --balance or -n"
        )
    output_format(output, fmt)
    check_writable(output, force, inputs=[model_file])
    model = synthgen.load(model_file, trust_pickle=trust_pickle)
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
            chunks = model.iter_fill(table, seed=seed, allow_unseen=allow_unseen)
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
        _warn(caught, quiet)
        written = write_sample(model, output, rows, seed, fmt, force, chunk_rows, quiet, chunks)
        _warn(caught[shown:], quiet)  # from later blocks of --from-rows
    if output != "-":
        status(f"wrote {written:,} synthetic rows to [bold]{output}[/]", quiet)


def _warn(caught: list, quiet: bool) -> None:
    from rich.markup import escape

    for warning in caught:
        status(f"[yellow]warning:[/] {escape(str(warning.message))}", quiet)


def _peeked(chunks: Iterator) -> Iterator:
    """The same chunks, the first one already made (so a bad condition fails before output)."""
    first = next(chunks, None)

    def gen() -> Iterator:
        if first is not None:
            yield first
        yield from chunks

    return gen()
