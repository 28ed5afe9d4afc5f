"""`synthgen fit`: learn a model of a table and save it as a model file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthgen.cli.common import (
    DecimalMark,
    Delimiter,
    Encoding,
    Force,
    NaValues,
    Progress,
    Quiet,
    Seed,
    display,
    example,
    read_sample,
    status,
)

HELP = "Fit a model to a real table (CSV or Parquet, - for stdin) and save it." + example(
    "synthgen fit sample_data/penguins.csv -o penguins.synthgen"
)

Model = Annotated[str, typer.Option("--model", "-m", help="Model name (see `synthgen models`).")]
RareThreshold = Annotated[
    int,
    typer.Option(
        "--rare-threshold",
        help="Categories seen in fewer rows than this are never written verbatim (0 = keep all).",
    ),
]
SchemaFile = Annotated[
    Path | None,
    typer.Option("--schema", help="A schema JSON (from `synthgen schema`, edited) to use."),
]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Training epochs (ctgan).")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Batch size (ctgan).")]
Device = Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda (ctgan).")]
Components = Annotated[
    int | None,
    typer.Option(
        "--components", help="Mixture components (gmm; default: chosen on held-out rows)."
    ),
]
EarlyStop = Annotated[
    bool | None,
    typer.Option("--early-stop/--no-early-stop", help="Stop when quality stops improving (ctgan)."),
]
MinLeaf = Annotated[
    int | None,
    typer.Option(
        "--min-leaf",
        help="Least real rows in a tree leaf (cart; default 50, a tenth of a smaller table).",
    ),
]
Smoothing = Annotated[
    float | None,
    typer.Option(
        "--smoothing",
        help="Noise on a number seen once in its tree leaf, in half-gaps to its nearest "
        "neighbour there; 0 = real values only (cart; default 1).",
    ),
]
AllowCopies = Annotated[
    bool | None,
    typer.Option(
        "--allow-copies/--no-allow-copies",
        help="Keep synthetic rows identical to a training row (cart; default: drawn again).",
    ),
]
Order = Annotated[
    str | None,
    typer.Option("--order", help="Columns to synthesise first, comma-separated (cart)."),
]
By = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="A categorical column you will condition on (--where, --balance): each of its "
        "classes gets a model of its own rows (gaussian-copula, gmm), or every training step "
        "is told the row's class (ctgan).",
    ),
]
#: Rows a model is fitted on at most; a bigger table is streamed and sampled uniformly.
DEFAULT_MAX_ROWS = 1_000_000
MaxRows = Annotated[
    int,
    typer.Option(
        "--max-rows",
        help="Fit on a uniform random sample of at most this many rows of a bigger table, read "
        "in one pass with bounded memory (null rates, category frequencies, bounds and the "
        "distributions of columns of few values still come from all rows).",
    ),
]


def default_model_path(data: str) -> str:
    return "model.synthgen" if data == "-" else f"{Path(data).stem}.synthgen"


def model_params(**given: object) -> dict[str, object]:
    """Only the options the user set, so each model keeps its own defaults."""
    return {k: v for k, v in given.items() if v is not None}


def fit_table(
    data: str,
    model: str,
    seed: int | None,
    schema_file: Path | None,
    na_values: list[str] | None,
    encoding: str | None,
    delimiter: str | None,
    params: dict[str, object],
    quiet: bool,
    decimal: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
):
    """Read (streaming, sampling at most `max_rows` rows), detect the schema, fit: what `fit`
    and `run` share. Returns (model, the rows fitted on)."""
    import synthgen
    from synthgen.errors import UsageError
    from synthgen.models import model_class
    from synthgen.models.base import new_seed
    from synthgen.schema import Schema
    from synthgen.stream import use_stream_stats

    if max_rows < 1:
        raise UsageError("--max-rows must be at least 1")
    cls = model_class(model)  # fail on an unknown model before reading a big file
    overrides = Schema.load(schema_file) if schema_file else None
    seed = new_seed() if seed is None else seed
    with Progress(f"reading {display(data)}", total=None, quiet=quiet):
        table, stream = read_sample(data, max_rows, seed, na_values, encoding, delimiter)
    detected = synthgen.detect(table, overrides, decimal=decimal)
    if stream.rows > len(table):
        counted = use_stream_stats(detected, stream, overrides)
        status(
            f"read {stream.rows:,} rows of {display(data)}: fitting on a uniform random sample "
            f"of {len(table):,} (--max-rows); null rates, category frequencies and the "
            f"distributions of {len(counted)} of {table.shape[1]} columns come from all rows",
            quiet,
        )
    try:
        synth = cls(**params)
    except TypeError:
        import inspect

        takes = inspect.signature(cls.__init__).parameters
        bad = [k for k in params if k not in takes] or list(params)
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in bad)
        raise UsageError(f"model {model!r} does not take {flags}") from None
    with Progress(f"fitting {model}", total=None, quiet=quiet) as bar:
        if hasattr(synth, "on_epoch"):
            synth.on_epoch = lambda epoch, total, losses: bar.update(
                completed=epoch,
                total=total,
                extra=" ".join(f"{k} {v:.3f}" for k, v in losses.items()),
            )
        synth.fit(table, detected, seed=seed, stream=stream)
        elapsed = bar.elapsed
    status(
        f"fitted [bold]{model}[/] on {len(table):,} rows x {table.shape[1]} columns "
        f"of {display(data)} in {elapsed:.1f} s",
        quiet,
    )
    suppressed = synth.encoder_.suppressed()
    if suppressed:
        parts = [
            f"{name} ({v.get('categories', v.get('words'))} rare "
            f"{'categories' if 'categories' in v else 'words'})"
            for name, v in suppressed.items()
        ]
        status(f"not written verbatim (rare): {', '.join(parts)}", quiet)
    return synth, table


def fit(
    data: Annotated[
        str, typer.Argument(help="The real table: CSV or Parquet path, or - for stdin.")
    ],
    model: Model = "gaussian-copula",
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Model file to write (default DATA.synthgen)."),
    ] = None,
    seed: Seed = None,
    schema_file: SchemaFile = None,
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: DecimalMark = None,
    rare_threshold: RareThreshold = 5,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    device: Device = None,
    early_stop: EarlyStop = None,
    components: Components = None,
    min_leaf: MinLeaf = None,
    smoothing: Smoothing = None,
    allow_copies: AllowCopies = None,
    order: Order = None,
    by: By = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    from synthgen.io import check_writable

    output = output or default_model_path(data)
    check_writable(output, force, inputs=[data])  # fail before a long fit, not after
    params = model_params(
        rare_threshold=rare_threshold,
        epochs=epochs,
        batch_size=batch_size,
        device=device,
        early_stop=early_stop,
        components=components,
        min_leaf=min_leaf,
        smoothing=smoothing,
        allow_copies=allow_copies,
        order=order,
        by=by,
    )
    synth, _ = fit_table(
        data,
        model,
        seed,
        schema_file,
        na_values,
        encoding,
        delimiter,
        params,
        quiet,
        decimal,
        max_rows,
    )
    synth.save(output, force=force)
    status(f"model written to [bold]{output}[/]", quiet)
