"""`synthgen schema`: print the detected schema as JSON, to edit and pass back with --schema."""

from __future__ import annotations

from typing import Annotated

import typer

from synthgen.cli.common import (
    DecimalMark,
    Delimiter,
    Encoding,
    Force,
    NaValues,
    caught_warnings,
    read,
)

HELP = (
    "Print the schema synthgen detects (column kinds, formats, bounds) as JSON; edit it and pass "
    "it back with `synthgen fit --schema FILE`."
)
EXAMPLE = "synthgen schema sample_data/penguins_raw.csv > schema.json"


def schema(
    data: Annotated[
        str, typer.Argument(help="The real table: CSV or Parquet path, or - for stdin.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = "-",
    na_values: NaValues = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: DecimalMark = None,
    force: Force = False,
) -> None:
    import sys
    from pathlib import Path

    from synthgen.io import atomic_path, check_writable
    from synthgen.schema import detect

    check_writable(output, force, inputs=[data])
    with caught_warnings(quiet=False):  # `warning:` lines on stderr, as every command writes
        table = read(data, na_values, encoding, delimiter)
        text = detect(table, decimal=decimal).to_json() + "\n"
    if output == "-":
        sys.stdout.write(text)
        return
    with atomic_path(output, force) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
