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
    read,
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
):
    """Read, detect the schema, fit: what `fit` and `run` share. Returns (model, table)."""
    import synthgen
    from synthgen.models import model_class
    from synthgen.schema import Schema

    cls = model_class(model)  # fail on an unknown model before reading a big file
    table = read(data, na_values, encoding, delimiter)
    overrides = Schema.load(schema_file) if schema_file else None
    detected = synthgen.detect(table, overrides, decimal=decimal)
    try:
        synth = cls(**params)
    except TypeError:
        bad = ", ".join(f"--{k.replace('_', '-')}" for k in params)
        from synthgen.errors import UsageError

        raise UsageError(f"model {model!r} does not take {bad}") from None
    with Progress(f"fitting {model}", total=None, quiet=quiet) as bar:
        if hasattr(synth, "on_epoch"):
            synth.on_epoch = lambda epoch, total, losses: bar.update(
                completed=epoch,
                total=total,
                extra=" ".join(f"{k} {v:.3f}" for k, v in losses.items()),
            )
        synth.fit(table, detected, seed=seed)
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
    )
    synth, _ = fit_table(
        data, model, seed, schema_file, na_values, encoding, delimiter, params, quiet, decimal
    )
    synth.save(output, force=force)
    status(f"model written to [bold]{output}[/]", quiet)
