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
    out_console,
    read,
    silence_stdout,
    status,
)

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.models.base import Synthesizer
    from synthgen.report import Report
    from synthgen.schema import Schema

HELP = (
    "Report on a synthetic table against the real one: fidelity (SDMetrics-compatible score), "
    "mode collapse, privacy, the rules of the real table and, with --target, utility. Prints a "
    "summary; --json and --html write the full report. Gates: --fail-under SCORE, --fail-on "
    "collapse,privacy,rules exit with code 1 when not met; --fail-on privacy needs --holdout (a "
    "gate never passes on what was not checked)."
)
EXAMPLE = (
    "synthgen run sample_data/penguins.csv -d out --no-report && synthgen report "
    "sample_data/penguins.csv out/synthetic.csv --html report.html"
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
    from synthgen.errors import UsageError
    from synthgen.io import atomic_paths, check_writable
    from synthgen.modelfile import load
    from synthgen.report import check_gates
    from synthgen.schema import Schema, detect

    if fail_under is not None and not 0 <= fail_under <= 1:
        raise UsageError(f"--fail-under must be between 0 and 1 (got {fail_under:g})")
    check_gates(fail_on)
    files = {
        kind: Path(path)
        for kind, path in (("json", json_out), ("html", html))
        if path is not None and str(path) != "-"
    }
    if len(files) == 2 and _same(files["json"], files["html"]):
        raise UsageError(f"--json and --html both name {files['json']}; give each its own file")
    inputs = [p for p in (real, synth, holdout, model, schema_file) if p is not None]
    for path in files.values():
        check_writable(path, force, inputs=inputs)
    fitted = load(str(model), trust_pickle=trust_pickle) if model is not None else None
    real_table = read(str(real), na_values, encoding, delimiter, quiet)
    synth_table = read(str(synth), na_values, encoding, delimiter, quiet)
    holdout_table = read(str(holdout), na_values, encoding, delimiter, quiet) if holdout else None
    schema = fitted.schema_ if fitted is not None else None
    if schema_file is not None:
        schema = detect(real_table, Schema.load(schema_file), decimal=decimal)
    elif schema is None and decimal is not None:  # else the report detects it, as fit does
        schema = detect(real_table, decimal=decimal)
    built = build_report(
        real_table,
        synth_table,
        schema=schema,
        model=fitted,
        holdout=holdout_table,
        target=target,
        quiet=quiet,
    )
    with atomic_paths(list(files.values()), force) as temps:  # both files, or neither
        write_report(built, **dict(zip(files, temps)))
    show_report(built, [str(p) for p in files.values()], json_out == "-", quiet)
    built.check(fail_under, [fail_on])


def _same(a: Path, b: Path) -> bool:
    return a.absolute() == b.absolute() or (a.exists() and b.exists() and a.samefile(b))


def build_report(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    schema: Schema | None = None,
    model: Synthesizer | None = None,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    quiet: bool = False,
) -> Report:
    from synthgen.report import build

    status("building the report ...", quiet)
    return build(real, synth, schema=schema, holdout=holdout, target=target, model=model)


def write_report(built: Report, json: Path | None = None, html: Path | None = None) -> None:
    """The report's files, at paths already made safe to write (temp files of `atomic_paths`)."""
    if json is not None:
        json.write_text(built.to_json() + "\n", encoding="utf-8")
    if html is not None:
        html.write_text(built.to_html(), encoding="utf-8")


def show_report(built: Report, written: list[str], json_to_stdout: bool, quiet: bool) -> None:
    """The JSON on stdout when asked for, and the summary (on stderr when stdout carries the
    JSON). A reader of stdout that goes away (`| head`) stops the showing, not the command."""
    try:
        if json_to_stdout:
            typer.echo(built.to_json())
        if not quiet:
            built.render(err_console() if json_to_stdout else out_console(), written)
    except BrokenPipeError:
        silence_stdout()
