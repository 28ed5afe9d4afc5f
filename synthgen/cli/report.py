"""`synthgen report`: how faithful, how varied and how private a synthetic table is, with gates
for pipelines (exit code 1 when one fails)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from synthgen.cli.common import (
    DecimalMark,
    Delimiter,
    Encoding,
    Force,
    NaValues,
    Quiet,
    TrustPickle,
    err_console,
    example,
    out_console,
    read,
    status,
)

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.models.base import Synthesizer
    from synthgen.schema import Schema

HELP = (
    "Report on a synthetic table against the real one: fidelity (SDMetrics-compatible score), "
    "mode collapse, privacy, the rules of the real table and, with --target, utility. Prints a "
    "summary; --json and --html write the full report. Gates: --fail-under SCORE, --fail-on "
    "collapse,privacy,rules exit with code 1 when not met."
    + example(
        "synthgen run sample_data/penguins.csv -d out && "
        "synthgen report sample_data/penguins.csv out/synthetic.csv --html report.html"
    )
)


def report(
    real: Annotated[
        Path, typer.Argument(help="The real table the model was trained on (CSV or Parquet).")
    ],
    synth: Annotated[Path, typer.Argument(help="The synthetic table (CSV or Parquet).")],
    holdout: Annotated[
        Path | None,
        typer.Option(
            "--holdout",
            help="Real rows the model never saw: the privacy baseline and the utility test set.",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="The model file: its schema is used, and what it suppressed is reported.",
        ),
    ] = None,
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="A schema JSON (from `synthgen schema`, edited): its columns and its rules "
            "are the ones checked (default: the model's, else detected on the real table).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help="A column to predict: adds train-on-synthetic / test-on-real utility."
        ),
    ] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the JSON report here (- for stdout).")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML report here (one file).")
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", help="Exit 1 when the quality score is below this (0-1)."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 on these verdicts, comma separated: collapse "
            "(mode collapse 'collapsed'), privacy (privacy 'fail'), rules (rules 'fail': "
            "synthetic rows break a rule of the real table).",
        ),
    ] = "",
    quiet: Quiet = False,
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: DecimalMark = None,
    force: Force = False,
    trust_pickle: TrustPickle = False,
) -> None:
    import synthgen
    from synthgen.errors import UsageError
    from synthgen.io import check_writable
    from synthgen.report import check_gates

    if fail_under is not None and not 0 <= fail_under <= 1:
        raise UsageError(f"--fail-under must be between 0 and 1 (got {fail_under:g})")
    check_gates(fail_on)
    inputs = [p for p in (real, synth, holdout, model, schema_file) if p is not None]
    for path in (json_out, html):
        if path is not None and str(path) != "-":
            check_writable(Path(path), force, inputs=inputs)
    fitted = synthgen.load(str(model), trust_pickle=trust_pickle) if model is not None else None
    real_table = read(str(real), na_values, encoding, delimiter)
    synth_table = read(str(synth), na_values, encoding, delimiter)
    holdout_table = read(str(holdout), na_values, encoding, delimiter) if holdout else None
    schema = fitted.schema_ if fitted is not None else None
    if schema_file is not None:
        from synthgen.schema import Schema

        schema = synthgen.detect(real_table, Schema.load(schema_file), decimal=decimal)
    elif schema is None and decimal is not None:  # else the report detects it, as fit does
        schema = synthgen.detect(real_table, decimal=decimal)
    build_and_write(
        real_table,
        synth_table,
        schema=schema,
        model=fitted,
        holdout=holdout_table,
        target=target,
        json_out=json_out,
        html_out=str(html) if html is not None else None,
        force=force,
        quiet=quiet,
        fail_under=fail_under,
        fail_on=fail_on,
    )


def build_and_write(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    schema: Schema | None = None,
    model: Synthesizer | None = None,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    json_out: str | None = None,
    html_out: str | None = None,
    force: bool = False,
    quiet: bool = False,
    fail_under: float | None = None,
    fail_on: str = "",
) -> None:
    """Build the report, write its files atomically, print the summary, then apply the gates
    (raising `GateFailed` after everything is written)."""
    from synthgen.io import atomic_path
    from synthgen.report import build

    if not quiet:
        status("building the report ...")
    built = build(real, synth, schema=schema, holdout=holdout, target=target, model=model)
    written = []
    if json_out == "-":
        typer.echo(built.to_json())
    elif json_out is not None:
        with atomic_path(json_out, force) as tmp:
            tmp.write_text(built.to_json() + "\n", encoding="utf-8")
        written.append(json_out)
    if html_out is not None:
        with atomic_path(html_out, force) as tmp:
            tmp.write_text(built.to_html(), encoding="utf-8")
        written.append(html_out)
    if not quiet:
        # stdout carries the JSON when asked for it there
        console = err_console() if json_out == "-" else out_console()
        built.render(console, written)
    built.check(fail_under, [fail_on])
