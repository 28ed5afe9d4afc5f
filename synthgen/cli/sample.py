"""`synthgen sample`: write synthetic rows from a model file, streamed in chunks."""

from __future__ import annotations

from typing import Annotated

import typer

from synthgen.cli.common import Force, Progress, Quiet, Seed, TrustPickle, example, status

HELP = "Sample synthetic rows from a model file to CSV or Parquet (- for stdout)." + example(
    "synthgen sample penguins.synthgen -n 1000 -o synthetic.csv"
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


def write_sample(
    model,
    output: str,
    rows: int | None,
    seed: int | None,
    fmt: str | None,
    force: bool,
    chunk_rows: int,
    quiet: bool,
) -> int:
    """Stream `rows` synthetic rows to `output` atomically; returns the number written."""
    from synthgen.io import open_stream_writer

    n = model.training_rows_ if rows is None else rows
    with (
        Progress("sampling", total=n, unit="rows", quiet=quiet) as bar,
        open_stream_writer(output, fmt, force) as writer,
    ):
        for chunk in model.iter_sample(n, seed=seed, chunk_rows=chunk_rows):
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
    seed: Seed = None,
    fmt: Format = None,
    chunk_rows: ChunkRows = 100_000,
    force: Force = False,
    trust_pickle: TrustPickle = False,
    quiet: Quiet = False,
) -> None:
    import synthgen
    from synthgen.errors import UsageError
    from synthgen.io import check_writable, output_format

    if rows is not None and rows < 0:
        raise UsageError("--rows must be 0 or more")
    if chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    output_format(output, fmt)
    check_writable(output, force)
    model = synthgen.load(model_file, trust_pickle=trust_pickle)
    written = write_sample(model, output, rows, seed, fmt, force, chunk_rows, quiet)
    if output != "-":
        status(f"wrote {written:,} synthetic rows to [bold]{output}[/]", quiet)
