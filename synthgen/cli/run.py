"""`synthgen run`: fit, sample and report in one go, into one output folder."""

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
    Quiet,
    Seed,
    read,
    status,
)
from synthgen.cli.fit import (
    DEFAULT_MAX_ROWS,
    AllowCopies,
    BatchSize,
    By,
    Candidates,
    Components,
    Delta,
    Device,
    DomainShare,
    EarlyStop,
    Epochs,
    Epsilon,
    MaxRows,
    MinLeaf,
    Model,
    Order,
    RareThreshold,
    SchemaFile,
    Smoothing,
    SplitAlpha,
    fit_table,
    model_params,
)
from synthgen.cli.sample import write_sample

HELP = (
    "Fit, sample and report in one go: writes model.synthgen, synthetic.csv and the report "
    "(report.json, report.html) to the output folder, all of them or none: a failed or "
    "interrupted run leaves the folder as it was. Chooses the model (--model auto, see "
    "`synthgen fit --help`) unless --model names one; takes fit's model options."
)
EXAMPLE = "synthgen run sample_data/penguins.csv --output-dir out"


def run(
    data: Annotated[
        str, typer.Argument(help="The real table: CSV or Parquet path, or - for stdin.")
    ],
    model: Model = "auto",
    rows: Annotated[
        int | None,
        typer.Option("--rows", "-n", help="How many rows (default: as many as were read)."),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-d", help="Folder for the outputs (created if missing)."),
    ] = Path("synthgen-out"),
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
    split_alpha: SplitAlpha = None,
    allow_copies: AllowCopies = None,
    order: Order = None,
    by: By = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    domain_share: DomainShare = None,
    max_rows: MaxRows = DEFAULT_MAX_ROWS,
    candidates: Candidates = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write and show the quality report.")
    ] = True,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout",
            help="Share of the rows kept out of the fit, against which the report checks "
            "privacy (distances to the real rows, membership and attribute attacks); 0 fits "
            "every row and leaves privacy unchecked. Tables under 100 rows hold none out.",
        ),
    ] = 0.2,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    params = model_params(locals())
    import contextlib

    from synthgen.cli.report import build_report, show_report, write_report
    from synthgen.errors import OutputError
    from synthgen.io import atomic_paths, check_writable

    made = [p for p in (output_dir, *output_dir.parents) if not p.exists()]  # deepest first
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {output_dir}: {exc.strerror}") from None
    names = ["model.synthgen", "synthetic.csv"] + (["report.json", "report.html"] if report else [])
    paths = [output_dir / name for name in names]
    try:
        for path in paths:
            check_writable(path, force, inputs=[data])
        # every output is made in a temp file beside it, and all are put in place at the end
        with atomic_paths(paths, force) as temps:
            model_tmp, synthetic_tmp, *report_tmps = temps
            synth, table, held = fit_table(
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
                candidates,
                holdout=holdout if report else 0.0,
            )
            synth.save(str(model_tmp), force=True)
            if rows is None:  # as many rows as were read, the held-out ones too
                rows = len(table) + (0 if held is None else len(held))
            written = write_sample(
                synth, str(synthetic_tmp), rows, seed, "csv", True, 100_000, quiet
            )
            if report:
                synthetic = read(str(synthetic_tmp), None, None, None)
                built = build_report(
                    table,
                    synthetic,
                    schema=synth.schema_,
                    model=synth,
                    quiet=quiet,
                    holdout=held,
                )
                write_report(built, *report_tmps)
    except BaseException:
        for folder in made:  # the folders this run made, as they were: absent
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    status(f"wrote {written:,} synthetic rows to [bold]{paths[1]}[/]", quiet)
    if report:
        show_report(built, [str(p) for p in paths[2:]], False, quiet)
