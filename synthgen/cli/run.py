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
    example,
    read,
    status,
)
from synthgen.cli.fit import Model, RareThreshold, SchemaFile, fit_table, model_params
from synthgen.cli.sample import Rows, write_sample

HELP = (
    "Fit, sample and report in one go: writes model.synthgen, synthetic.csv and the report "
    "(report.json, report.html) to the output folder."
    + example("synthgen run sample_data/penguins.csv --output-dir out")
)


def run(
    data: Annotated[
        str, typer.Argument(help="The real table: CSV or Parquet path, or - for stdin.")
    ],
    model: Model = "gaussian-copula",
    rows: Rows = None,
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
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write and show the quality report.")
    ] = True,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    from synthgen.errors import OutputError
    from synthgen.io import check_writable

    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {output_dir}: {exc.strerror}") from None
    paths = {
        "model": output_dir / "model.synthgen",
        "synthetic": output_dir / "synthetic.csv",
        "json": output_dir / "report.json",
        "html": output_dir / "report.html",
    }
    for path in paths.values():
        check_writable(path, force, inputs=[data])
    synth, table = fit_table(
        data,
        model,
        seed,
        schema_file,
        na_values,
        encoding,
        delimiter,
        model_params(rare_threshold=rare_threshold),
        quiet,
        decimal,
    )
    synth.save(str(paths["model"]), force=force)
    written = write_sample(synth, str(paths["synthetic"]), rows, seed, None, force, 100_000, quiet)
    status(f"wrote {written:,} synthetic rows to [bold]{paths['synthetic']}[/]", quiet)
    if report:
        from synthgen.cli.report import build_and_write

        synthetic = read(str(paths["synthetic"]), None, None, None)
        build_and_write(
            table,
            synthetic,
            schema=synth.schema_,
            model=synth,
            json_out=str(paths["json"]),
            html_out=str(paths["html"]),
            force=force,
            quiet=quiet,
        )
